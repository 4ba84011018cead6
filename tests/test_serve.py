"""The scheduled service: the state machine with a controlled clock, then the real thing in a subprocess.

In-process tests drive `Service.check()` with a clock we move by hand and a stand-in pass, to pin
retries, catch-up, failure streaks and alerts exactly. The subprocess tests run `runner.py serve` for
real on a demo workbook beside broken ones, and stop it with real signals.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from addon.backends.base import SourceUnavailable
from addon.backends.safe_file import TEMP_PREFIX
from addon.config import load_config
from addon.service import alerts
from addon.service.health import assess, read_status, render_status, status_path
from addon.service.serve import Service, workbook_configs

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai, a Monday


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeResult:
    def __init__(self, code: int = 0) -> None:
        self.exit_code = code
        self.undelivered = 2 if code == 4 else 0

    def summary(self) -> dict[str, Any]:
        return {"customers": 3, "errors": 0, "overdue": 1, "messages": {}}


class Runner:
    """Stand-in pass: each workbook (by source file name) follows a script of outcomes; the last repeats."""

    def __init__(self, scripts: dict[str, list[Any]]) -> None:
        self.scripts = scripts
        self.calls: list[str] = []

    def __call__(self, config) -> FakeResult:
        name = Path(str(config.source.excel)).name
        self.calls.append(name)
        script = self.scripts[name]
        step = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(step, BaseException):
            raise step
        return FakeResult(step)


REMINDERS = "reminders: {transport: outbox, outbox: outbox, admin: admin@example.com}\n"


def write_config(tmp_path: Path, body: str, reminders: str = REMINDERS) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("timezone: Asia/Shanghai\nlocale: en\nstate_dir: state\n" + reminders + body, encoding="utf-8")
    return cfg


def service(tmp_path: Path, body: str, runner: Runner, clock: Clock, alerts_sent: list | None = None) -> Service:
    config = load_config(write_config(tmp_path, body))
    sent = alerts_sent if alerts_sent is not None else []

    def record_alert(cfg, name, entry):
        sent.append((name, entry["consecutive_failures"]))
        return True

    svc = Service(config, runner=runner, clock=clock, retry_base=60, send_alert=record_alert)
    svc.prepare()
    return svc


TWO_BOOKS = """
schedule: {at: ["09:00", "14:00"], days: every_day, retries: 2, alert_after_failures: 2}
workbooks:
  - {name: east, source: {excel: east.xlsx}}
  - {name: west, source: {excel: west.xlsx}}
