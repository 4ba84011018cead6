"""`python runner.py serve`: run every workbook's full pass on schedule, for months, unattended.

What it promises, and how:
- runs at the configured local times in the configured zone (addon.service.scheduling decides; the
  `schedule` library only ticks the loop), on working days with the holiday calendar;
- a slot missed while the machine slept or the service was down is caught up once, never repeated
  (the last slot done per workbook is kept in the status file);
- one workbook's failure never stops another or the service; transient failures (source unavailable,
  network) are retried with backoff within the slot; a streak of failures mails the admin once;
- one instance per state directory (OS lock), one pass per workbook at a time (run lock shared with
  `run`);
- SIGTERM/SIGINT stop it within seconds: between passes at once; during a pass after a short grace,
  abandoning it with KeyboardInterrupt semantics so the writer discards its temp file (workbooks are
  replaced atomically, never left half-written);
- a heartbeat and per-workbook outcomes in `state_dir/status.json` for `status` to judge.
"""

from __future__ import annotations

import _thread
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import schedule as schedule_lib

from addon import pipeline
from addon.backends.base import SourceUnavailable
from addon.config import Config, ConfigError, Invalid, Problem
from addon.i18n import text
from addon.service import alerts
from addon.service.health import StatusBoard, iso, parse_time, status_path
from addon.service.lock import AlreadyRunning, service_lock, workbook_lock
from addon.service.logs import log_path, setup_logging, teardown_logging
from addon.service.scheduling import Plan, Slot, describe, due_slot, next_slot, previous_slot, retry_delay

log = logging.getLogger("addon.service")

EXIT_INTERNAL = 70  # an unexpected exception inside a pass (a bug): logged with its traceback, not retried

Runner = Callable[[Config], pipeline.RunResult]
Clock = Callable[[], datetime]


class ServiceStopping(KeyboardInterrupt):
    """Raised in the main thread to abandon a pass when the stop grace period is over.

    A KeyboardInterrupt, so every `except BaseException`/`finally` cleanup on the way (the writer's
    temp file, the ledger's transaction) runs exactly as for Ctrl-C.
    """


_LOG = {
    "started": ("服务已启动（pid {pid}），{count} 个工作簿，状态目录 {state}", "service started (pid {pid}), {count} workbook(s), state {state}"),
    "plan": ("工作簿 {name}：{plan}；下次运行 {next}", "workbook {name}: {plan}; next run {next}"),
    "catch_up": ("工作簿 {name}：补跑错过的 {slot}（只补一次）", "workbook {name}: catching up missed slot {slot} (once)"),
    "ok": ("工作簿 {name}：完成（{slot}），退出码 {code}，用时 {seconds} 秒", "workbook {name}: done ({slot}), exit code {code}, {seconds} s"),
    "retry": ("工作簿 {name}：第 {attempt} 次尝试失败（{error}）；{delay:.0f} 秒后重试", "workbook {name}: attempt {attempt} failed ({error}); retrying in {delay:.0f} s"),
    "failed": ("工作簿 {name}：运行失败（{slot}，退出码 {code}）：{error}；连续失败 {count} 次",
               "workbook {name}: run failed ({slot}, exit code {code}): {error}; {count} failure(s) in a row"),
    "stopping": ("收到停止信号，正在停止…", "stop signal received; stopping…"),
    "abandon": ("停止宽限期已过，放弃工作簿 {name} 的本次运行（不会留下写了一半的文件）",
                "stop grace period over; abandoning the pass on {name} (no half-written file is left)"),
    "stopped": ("服务已停止", "service stopped"),
}


def _msg(locale: str, key: str, **params: Any) -> str:
    return _LOG[key][0 if locale.lower().startswith("zh") else 1].format(**params)


@dataclass
class Job:
    """One workbook as the scheduler sees it."""

    name: str
    config: Config | None  # None when its `workbooks:` overrides are invalid (reported at each slot)
    problem: str | None
    source: str
    plan: Plan
    last_done: datetime | None = None  # instant of the last slot finished (success or final failure)
    next: Slot | None = None
    retry_slot: Slot | None = None
    retry_attempt: int = 0
    retry_at: datetime | None = None
    consecutive_failures: int = 0
    alerted: bool = False
    last_success: str | None = None


@dataclass
class Attempt:
    outcome: str
    exit_code: int
    message: str = ""
    summary: dict[str, Any] | None = None
    transient: bool = False

    @property
    def succeeded(self) -> bool:
        return self.exit_code in (pipeline.EXIT_OK, pipeline.EXIT_DATA)


def _source_label(config: Config) -> str:
    source = config.source
    return str(config.path(source.excel)) if source.excel is not None else f"google:{source.google}"


