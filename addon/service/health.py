"""The service's health: a status file the service keeps current, and `status` that reads it honestly.

A scheduler that quietly stops is the failure that matters, so the status file carries a heartbeat and
the pid, and `status` does not trust the file's own "running": it reports *stale* when the heartbeat is
older than the service promised, and *not running* when the process is gone. The file is replaced
atomically, so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from addon.config import Config

STATUS_FILE = "status.json"
STATUS_VERSION = 1
STUCK_AFTER = timedelta(minutes=30)  # a single pass running longer than this is shown as possibly stuck


def status_path(config: Config) -> Path:
    return config.state_path / STATUS_FILE


def read_status(path: Path) -> dict[str, Any] | None:
    """The status document, or None if missing or unreadable (a torn write cannot happen: see write_status)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_status(path: Path, doc: dict[str, Any]) -> None:
    """Write to a temp file in the same folder, then replace: readers see the old or the new file, whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".status-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, ensure_ascii=False, indent=2, default=str)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def iso(moment: datetime | None, zone: ZoneInfo | None = None) -> str | None:
    if moment is None:
        return None
    if zone is not None:
        moment = moment.astimezone(zone)
    return moment.isoformat(timespec="seconds")


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.astimezone()


class StatusBoard:
    """The service's view of its own health, flushed to the status file on every change.

    Thread-safe: the heartbeat thread and the main loop both update it.
    """

    def __init__(self, path: Path, zone: ZoneInfo, *, heartbeat_every: float, schedule: str, log_file: str) -> None:
        self.path = Path(path)
        self.zone = zone
        self._lock = threading.RLock()
        previous = read_status(self.path) or {}
        workbooks = previous.get("workbooks") if isinstance(previous.get("workbooks"), dict) else {}
        now = datetime.now(zone)
        self.doc: dict[str, Any] = {
            "version": STATUS_VERSION,
            "state": "running",
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": iso(now),
            "heartbeat": iso(now),
            "heartbeat_every": heartbeat_every,
            "stopped": None,
            "schedule": schedule,
            "timezone": zone.key,
            "log_file": log_file,
            "running": None,
            "workbooks": workbooks,
        }

    def previous(self, name: str) -> dict[str, Any]:
        """What the last service knew about a workbook (for catch-up and failure counts)."""
        with self._lock:
            entry = self.doc["workbooks"].get(name)
            return dict(entry) if isinstance(entry, dict) else {}

    def flush(self) -> None:
        with self._lock:
            write_status(self.path, self.doc)

    def update(self, name: str, **fields: Any) -> None:
        with self._lock:
            entry = self.doc["workbooks"].setdefault(name, {})
            entry.update(fields)
            self.flush()

    def keep_only(self, names: list[str]) -> None:
        """Forget workbooks no longer configured, so status does not report ghosts."""
        with self._lock:
            self.doc["workbooks"] = {n: self.doc["workbooks"].get(n, {}) for n in names}
            self.flush()

    def beat(self) -> None:
        with self._lock:
            self.doc["heartbeat"] = iso(datetime.now(self.zone))
            self.flush()

    @contextmanager
    def running(self, name: str, slot: str) -> Iterator[None]:
        with self._lock:
            self.doc["running"] = {"workbook": name, "slot": slot, "since": iso(datetime.now(self.zone))}
            self.flush()
        try:
            yield
        finally:
            with self._lock:
                self.doc["running"] = None
                self.flush()

    def set_state(self, state: str) -> None:
        with self._lock:
            self.doc["state"] = state
            now = iso(datetime.now(self.zone))
            self.doc["heartbeat"] = now
            if state == "stopped":
                self.doc["stopped"] = now
            self.flush()


# --- reading it back ---------------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    """Is a process with this pid running on this machine?"""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def assess(doc: dict[str, Any] | None, now: datetime | None = None) -> dict[str, Any]:
    """The verdict on a status document: state (running/stale/dead/stopped/missing), healthy, reasons."""
    if doc is None:
        return {"state": "missing", "healthy": False, "reasons": ["no_status"]}
    now = now or datetime.now().astimezone()
    reasons: list[str] = []
    state = str(doc.get("state") or "running")
    heartbeat = parse_time(doc.get("heartbeat"))
    every = float(doc.get("heartbeat_every") or 30)
    age = (now - heartbeat).total_seconds() if heartbeat else None
    same_host = doc.get("host") in (None, socket.gethostname())
    pid = int(doc.get("pid") or 0)
    if state == "stopped":
        verdict = "stopped"
    elif same_host and not pid_alive(pid):
        verdict, reasons = "dead", ["pid_gone"]
    elif age is None or age > 3 * every + 5:
        verdict, reasons = "stale", ["heartbeat_old"]
    else:
        verdict = "running"
    running = doc.get("running") or None
    if verdict == "running" and isinstance(running, dict):
        since = parse_time(running.get("since"))
        if since and now - since > STUCK_AFTER:
            reasons.append("pass_stuck")
    failing = sorted(name for name, wb in (doc.get("workbooks") or {}).items() if int((wb or {}).get("consecutive_failures") or 0) > 0)
    if failing:
        reasons.append("workbook_failing")
    healthy = verdict == "running" and not reasons
    return {"state": verdict, "healthy": healthy, "reasons": reasons, "heartbeat_age": age, "failing": failing}


_TEXT = {
    "title": ("跟进助手服务", "Follow-up Add-on service"),
    "missing": ("从未在此状态目录运行过（没有 {path}）。用 `python runner.py serve` 启动。",
                "has never run with this state directory (no {path}). Start it with `python runner.py serve`."),
    "running": ("运行中", "running"),
    "stopped": ("已停止", "stopped"),
    "stale": ("无响应（心跳过期）", "STALE (heartbeat too old)"),
    "dead": ("未运行（进程已不存在）", "NOT RUNNING (process is gone)"),
    "pid_line": ("  进程 {pid}，主机 {host}，启动于 {started}", "  pid {pid} on {host}, started {started}"),
    "heartbeat": ("  心跳：{when}（{age}前；应每 {every} 秒一次）", "  heartbeat: {when} ({age} ago; expected every {every} s)"),
    "stopped_at": ("  停止于 {when}", "  stopped at {when}"),
    "dead_hint": ("  服务在未正常退出的情况下结束（崩溃或被强制结束）。查看日志，然后重新启动服务。",
                  "  The service ended without a clean stop (crashed or killed). Check the log, then restart it."),
    "stale_hint": ("  进程还在但已不再工作（可能卡住或机器休眠）。查看日志；必要时重启服务。",
                   "  The process exists but has stopped working (stuck, or the machine slept). Check the log; restart if needed."),
    "schedule": ("  日程：{text}", "  schedule: {text}"),
    "log": ("  日志：{path}", "  log: {path}"),
    "running_now": ("  正在处理：{name}（自 {since}）", "  running now: {name} (since {since})"),
    "stuck": ("  ⚠ 本次处理已超过 {minutes} 分钟，可能卡住", "  ⚠ this pass has run for over {minutes} minutes; it may be stuck"),
    "workbook": ("工作簿 {name}：{source}", "Workbook {name}: {source}"),
    "never": ("    尚未运行", "    not run yet"),
    "last": ("    上次运行：{when} {mark} {outcome}（退出码 {code}，第 {attempts} 次尝试）",
             "    last run: {when} {mark} {outcome} (exit code {code}, attempt {attempts})"),
    "summary": ("    客户 {customers}，数据错误 {errors}，需跟进 {overdue}，提醒 {messages}",
                "    customers: {customers}, data errors: {errors}, needing contact: {overdue}, messages: {messages}"),
    "message": ("    原因：{text}", "    reason: {text}"),
    "failures": ("    连续失败：{count} 次{alerted}", "    consecutive failures: {count}{alerted}"),
    "alerted": ("（已通知管理员）", " (administrator alerted)"),
    "last_ok": ("    上次成功：{when}", "    last success: {when}"),
    "retry": ("    将于 {when} 重试", "    retry at {when}"),
    "next": ("    下次运行：{when}", "    next run: {when}"),
}

OUTCOMES = {
    "ok": ("成功", "ok"),
    "data_errors": ("完成，但数据有错误", "done, with data errors"),
    "not_delivered": ("已更新表格，但有提醒未送达", "sheet updated, but reminders not delivered"),
    "config_error": ("配置错误", "configuration error"),
    "source_unavailable": ("数据源不可用", "source unavailable"),
    "crashed": ("内部错误", "internal error"),
    "abandoned": ("因服务停止而放弃", "abandoned: service stopping"),
}


def _t(locale: str, key: str, **params: Any) -> str:
    pair = _TEXT[key]
    return pair[0 if locale.lower().startswith("zh") else 1].format(**params)


def outcome_label(outcome: str, locale: str) -> str:
    pair = OUTCOMES.get(outcome)
    return pair[0 if locale.lower().startswith("zh") else 1] if pair else outcome


def _when(value: Any, zone: ZoneInfo) -> str:
    moment = parse_time(value)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


def _age(seconds: float | None, locale: str) -> str:
    if seconds is None:
        return "?"
    seconds = max(0, int(seconds))
    zh = locale.lower().startswith("zh")
    if seconds < 120:
        return f"{seconds} 秒" if zh else f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} 分钟" if zh else f"{seconds // 60} min"
    return f"{seconds // 3600} 小时" if zh else f"{seconds // 3600} h"


def render_status(doc: dict[str, Any] | None, verdict: dict[str, Any], config: Config) -> str:
    """The human report, in the configured language."""
    loc, zone = config.service_locale, config.zone
    if doc is None:
        colon = "：" if loc.lower().startswith("zh") else ": "
        return _t(loc, "title") + colon + _t(loc, "missing", path=status_path(config))
    colon = "：" if loc.lower().startswith("zh") else ": "
    lines = [f"{_t(loc, 'title')}{colon}{_t(loc, verdict['state'])}"]
    lines.append(_t(loc, "pid_line", pid=doc.get("pid"), host=doc.get("host"), started=_when(doc.get("started"), zone)))
    if verdict["state"] == "stopped":
        lines.append(_t(loc, "stopped_at", when=_when(doc.get("stopped"), zone)))
    else:
        lines.append(_t(loc, "heartbeat", when=_when(doc.get("heartbeat"), zone), age=_age(verdict.get("heartbeat_age"), loc),
                        every=f"{float(doc.get('heartbeat_every') or 30):g}"))
    if verdict["state"] == "dead":
        lines.append(_t(loc, "dead_hint"))
    if verdict["state"] == "stale":
        lines.append(_t(loc, "stale_hint"))
    if doc.get("schedule"):
        lines.append(_t(loc, "schedule", text=doc["schedule"]))
    if doc.get("log_file"):
        lines.append(_t(loc, "log", path=doc["log_file"]))
    running = doc.get("running")
    if isinstance(running, dict) and verdict["state"] == "running":
        lines.append(_t(loc, "running_now", name=running.get("workbook"), since=_when(running.get("since"), zone)))
        if "pass_stuck" in verdict["reasons"]:
            lines.append(_t(loc, "stuck", minutes=int(STUCK_AFTER.total_seconds() // 60)))
    for name, wb in (doc.get("workbooks") or {}).items():
        wb = wb or {}
        lines.append("")
        lines.append(_t(loc, "workbook", name=name, source=wb.get("source", "")))
        last = wb.get("last_run")
        if not last:
            lines.append(_t(loc, "never"))
        else:
            ok = last.get("outcome") in ("ok", "data_errors")
            lines.append(_t(loc, "last", when=_when(last.get("finished"), zone), mark="✔" if ok else "✘",
                            outcome=outcome_label(str(last.get("outcome")), loc), code=last.get("exit_code"),
                            attempts=last.get("attempts", 1)))
            summary = last.get("summary")
            if isinstance(summary, dict):
                messages = ", ".join(f"{k} {v}" for k, v in (summary.get("messages") or {}).items()) or "0"
                lines.append(_t(loc, "summary", customers=summary.get("customers", "?"), errors=summary.get("errors", "?"),
                                overdue=summary.get("overdue", "?"), messages=messages))
            if last.get("message") and not ok:
                lines.append(_t(loc, "message", text=last["message"]))
        failures = int(wb.get("consecutive_failures") or 0)
        if failures:
            lines.append(_t(loc, "failures", count=failures, alerted=_t(loc, "alerted") if wb.get("alerted") else ""))
            if wb.get("last_success"):
                lines.append(_t(loc, "last_ok", when=_when(wb.get("last_success"), zone)))
        if wb.get("retry_at") and verdict["state"] == "running":
            lines.append(_t(loc, "retry", when=_when(wb.get("retry_at"), zone)))
        if wb.get("next_run") and verdict["state"] == "running":
            lines.append(_t(loc, "next", when=_when(wb.get("next_run"), zone)))
    return "\n".join(lines)


def print_status(config: Config, as_json: bool = False) -> int:
    """`python runner.py status`: 0 when the service runs and every workbook's last pass worked, else 1."""
    doc = read_status(status_path(config))
    verdict = assess(doc)
    if as_json:
        out = dict(doc or {})
        out["assessment"] = verdict
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(render_status(doc, verdict, config), flush=True)
    return 0 if verdict["healthy"] else 1