"""


def test_runs_at_slots_and_one_failure_does_not_stop_the_other(tmp_path):
    runner = Runner({"east.xlsx": [0], "west.xlsx": [RuntimeError("bug in a pass")]})
    clock = Clock(T0)
    svc = service(tmp_path, TWO_BOOKS, runner, clock)
    svc.check()
    assert runner.calls == []  # 08:30: nothing due, and nothing from before the first start is caught up
    clock.advance(minutes=31)  # 09:01
    svc.check()
    assert runner.calls == ["east.xlsx", "west.xlsx"]
    svc.check()
    assert len(runner.calls) == 2  # the 09:00 slot is done for both: never repeated
    status = read_status(status_path(svc.config))
    east, west = status["workbooks"]["east"], status["workbooks"]["west"]
    assert east["last_run"]["outcome"] == "ok" and east["consecutive_failures"] == 0
    assert east["next_run"].startswith("2026-11-23T14:00:00+08:00")
    assert west["last_run"]["outcome"] == "crashed" and west["last_run"]["exit_code"] == 70
    assert "bug in a pass" in west["last_run"]["message"] and west["consecutive_failures"] == 1


def test_transient_failure_is_retried_with_backoff_within_the_slot(tmp_path):
    runner = Runner({"east.xlsx": [SourceUnavailable("east.xlsx is open in Excel"), OSError("network down"), 0],
                     "west.xlsx": [0]})
    clock = Clock(T0)
    svc = service(tmp_path, TWO_BOOKS, runner, clock)
    clock.advance(minutes=30, seconds=1)  # 09:00:01
    svc.check()
    assert runner.calls == ["east.xlsx", "west.xlsx"]
    entry = read_status(status_path(svc.config))["workbooks"]["east"]
    assert entry["retry_at"] and entry["consecutive_failures"] == 0 and entry["last_run"]["attempts"] == 1
    clock.advance(seconds=59)
    svc.check()
    assert runner.calls.count("east.xlsx") == 1  # backoff: first retry after 60 s
    clock.advance(seconds=2)
    svc.check()
    assert runner.calls.count("east.xlsx") == 2
    clock.advance(seconds=119)
    svc.check()
    assert runner.calls.count("east.xlsx") == 2  # second retry after 120 s
    clock.advance(seconds=2)
    svc.check()
    assert runner.calls.count("east.xlsx") == 3
    entry = read_status(status_path(svc.config))["workbooks"]["east"]
    assert entry["last_run"]["outcome"] == "ok" and entry["last_run"]["attempts"] == 3
    assert entry["retry_at"] is None and entry["consecutive_failures"] == 0
    assert runner.calls.count("west.xlsx") == 1


def every_minute(alert_after: int) -> str:
    """One workbook (east) run every minute, with retries and an alert after `alert_after` failures in a row."""
    return (f"schedule: {{every: 1m, days: every_day, retries: 5, alert_after_failures: {alert_after}}}\n"
            "workbooks:\n  - {name: east, source: {excel: east.xlsx}}\n")


def test_retries_stop_at_the_next_slot_and_failures_alert_once(tmp_path):
    sent: list = []
    runner = Runner({"east.xlsx": [SourceUnavailable("not found")] * 5 + [0, SourceUnavailable("not found")]})
    clock = Clock(T0)
    svc = service(tmp_path, every_minute(3), runner, clock, sent)
    for _ in range(5):
        clock.advance(minutes=1)
        svc.check()
    # Backoff (60 s) would reach the next slot, so each slot is tried once; the streak is counted per slot.
    assert runner.calls == ["east.xlsx"] * 5
    assert sent == [("east", 3)]  # mailed once at the threshold, not again at 4 and 5
    entry = read_status(status_path(svc.config))["workbooks"]["east"]
    assert entry["consecutive_failures"] == 5 and entry["alerted"] is True
    clock.advance(minutes=1)
    svc.check()  # success resets the streak
    entry = read_status(status_path(svc.config))["workbooks"]["east"]
    assert entry["consecutive_failures"] == 0 and entry["alerted"] is False and entry["last_success"]
    for _ in range(3):
        clock.advance(minutes=1)
        svc.check()
    assert sent == [("east", 3), ("east", 3)]  # a new streak alerts again


def test_reminders_not_delivered_count_as_failures_and_alert(tmp_path):
    sent: list = []
    runner = Runner({"east.xlsx": [4, 4, 0]})  # the mail server refuses twice, then accepts
    clock = Clock(T0)
    svc = service(tmp_path, every_minute(2), runner, clock, sent)
    clock.advance(minutes=1)
    svc.check()
    assert runner.calls == ["east.xlsx"]  # not retried within the slot: the owed messages go with the next pass
    entry = read_status(status_path(svc.config))["workbooks"]["east"]
    assert entry["last_run"]["outcome"] == "not_delivered" and entry["last_run"]["exit_code"] == 4
    assert entry["last_run"]["message"] == "2 message(s) not delivered" and entry["consecutive_failures"] == 1
    assert entry["last_run"]["summary"]["customers"] == 3  # the pass itself happened: its summary is kept
    text = render_status(read_status(status_path(svc.config)), assess(read_status(status_path(svc.config))), svc.config)
    assert "✘ sheet updated, but reminders not delivered" in text and "reason: 2 message(s) not delivered" in text
    clock.advance(minutes=1)
    svc.check()
    assert sent == [("east", 2)]
    clock.advance(minutes=1)
    svc.check()
    entry = read_status(status_path(svc.config))["workbooks"]["east"]
    assert entry["last_run"]["outcome"] == "ok" and entry["consecutive_failures"] == 0


def test_restart_catches_up_a_missed_slot_once(tmp_path):
    runner = Runner({"east.xlsx": [0], "west.xlsx": [0]})
    clock = Clock(T0)
    svc = service(tmp_path, TWO_BOOKS, runner, clock)
    clock.advance(minutes=31)  # 09:01
    svc.check()
    assert len(runner.calls) == 2
    # The service stops; the machine sleeps through 14:00 and the next morning's 09:00.
    clock.now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 on the 24th
    again = service(tmp_path, TWO_BOOKS, runner, clock)
    again.check()
    assert len(runner.calls) == 4  # one catch-up each, for the latest missed slot only
    entry = read_status(status_path(again.config))["workbooks"]["east"]
    assert entry["last_run"]["slot"] == "2026-11-24 09:00"
    again.check()
    clock.advance(hours=3)
    again.check()
    assert len(runner.calls) == 4  # nothing more until 14:00
    clock.advance(hours=1, minutes=1)
    again.check()
    assert len(runner.calls) == 6


def test_invalid_workbook_entry_is_reported_each_slot_not_fatal(tmp_path):
    body = """
schedule: {every: 1m, days: every_day}
workbooks:
  - {name: good, source: {excel: good.xlsx}}
  - {name: bad, source: {excel: bad.xlsx}, cadence: {by_tier: {Z: 7d}}}