def workbook_configs(config: Config) -> list[tuple[str, Config | None, str | None, str]]:
    """(name, merged config or None, problem, source label) for each workbook the service runs."""
    if not config.workbooks:
        source = config.source
        name = Path(source.excel).stem if source.excel is not None else str(source.google)
        return [(name, config, None, _source_label(config))]
    out: list[tuple[str, Config | None, str | None, str]] = []
    seen: dict[str, int] = {}
    for entry in config.workbooks:
        name = entry.name
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} #{seen[name]}"
        try:
            merged: Config | None = config.for_workbook(entry)
            problem = None
            label = _source_label(merged)  # type: ignore[arg-type]
        except ConfigError as error:
            merged, problem = None, str(error)
            src = entry.source
            label = str(config.path(src.excel)) if src.excel is not None else f"google:{src.google}"
        out.append((name, merged, problem, label))
    return out


def default_runner(config: Config) -> pipeline.RunResult:
    """One full pass under the workbook's run lock (a concurrent `run` on it is a transient failure)."""
    with workbook_lock(config):
        return pipeline.run(config, mode="serve", progress=lambda m: log.debug("%s", m))


class Service:
    """The scheduling state machine; `check()` is one step, `loop()` repeats it until stopped."""

    def __init__(
        self,
        config: Config,
        *,
        runner: Runner = default_runner,
        clock: Clock | None = None,
        heartbeat_seconds: float | None = None,
        stop_grace: float = 3.0,
        retry_base: float = 30.0,
        send_alert: Callable[[Config, str, dict[str, Any]], bool] = alerts.send_alert,
    ) -> None:
        self.config = config
        self.locale = config.service_locale
        self.runner = runner
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        every = config.schedule.every
        default_beat = min(30.0, max(1.0, every.total_seconds() / 2)) if every else 30.0
        self.heartbeat_seconds = heartbeat_seconds or default_beat
        self.stop_grace = stop_grace
        self.retry_base = retry_base
        self.send_alert = send_alert
        self.stop = threading.Event()
        self.in_pass: str | None = None
        self.last_tick = time.monotonic()
        self.jobs: list[Job] = []
        self.board: StatusBoard | None = None
        self._abandon_timer: threading.Timer | None = None

    # --- set-up ---------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Build the jobs, restore what the last service knew, and decide the first slot of each."""
        try:
            top_plan = Plan.from_config(self.config)
        except Invalid as error:
            raise ConfigError(list(error.problems), Problem("config", "配置"), locale=self.locale) from None
        self.board = StatusBoard(
            status_path(self.config), self.config.zone, heartbeat_every=self.heartbeat_seconds,
            schedule=describe(top_plan, self.locale), log_file=str(log_path(self.config)),
        )
        now = self.clock()
        for name, merged, problem, label in workbook_configs(self.config):
            plan = top_plan
            if merged is not None:
                try:
                    plan = Plan.from_config(merged)
                except ValueError as error:  # reported at each slot, like any invalid workbook entry
                    merged, problem = None, f"workbooks[{name}].schedule: {error}"
            job = Job(name=name, config=merged, problem=problem, source=label, plan=plan)
            previous = self.board.previous(name)
            job.last_done = parse_time(previous.get("last_slot_at"))
            job.consecutive_failures = int(previous.get("consecutive_failures") or 0)
            job.alerted = bool(previous.get("alerted"))
            job.last_success = previous.get("last_success")
            missed = due_slot(plan, now, job.last_done)
            if missed is not None:
                job.next = missed  # due now: caught up once on the first check
                log.info(_msg(self.locale, "catch_up", name=name, slot=missed.key))
            if job.next is None:
                job.next = next_slot(plan, now)
            self.jobs.append(job)
            self._publish(job, schedule=describe(plan, self.locale), source=label)
            log.info(_msg(self.locale, "plan", name=name, plan=describe(plan, self.locale), next=self._local(job.next)))
        self.board.keep_only([j.name for j in self.jobs])

    def _local(self, slot: Slot | datetime | None) -> str:
        if slot is None:
            return "—"
        moment = slot.at if isinstance(slot, Slot) else slot
        return moment.astimezone(self.config.zone).strftime("%Y-%m-%d %H:%M:%S")

    def _publish(self, job: Job, **fields: Any) -> None:
        assert self.board is not None
        zone = (job.config or self.config).zone
        self.board.update(
            job.name,
            next_run=iso(job.next.at, zone) if job.next else None,
            retry_at=iso(job.retry_at, zone) if job.retry_at else None,
            consecutive_failures=job.consecutive_failures,
            alerted=job.alerted,
            last_success=job.last_success,
            last_slot_at=iso(job.last_done, UTC) if job.last_done else None,
            **fields,
        )

    # --- one scheduling step ----------------------------------------------------------------------
    def check(self) -> None:
        """Run whatever is due now: pending retries first, then slots that have come."""
        for job in self.jobs:
            if self.stop.is_set():
                return
            now = self.clock()
            if job.retry_slot is not None:
                if job.retry_at is not None and now >= job.retry_at:
                    self._attempt(job, job.retry_slot, job.retry_attempt)
                continue
            if job.next is not None and now >= job.next.at:
                slot = previous_slot(job.plan, now) or job.next  # several slots passed: run once, for the latest
                self._attempt(job, slot, 1)

    def _run_pass(self, job: Job) -> Attempt:
        if job.config is None:
            return Attempt("config_error", pipeline.EXIT_CONFIG, job.problem or "invalid workbook configuration")
        self.in_pass = job.name
        try:
            result = self.runner(job.config)
        except ServiceStopping:
            raise
        except ConfigError as error:
            return Attempt("config_error", pipeline.EXIT_CONFIG, str(error).replace("\n", " "))
        except (SourceUnavailable, OSError) as error:  # locked, missing, unreachable, network: may pass later
            return Attempt("source_unavailable", pipeline.EXIT_SOURCE, str(error) or type(error).__name__, transient=True)
        except Exception as error:  # noqa: BLE001 - a bug in one pass must not stop the service
            log.exception("workbook %s: unexpected error", job.name)
            return Attempt("crashed", EXIT_INTERNAL, f"{type(error).__name__}: {error}")
        finally:
            self.in_pass = None
        code = result.exit_code
        if code == pipeline.EXIT_UNDELIVERED:  # the sheet is updated; a failure all the same, so the administrator hears of it
            message = text(pipeline.RUN_OUTCOMES, self.locale, "not_delivered", n=result.undelivered)
            return Attempt("not_delivered", code, message, result.summary())
        return Attempt("ok" if code == pipeline.EXIT_OK else "data_errors", code, "", result.summary())

    def _attempt(self, job: Job, slot: Slot, attempt: int) -> None:
        assert self.board is not None
        started = self.clock()
        zone = (job.config or self.config).zone
        try:
            with self.board.running(job.name, slot.key):
                outcome = self._run_pass(job)
        except ServiceStopping:
            log.warning(_msg(self.locale, "abandon", name=job.name))
            self.board.update(job.name, last_run={
                "slot": slot.key, "started": iso(started, zone), "finished": iso(self.clock(), zone),
                "outcome": "abandoned", "exit_code": None, "message": "service stopping", "attempts": attempt,
            })
            raise
        finished = self.clock()
        record = {
            "slot": slot.key,
            "slot_at": iso(slot.at, zone),
            "started": iso(started, zone),
            "finished": iso(finished, zone),
            "outcome": outcome.outcome,
            "exit_code": outcome.exit_code,
            "message": outcome.message,
            "summary": outcome.summary,
            "attempts": attempt,
        }
        if outcome.succeeded:
            seconds = round((finished - started).total_seconds(), 1)
            log.info(_msg(self.locale, "ok", name=job.name, slot=slot.key, code=outcome.exit_code, seconds=seconds))
            job.consecutive_failures, job.alerted, job.last_success = 0, False, iso(finished, zone)
            self._finish(job, slot, record)
            return
        if outcome.transient and attempt <= (job.config or self.config).schedule.retries and not self.stop.is_set():
            delay = retry_delay(attempt, base=self.retry_base)
            retry_at = finished + timedelta(seconds=delay)
            following = next_slot(job.plan, slot.at)
            if following is None or retry_at < following.at:
                log.warning(_msg(self.locale, "retry", name=job.name, attempt=attempt, error=outcome.message, delay=delay))
                job.retry_slot, job.retry_attempt, job.retry_at = slot, attempt + 1, retry_at
                self._publish(job, last_run=record)
                return
        job.consecutive_failures += 1
        log.error(_msg(self.locale, "failed", name=job.name, slot=slot.key, code=outcome.exit_code,
                       error=outcome.message, count=job.consecutive_failures))
        self._finish(job, slot, record)
        threshold = (job.config or self.config).schedule.alert_after_failures
        if job.consecutive_failures >= threshold and not job.alerted:
            entry = self.board.previous(job.name)
            job.alerted = bool(self.send_alert(job.config or self.config, job.name, entry))
            self._publish(job)

    def _finish(self, job: Job, slot: Slot, record: dict[str, Any]) -> None:
        """The slot is done (succeeded, or failed after its retries): never run it again."""
        job.last_done = slot.at
        job.retry_slot, job.retry_attempt, job.retry_at = None, 0, None
        job.next = next_slot(job.plan, slot.at)
        self._publish(job, last_run=record)

    # --- the loop ---------------------------------------------------------------------------------
    def loop(self, tick: float = 0.5) -> None:
        """Tick with the `schedule` library until stopped; nothing raised by a step ends the loop."""
        scheduler = schedule_lib.Scheduler()
        scheduler.every(tick).seconds.do(self._safe_check)
        self._safe_check()
        while not self.stop.is_set():
            scheduler.run_pending()
            self.last_tick = time.monotonic()
            idle = scheduler.idle_seconds
            self.stop.wait(max(0.05, min(tick, idle if idle is not None else tick)))

    def _safe_check(self) -> None:
        try:
            self.check()
        except ServiceStopping:
            raise
        except Exception:  # noqa: BLE001 - the service outlives its own bugs; the log says what happened
            log.exception("scheduler step failed; continuing")
            self.stop.wait(1.0)

    def heartbeat(self) -> None:
        """Beat while the loop is alive (or a pass is in progress, which status shows with its start)."""
        assert self.board is not None
        while not self.stop.wait(self.heartbeat_seconds):
            if self.in_pass is not None or time.monotonic() - self.last_tick < 3 * self.heartbeat_seconds:
                try:
                    self.board.beat()
                except OSError as error:
                    log.error("cannot write the status file: %s", error)

    # --- stopping ---------------------------------------------------------------------------------
    def request_stop(self, signum: int | None = None, frame: object = None) -> None:
        """Signal handler: stop between passes at once; abandon a running pass after the grace period."""
        if self.stop.is_set():
            if self.in_pass is not None:
                raise ServiceStopping()
            return
        self.stop.set()  # no logging here: a handler interrupting a log call must not re-enter it
        if self.in_pass is not None and self._abandon_timer is None:
            self._abandon_timer = threading.Timer(self.stop_grace, self._interrupt_main)
            self._abandon_timer.daemon = True
            self._abandon_timer.start()

    def _interrupt_main(self) -> None:
        if self.in_pass is None:
            return
        if hasattr(signal, "pthread_kill"):
            # A real signal interrupts a blocking system call (socket read) in the main thread.
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # type: ignore[arg-type]
        else:
            _thread.interrupt_main()


