"""Status file and `status`: atomic writes, honest verdicts (stale, dead, stopped), both languages; masked logs."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from addon.config import load_config
from addon.service.health import (
    StatusBoard,
    assess,
    read_status,
    render_status,
    status_path,
    write_status,
)
from addon.service.logs import MASK, SecretMasker, setup_logging, teardown_logging

ROOT = Path(__file__).resolve().parents[1]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def make_config(tmp_path: Path, locale: str = "en", extra: str = ""):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"source: {{excel: book.xlsx}}\nstate_dir: state\nlocale: {locale}\n{extra}", encoding="utf-8")
    return load_config(cfg)


def doc(**overrides):
    now = datetime.now(SHANGHAI)
    base = {
        "version": 1, "state": "running", "pid": os.getpid(), "host": __import__("socket").gethostname(),
        "started": (now - timedelta(hours=1)).isoformat(), "heartbeat": now.isoformat(), "heartbeat_every": 30,
        "schedule": "working days at 09:00 (Asia/Shanghai)", "running": None,
        "workbooks": {"east": {"source": "/data/east.xlsx", "consecutive_failures": 0, "next_run": (now + timedelta(hours=2)).isoformat(),
                               "last_run": {"finished": now.isoformat(), "outcome": "ok", "exit_code": 0, "attempts": 1,
                                            "summary": {"customers": 120, "errors": 0, "overdue": 14, "messages": {"sent": 3}}}}},
    }
    base.update(overrides)
    return base


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_write_status_is_atomic_and_leaves_no_temp(tmp_path):
    path = tmp_path / "state" / "status.json"
    write_status(path, {"a": 1, "名字": "东区"})
    write_status(path, {"a": 2, "名字": "东区"})
    assert read_status(path) == {"a": 2, "名字": "东区"}
    assert [p.name for p in path.parent.iterdir()] == ["status.json"]
    path.write_text("{not json", encoding="utf-8")
    assert read_status(path) is None


def test_verdicts():
    assert assess(doc())["state"] == "running" and assess(doc())["healthy"]
    old = (datetime.now(SHANGHAI) - timedelta(minutes=10)).isoformat()
    stale = assess(doc(heartbeat=old))
    assert stale["state"] == "stale" and not stale["healthy"] and stale["heartbeat_age"] > 500
    dead = assess(doc(pid=dead_pid()))
    assert dead["state"] == "dead" and "pid_gone" in dead["reasons"]
    assert assess(doc(state="stopped"))["state"] == "stopped"
    assert assess(None) == {"state": "missing", "healthy": False, "reasons": ["no_status"]}
    # A pid on another machine cannot be checked: the heartbeat decides.
    assert assess(doc(pid=dead_pid(), host="another-host"))["state"] == "running"


def test_failing_workbook_and_stuck_pass_are_unhealthy():
    failing = doc()
    failing["workbooks"]["east"]["consecutive_failures"] = 2
    verdict = assess(failing)
    assert verdict["state"] == "running" and not verdict["healthy"] and verdict["failing"] == ["east"]
    since = (datetime.now(SHANGHAI) - timedelta(hours=2)).isoformat()
    stuck = assess(doc(running={"workbook": "east", "slot": "x", "since": since}))
    assert "pass_stuck" in stuck["reasons"] and not stuck["healthy"]


def test_render_in_both_languages(tmp_path):
    d = doc()
    d["workbooks"]["west"] = {"source": "/data/west.xlsx", "consecutive_failures": 3, "alerted": True,
                              "last_run": {"finished": d["heartbeat"], "outcome": "source_unavailable", "exit_code": 3,
                                           "attempts": 4, "message": "workbook not found: /data/west.xlsx"}}
    en = render_status(d, assess(d), make_config(tmp_path, "en"))
    assert "Follow-up Add-on service: running" in en
    assert "Workbook east: /data/east.xlsx" in en and "✔ ok (exit code 0, attempt 1)" in en and "customers: 120, data errors: 0, needing contact: 14" in en
    assert "✘ source unavailable (exit code 3, attempt 4)" in en and "workbook not found" in en
    assert "consecutive failures: 3 (administrator alerted)" in en and "next run:" in en
    zh = render_status(d, assess(d), make_config(tmp_path, "zh-CN"))
    assert "跟进助手服务：运行中" in zh and "连续失败：3 次（已通知管理员）" in zh and "数据源不可用" in zh
    stale = doc(heartbeat=(datetime.now(SHANGHAI) - timedelta(minutes=10)).isoformat())
    assert "STALE" in render_status(stale, assess(stale), make_config(tmp_path, "en"))
    assert "无响应" in render_status(stale, assess(stale), make_config(tmp_path, "zh-CN"))


def test_status_board_keeps_history_and_marks_stop(tmp_path):
    path = tmp_path / "status.json"
    board = StatusBoard(path, SHANGHAI, heartbeat_every=5, schedule="x", log_file="l")
    board.update("east", consecutive_failures=2, last_slot_at="2026-11-23T01:00:00+00:00")
    with board.running("east", "2026-11-23 09:00"):
        assert read_status(path)["running"]["workbook"] == "east"
    assert read_status(path)["running"] is None
    board.set_state("stopped")
    assert read_status(path)["state"] == "stopped" and read_status(path)["stopped"]
    again = StatusBoard(path, SHANGHAI, heartbeat_every=5, schedule="x", log_file="l")
    assert again.previous("east")["consecutive_failures"] == 2 and again.doc["state"] == "running"
    again.keep_only(["west"])
    assert list(read_status(path)["workbooks"]) == ["west"]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(ROOT / "runner.py"), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=60)


def test_status_command(tmp_path):
    config = make_config(tmp_path, "en")
    cfg = str(tmp_path / "config.yaml")
    missing = run_cli("status", "--config", cfg, cwd=tmp_path)
    assert missing.returncode == 1 and "has never run" in missing.stdout
    write_status(status_path(config), doc())
    ok = run_cli("status", "--config", cfg, cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "running" in ok.stdout and "east" in ok.stdout
    write_status(status_path(config), doc(pid=dead_pid()))
    dead = run_cli("status", "--config", cfg, "--json", cwd=tmp_path)
    assert dead.returncode == 1
    parsed = json.loads(dead.stdout)
    assert parsed["assessment"]["state"] == "dead" and parsed["workbooks"]["east"]["last_run"]["exit_code"] == 0


# --- logs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "login with password=hunter2hunter",
        'smtp: {"password": "hunter2hunter"}',
        "Authorization: Bearer abc.def.ghi-123456",
        "connect to smtps://bot:hunter2hunter@mail.example.com:465",
        "token: ya29.a0AfH6SMBx",
        "api_key=AKIA1234567890",
    ],
)
def test_masker_hides_credential_shapes(text):
    masked = SecretMasker().mask(text)
    assert MASK in masked
    for secret in ("hunter2hunter", "abc.def.ghi-123456", "ya29.a0AfH6SMBx", "AKIA1234567890"):
        assert secret not in masked


def test_masker_hides_configured_values_and_keeps_ordinary_text():
    masker = SecretMasker(["S3cr3t-Value", "ab"])
    assert masker.mask("AUTH failed for S3cr3t-Value!") == f"AUTH failed for {MASK}!"
    assert masker.mask("one full pass: done, about 3 tabs") == "one full pass: done, about 3 tabs"


def test_setup_logging_writes_a_rotating_masked_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FOLLOWUP_SMTP_PASSWORD", "pa55-from-env")
    config = make_config(tmp_path, "en", "log_level: WARNING\nreminders: {smtp: {password: '${FOLLOWUP_SMTP_PASSWORD}'}}\n")
    handlers = setup_logging(config, console=False)
    try:
        log = logging.getLogger("addon.test")
        log.info("not written at WARNING level")
        log.warning("smtp login failed with %s", "pa55-from-env")
        try:
            raise RuntimeError("password: pa55-from-env rejected")
        except RuntimeError:
            log.exception("boom")
    finally:
        teardown_logging(handlers)
    assert isinstance(handlers[0], logging.handlers.RotatingFileHandler) and handlers[0].maxBytes > 0
    text = (tmp_path / "state" / "followup.log").read_text(encoding="utf-8")
    assert "pa55-from-env" not in text
    assert "smtp login failed with ***" in text and "Traceback" in text
    assert "not written" not in text
    verbose = setup_logging(config, verbose=True, console=False)
    try:
        logging.getLogger("addon.test").debug("debug shows with --verbose")
    finally:
        teardown_logging(verbose)
    assert "debug shows with --verbose" in (tmp_path / "state" / "followup.log").read_text(encoding="utf-8")


@pytest.mark.parametrize(("env_lang", "said"), [("en_US.UTF-8", "Follow-up Add-on service: has never run"), ("C.UTF-8", "跟进助手服务：从未")])
def test_without_locale_status_speaks_the_environments_language(tmp_path, monkeypatch, capsys, env_lang, said):
    """`status` reads no workbook, so a config without `locale:` is answered in LANG's language (else Chinese)."""
    from addon.cli import main

    monkeypatch.setenv("LANG", env_lang)
    cfg = tmp_path / "config.yaml"
    cfg.write_text("source: {excel: book.xlsx}\nstate_dir: state\n", encoding="utf-8")
    assert main(["status", "--config", str(cfg)]) == 1
    assert capsys.readouterr().out.startswith(said)