"""
    runner = Runner({"good.xlsx": [0]})
    clock = Clock(T0)
    svc = service(tmp_path, body, runner, clock)
    names = [n for n, *_ in workbook_configs(svc.config)]
    assert names == ["good", "bad"]
    clock.advance(minutes=1)
    svc.check()
    assert runner.calls == ["good.xlsx"]
    bad = read_status(status_path(svc.config))["workbooks"]["bad"]
    assert bad["last_run"]["outcome"] == "config_error" and bad["last_run"]["exit_code"] == 2
    assert "by_tier" in bad["last_run"]["message"] and bad["retry_at"] is None


def test_schedule_without_days_is_a_configuration_error(tmp_path):
    from addon.config import ConfigError

    config = load_config(write_config(tmp_path, "schedule: {days: []}\n"))
    with pytest.raises(ConfigError, match="schedule"):
        Service(config, runner=Runner({})).prepare()
    body = "schedule: {every: 1m, days: every_day}\nworkbooks:\n  - {name: odd, source: {excel: odd.xlsx}, schedule: {days: []}}\n"
    svc = service(tmp_path, body, Runner({}), Clock(T0))
    assert svc.jobs[0].config is None and "schedule" in (svc.jobs[0].problem or "")


# --- alerts ---------------------------------------------------------------------------------------------


def alert_entry() -> dict[str, Any]:
    return {"consecutive_failures": 3, "source": "/data/east.xlsx", "last_success": None,
            "last_run": {"finished": "2026-11-23T09:00:05+08:00", "exit_code": 3, "message": "east.xlsx is open\r\nBcc: x@evil"}}


def test_alert_mail_in_both_languages(tmp_path):
    for locale, words in (("en", "failed 3 runs in a row"), ("zh-CN", "已连续 3 次运行失败")):
        config = load_config(write_config(tmp_path, f"locale: {locale}\n"))
        msg = alerts.compose_alert(config, "east", alert_entry())
        assert words in msg["Subject"] and msg["To"] == "admin@example.com"
        assert msg["Message-ID"] and msg["X-Followup-Kind"] == "service-alert"
        assert "doctor" in msg.get_content()
        assert all("\n" not in str(v) and "\r" not in str(v) for v in msg.values())


@pytest.mark.parametrize(("env_lang", "words"), [("en_US.UTF-8", "failed 3 runs in a row"), ("zh_CN.UTF-8", "已连续 3 次运行失败"), ("C.UTF-8", "已连续 3 次运行失败")])
def test_without_locale_the_alert_speaks_the_environments_language(tmp_path, monkeypatch, env_lang, words):
    """No workbook decides an alert's language (it may be about a workbook that cannot be opened)."""
    monkeypatch.setenv("LANG", env_lang)
    cfg = write_config(tmp_path, "")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("locale: en\n", ""), encoding="utf-8")
    msg = alerts.compose_alert(load_config(cfg), "east", alert_entry())
    assert words in msg["Subject"]


def test_alert_goes_through_the_outbox_and_a_real_smtp_server(tmp_path):
    config = load_config(write_config(tmp_path, ""))
    assert alerts.send_alert(config, "east", alert_entry())
    eml = list((tmp_path / "outbox").glob("*.eml"))
    assert len(eml) == 1
    parsed = message_from_bytes(eml[0].read_bytes(), policy=policy.default)
    assert "east" in parsed["Subject"]

    from tests.smtp_server import SmtpServer

    with SmtpServer(mode="plain") as server:
        smtp = (f"reminders: {{transport: smtp, admin: ops@example.com, smtp: {{host: {server.host}, port: {server.port}, "
                "security: none, sender: bot@example.com}}\n")
        smtp_config = load_config(write_config(tmp_path, "", smtp))
        assert alerts.send_alert(smtp_config, "east", alert_entry())
        assert server.count_to("ops@example.com") == 1
        assert "east" in server.messages[0].email["Subject"]
    # The server is gone: reported in the log, never raised, so the next failure tries again.
    assert alerts.send_alert(smtp_config, "east", alert_entry()) is False
    no_admin = load_config(write_config(tmp_path, "", "reminders: {transport: outbox, outbox: outbox}\n"))
    assert alerts.send_alert(no_admin, "east", alert_entry()) is False


# --- the real service in a subprocess -------------------------------------------------------------------

pytestmark_posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def make_demo(folder: Path) -> Path:
    from addon.demo_data import write_demo_workbook

    path = folder / "good.xlsx"
    write_demo_workbook(path, datetime.now().date(), lang="en")
    return path


def runlog_rows(path: Path) -> int:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        name = next(n for n in book.sheet_names if n in ("Run log", "运行记录"))
        rows = book.get_sheet_by_name(name).to_python()
    finally:
        book.close()
    return sum(1 for r in rows if r and str(r[2]) == "serve")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((TEMP_PREFIX, ".tmp")) or p.suffix == ".tmp")