def _install_signals(service: Service) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for name in ("SIGTERM", "SIGINT", "SIGBREAK", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            previous[signum] = signal.signal(signum, service.request_stop)
        except (OSError, ValueError):
            pass
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        try:
            signal.signal(signum, handler)
        except (OSError, ValueError, TypeError):
            pass


def serve(config: Config, verbose: bool = False, **options: Any) -> int:
    """Run the service until SIGTERM/SIGINT. 0 after a clean stop, 3 if another instance runs, 2 if the state folder is unusable."""
    zh = config.service_locale.lower().startswith("zh")
    try:
        config.state_path.mkdir(parents=True, exist_ok=True)
        lock = service_lock(config.state_path, config.service_locale)
    except AlreadyRunning as error:
        print(str(error), file=sys.stderr, flush=True)
        return pipeline.EXIT_SOURCE
    except (OSError, SourceUnavailable) as error:
        reason = getattr(error, "strerror", None) or str(error)
        print((f"无法使用状态目录 {config.state_path}：{reason}；检查 state_dir 和权限" if zh
               else f"cannot use the state directory {config.state_path}: {reason}; check state_dir and permissions"),
              file=sys.stderr, flush=True)
        return pipeline.EXIT_CONFIG
    with lock:
        handlers = setup_logging(config, verbose=verbose, extra_configs=[c for _, c, _, _ in workbook_configs(config) if c])
        try:
            return _serve_locked(config, options)
        finally:
            teardown_logging(handlers)


def _serve_locked(config: Config, options: dict[str, Any]) -> int:
    service = Service(config, **options)
    previous = _install_signals(service)
    beat: threading.Thread | None = None
    try:
        service.prepare()
        assert service.board is not None
        service.board.set_state("running")
        log.info(_msg(service.locale, "started", pid=service.board.doc["pid"], count=len(service.jobs), state=config.state_path))
        beat = threading.Thread(target=service.heartbeat, name="heartbeat", daemon=True)
        beat.start()
        try:
            service.loop()
        except KeyboardInterrupt:  # ServiceStopping, or Ctrl-C before the handler was installed
            pass
        log.info(_msg(service.locale, "stopping"))
        return pipeline.EXIT_OK
    finally:
        service.stop.set()
        if service._abandon_timer is not None:
            service._abandon_timer.cancel()
        if beat is not None:
            beat.join(timeout=2)
        _restore_signals(previous)
        if service.board is not None:
            try:
                service.board.set_state("stopped")
            except OSError as error:
                log.error("cannot write the status file: %s", error)
        log.info(_msg(service.locale, "stopped"))