def wait_for(predicate, timeout: float, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return predicate()


SERVE_CONFIG = """timezone: Europe/Berlin
locale: en
state_dir: state
schedule: {every: 2s, days: every_day, retries: 1, alert_after_failures: 2}
reminders: {transport: outbox, outbox: outbox, admin: admin@example.com, send_on: every_day}
workbooks:
  - {name: good, source: {excel: good.xlsx}}
  - {name: corrupt, source: {excel: corrupt.xlsx}}
  - {name: missing, source: {excel: missing.xlsx}}
"""


def start_serve(folder: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "runner.py"), "serve", "--config", str(folder / "config.yaml"), *extra],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytestmark_posix
def test_serve_end_to_end(tmp_path):
    good = make_demo(tmp_path)
    (tmp_path / "corrupt.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    (tmp_path / "config.yaml").write_text(SERVE_CONFIG, encoding="utf-8")
    proc = start_serve(tmp_path)
    status_file = tmp_path / "state" / "status.json"
    try:
        def good_runs() -> int:
            doc = read_status(status_file) or {}
            return 1 if (doc.get("workbooks", {}).get("good", {}).get("last_run") or {}).get("outcome") in ("ok", "data_errors") else 0

        assert wait_for(good_runs, 30), "no successful run of the good workbook"
        first = runlog_rows(good)
        assert wait_for(lambda: runlog_rows(good) > first, 20), "the Run log tab did not grow"

        second = start_serve(tmp_path)
        out, err = second.communicate(timeout=30)
        assert second.returncode == 3
        assert "already running" in err and str(proc.pid) in err

        doc = read_status(status_file)
        assert doc["pid"] == proc.pid and doc["state"] == "running"
        assert doc["workbooks"]["corrupt"]["last_run"]["exit_code"] == 3
        assert doc["workbooks"]["missing"]["last_run"]["outcome"] == "source_unavailable"
        assert wait_for(lambda: (read_status(status_file) or {})["workbooks"]["missing"]["consecutive_failures"] >= 2, 15)

        status = subprocess.run([sys.executable, str(ROOT / "runner.py"), "status", "--config", "config.yaml", "--json"],
                                cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
        verdict = json.loads(status.stdout)["assessment"]
        assert verdict["state"] == "running" and verdict["failing"] == ["corrupt", "missing"] and status.returncode == 1
    finally:
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stopped_in = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert stopped_in < 5
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "state") == []
    assert runlog_rows(good) >= 2  # still a readable workbook
    doc = read_status(status_file)
    assert doc["state"] == "stopped" and doc["running"] is None
    assert doc["workbooks"]["good"]["consecutive_failures"] == 0
    alerts_sent = list((tmp_path / "outbox").glob("*service-alert*.eml"))
    assert len(alerts_sent) == 2  # one per failing workbook, not one per failed run
    log = (tmp_path / "state" / "followup.log").read_text(encoding="utf-8")
    assert "service started" in log and "service stopped" in log and "corrupt" in log


DRIVER = """
import sys, time
from pathlib import Path
from addon.backends import safe_file
from addon.config import load_config
from addon.service.serve import serve

def slow_backup(path, *args, **kwargs):
    temps = sorted(p.name for p in Path(path).parent.glob(safe_file.TEMP_PREFIX + "*"))
    print("WRITING " + " ".join(temps), flush=True)
    time.sleep(60)  # the temp file is complete, the original not yet replaced: stop arrives now

safe_file.backup = slow_backup
sys.exit(serve(load_config(sys.argv[1]), stop_grace=1.0))
"""


@pytestmark_posix
def test_sigterm_during_a_write_abandons_it_cleanly(tmp_path):
    good = make_demo(tmp_path)
    before = good.read_bytes()
    (tmp_path / "config.yaml").write_text(
        "locale: en\nstate_dir: state\nschedule: {every: 2s, days: every_day}\n"
        "reminders: {transport: outbox, outbox: outbox, send_on: every_day}\nsource: {excel: good.xlsx}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path / "config.yaml")], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("WRITING " + TEMP_PREFIX), line + (proc.stderr.read() if proc.poll() is not None else "")
        assert (read_status(tmp_path / "state" / "status.json") or {}).get("running", {}).get("workbook") == "good"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        stopped_in = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert 0.8 < stopped_in < 5  # waited the grace period, then abandoned
    assert leftovers(tmp_path) == []
    assert good.read_bytes() == before  # the original, untouched
    doc = read_status(tmp_path / "state" / "status.json")
    assert doc["state"] == "stopped" and doc["workbooks"]["good"]["last_run"]["outcome"] == "abandoned"
    assert "abandoning" in (tmp_path / "state" / "followup.log").read_text(encoding="utf-8")
