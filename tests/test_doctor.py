"""`doctor`: every check against real things — a demo workbook, Excel lock files, a real aiosmtpd server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from addon.service.doctor import FAIL, OK, WARN, doctor, run_checks
from tests.smtp_server import SmtpServer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory) -> Path:
    from addon.demo_data import write_demo_workbook

    path = tmp_path_factory.mktemp("demo") / "book.xlsx"
    write_demo_workbook(path, date(2026, 11, 23), lang="en")
    return path


def setup(tmp_path: Path, demo_book: Path, extra: str = "", locale: str = "en") -> Path:
    book = tmp_path / "book.xlsx"
    if not book.exists():
        book.write_bytes(demo_book.read_bytes())
    cfg = tmp_path / "config.yaml"
    reminders = "" if "reminders:" in extra else "reminders: {transport: outbox, outbox: outbox, admin: admin@example.com}\n"
    cfg.write_text(f"locale: {locale}\nstate_dir: state\nsource: {{excel: book.xlsx}}\n{reminders}{extra}", encoding="utf-8")
    return cfg


def by_status(checks, status):
    return [c for c in checks if c.status == status]


def smtp_yaml(server: SmtpServer, security: str, *, port: int | None = None, user: str | None = None, ca: Path | None = None) -> str:
    parts = [f"host: {server.host}", f"port: {port or server.port}", f"security: {security}", "sender: bot@example.com", "timeout: 5s"]
    if user:
        parts += [f"username: {user}", "password: '${DOCTOR_TEST_PASSWORD}'"]
    if ca:
        parts.append(f"ca_file: {ca}")
    return "reminders: {transport: smtp, admin: admin@example.com, smtp: {" + ", ".join(parts) + "}}\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_all_good(tmp_path, demo_book, capsys):
    cfg = setup(tmp_path, demo_book)
    assert doctor(cfg) == 0
    out = capsys.readouterr().out
    assert "✔ Configuration" in out and "✔ Workbook book" in out and "✔ all checks passed" in out
    assert "book: Customers tab" in out and "book: FollowUps tab" in out and "Outbox folder" in out
    assert "✘" not in out
    # doctor creates nothing: the state and outbox folders appear with the first real run.
    assert not (tmp_path / "state").exists() and not (tmp_path / "outbox").exists()


def test_config_errors_are_a_failed_check_not_a_traceback(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("locale: en\nschedule: {at: ['9am']}\nsource: {excel: x.xlsx}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "runner.py"), "doctor", "--config", str(cfg)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert "✘ Configuration" in proc.stdout and "schedule.at" in proc.stdout and "9am" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    cfg.write_text("locale: zh-CN\nsource: [unclosed\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "runner.py"), "doctor", "--config", str(cfg)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and "✘ 配置文件" in proc.stdout and "修复" in proc.stdout


def test_locked_workbook_names_the_lock_file(tmp_path, demo_book, capsys):
    cfg = setup(tmp_path, demo_book)
    (tmp_path / "~$book.xlsx").write_bytes(b"\x00" * 165)
    assert doctor(cfg) == 1
    out = capsys.readouterr().out
    assert "✘ Workbook book" in out and "~$book.xlsx" in out and "lock file" in out
    assert "delete" in out  # the fix for a lock left over from a crash


def test_broken_sources(tmp_path, demo_book):
    cfg = setup(tmp_path, demo_book, "workbooks:\n  - {name: gone, source: {excel: gone.xlsx}}\n"
                "  - {name: secret, source: {excel: secret.xlsx}}\n  - {name: bad, source: {excel: book.xlsx}, cadence: {by_tier: {Z: 1d}}}\n")
    (tmp_path / "secret.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    _, checks = run_checks(cfg)
    failed = {c.title: c for c in by_status(checks, FAIL)}
    assert "not found" in failed["Workbook gone"].detail and "source: excel" in failed["Workbook gone"].fix
    assert "password" in failed["Workbook secret"].detail and "Protect Workbook" in failed["Workbook secret"].fix
    assert "by_tier" in failed["Workbook bad"].detail


def test_missing_tab_and_headers(tmp_path, demo_book):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Customers"
    wb.active.append(["Company code", "Owner"])
    wb.create_sheet("Notes")
    wb.save(tmp_path / "book.xlsx")
    cfg = setup(tmp_path, demo_book)
    _, checks = run_checks(cfg)
    titles = {c.title: c for c in checks}
    customers = titles["book: Customers tab"]
    assert customers.status == FAIL and "name | customer_id" in customers.detail and "columns: customers" in customers.fix
    followups = titles["book: FollowUps tab"]
    assert followups.status == FAIL and "Notes" in followups.detail and "tabs: followups" in followups.fix
    assert titles["book: Team tab"].status == WARN


def test_state_dir_not_writable(tmp_path, demo_book):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    cfg = setup(tmp_path, demo_book, "")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("state_dir: state", "state_dir: afile/state"), encoding="utf-8")
    _, checks = run_checks(cfg)
    state = next(c for c in checks if c.title == "State directory")
    assert state.status == FAIL and "afile" in state.detail and "state_dir" in state.fix


def test_smtp_starttls_with_auth_is_reachable_and_no_mail_is_sent(tmp_path, demo_book, monkeypatch, capsys):
    monkeypatch.setenv("DOCTOR_TEST_PASSWORD", "s3cret-pw")
    with SmtpServer(mode="starttls", auth=("bot", "s3cret-pw"), tmp=tmp_path / "certs") as server:
        cfg = setup(tmp_path, demo_book, smtp_yaml(server, "starttls", user="bot", ca=server.ca_file))
        assert doctor(cfg) == 0
        out = capsys.readouterr().out
        assert f"✔ SMTP server: {server.host}:{server.port} (starttls) reachable, logged in as bot (no mail sent)" in out
        assert server.auth_attempts == [("bot", True)]
        assert server.messages == []
        assert "s3cret-pw" not in out


def test_smtp_wrong_password(tmp_path, demo_book, monkeypatch):
    monkeypatch.setenv("DOCTOR_TEST_PASSWORD", "wrong")
    with SmtpServer(mode="starttls", auth=("bot", "s3cret-pw"), tmp=tmp_path / "certs") as server:
        cfg = setup(tmp_path, demo_book, smtp_yaml(server, "starttls", user="bot", ca=server.ca_file))
        _, checks = run_checks(cfg)
    smtp = next(c for c in checks if c.title == "SMTP server")
    assert smtp.status == FAIL and "rejected the login" in smtp.detail and "app password" in smtp.fix


def test_smtp_wrong_port_and_wrong_security(tmp_path, demo_book):
    with SmtpServer(mode="plain") as server:
        cfg = setup(tmp_path, demo_book, smtp_yaml(server, "starttls", port=free_port()))
        assert doctor(cfg) == 1
        _, checks = run_checks(cfg)
        smtp = next(c for c in checks if c.title == "SMTP server")
        assert smtp.status == FAIL and "port" in smtp.fix and "587" in smtp.fix
        cfg = setup(tmp_path, demo_book, smtp_yaml(server, "ssl"))
        _, checks = run_checks(cfg)
        smtp = next(c for c in checks if c.title == "SMTP server")
        assert smtp.status == FAIL and "465" in smtp.fix
        assert server.messages == []


def test_missing_password_variable_and_chinese_report(tmp_path, demo_book, monkeypatch, capsys):
    monkeypatch.delenv("DOCTOR_TEST_PASSWORD", raising=False)
    with SmtpServer(mode="plain") as server:
        cfg = setup(tmp_path, demo_book, smtp_yaml(server, "none", user="bot"), locale="zh-CN")
        assert doctor(cfg) == 1
    out = capsys.readouterr().out
    assert "✘ 环境变量" in out and "DOCTOR_TEST_PASSWORD" in out and "export DOCTOR_TEST_PASSWORD" in out
    assert "跟进助手体检" in out and "项需要修复" in out



def test_an_unset_smtp_password_is_no_warning_while_mail_goes_to_the_outbox(tmp_path, demo_book, monkeypatch):
    monkeypatch.delenv("DOCTOR_TEST_PASSWORD", raising=False)
    cfg = setup(tmp_path, demo_book, "reminders: {transport: outbox, outbox: outbox, admin: admin@example.com,\n"
                                     "  smtp: {host: mail.example.com, username: bot, password: '${DOCTOR_TEST_PASSWORD}'}}\n")
    _, checks = run_checks(cfg)
    env = [c for c in checks if c.title == "Environment variable"]
    assert [(c.status, "not needed while reminders go to the outbox" in c.detail) for c in env] == [(OK, True)]

def test_google_source_without_credentials(tmp_path, demo_book):
    cfg = setup(tmp_path, demo_book)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("source: {excel: book.xlsx}",
                                                           "source: {google: 1AbCdEf, credentials: nokey.json}"), encoding="utf-8")
    _, checks = run_checks(cfg)
    google = next(c for c in checks if c.title.startswith("Google Sheet"))
    assert google.status == FAIL and "nokey.json" in google.detail and "service account" in google.fix
    assert by_status(checks, OK)


def test_google_sheet_reachable_and_a_foreign_key_refused(tmp_path, demo_book):
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from tests.sheets_emulator import running_emulator

    sheet = "1DoctorSheetForTests"
    with running_emulator(seed={sheet: demo_book}) as emu:
        key = emu.make_service_account_key(tmp_path / "key.json")
        cfg = setup(tmp_path, demo_book)
        text = cfg.read_text(encoding="utf-8").replace(
            "source: {excel: book.xlsx}", f"source: {{google: {sheet}, credentials: {key}, endpoint: '{emu.base_url}'}}")
        cfg.write_text(text, encoding="utf-8")
        _, checks = run_checks(cfg)
        google = next(c for c in checks if c.title.startswith("Google Sheet"))
        assert google.status == OK and "reachable" in google.detail
        assert next(c for c in checks if c.title == f"{sheet}: Customers tab").status == OK
        assert by_status(checks, FAIL) == []

        info = json.loads(key.read_text(encoding="utf-8"))
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        info["private_key"] = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()).decode()
        key.write_text(json.dumps(info), encoding="utf-8")
        _, checks = run_checks(cfg)
        google = next(c for c in checks if c.title.startswith("Google Sheet"))
        assert google.status == FAIL and "credentials" in google.detail.lower()
        assert "service account" in google.fix


def test_a_missing_workbook_is_reported_in_chinese_in_a_chinese_report(tmp_path, demo_book):
    cfg = setup(tmp_path, demo_book, "workbooks:\n  - {name: gone, source: {excel: gone.xlsx}}\n", locale="zh-CN")
    locale, checks = run_checks(cfg)
    failed = {c.title: c for c in by_status(checks, FAIL)}
    assert locale == "zh-CN" and failed["工作簿 gone"].detail.startswith("找不到工作簿：") and "not found" not in failed["工作簿 gone"].detail


@pytest.mark.parametrize("env_lang", ["zh_CN.UTF-8", "en_US.UTF-8"])
def test_without_locale_the_report_speaks_the_workbooks_language(tmp_path, demo_book, monkeypatch, env_lang):
    """As a run does (pipeline.in_workbook_language): the English demo gets an English report even in a Chinese shell."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", env_lang)
    cfg = setup(tmp_path, demo_book)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("locale: en\n", ""), encoding="utf-8")
    locale, checks = run_checks(cfg)
    assert locale == "en" and "Configuration" in [c.title for c in checks] and "book: FollowUps tab" in [c.title for c in checks]

    from addon.demo_data import write_demo_workbook

    (tmp_path / "book.xlsx").unlink()
    write_demo_workbook(tmp_path / "book.xlsx", date(2026, 11, 23), lang="zh")
    locale, checks = run_checks(cfg)
    assert locale == "zh-CN" and "配置文件" in [c.title for c in checks] and "book 跟进记录工作表" in [c.title for c in checks]

    (tmp_path / "book.xlsx").unlink()  # nothing to judge by: the environment's language (as a run's error), and the source check says why
    locale, checks = run_checks(cfg)
    assert locale == ("zh-CN" if env_lang.startswith("zh") else "en")
    assert [c.status for c in checks if c.title in ("工作簿 book", "Workbook book")] == [FAIL]


def test_a_report_on_tabs_named_sheet1_speaks_their_headers_language(tmp_path, monkeypatch):
    """Sheet1/Sheet2 say nothing, the Chinese headers do: the report speaks Chinese on an English
    machine, as the run on that workbook does."""
    from tests.helpers.user_books import nameless_workbook

    monkeypatch.setenv("LANG", "en_US.UTF-8")
    nameless_workbook(tmp_path / "book.xlsx", "zh")
    cfg = tmp_path / "config.yaml"
    cfg.write_text("state_dir: state\nsource: {excel: book.xlsx}\nreminders: {transport: outbox, outbox: outbox}\n", encoding="utf-8")
    locale, checks = run_checks(cfg)
    assert locale == "zh-CN" and "配置文件" in [c.title for c in checks]


def test_a_tab_recognised_by_its_headers_is_a_warning_with_the_line_that_names_it(tmp_path):
    from tests.helpers.user_books import own_names_workbook

    own_names_workbook(tmp_path / "sales.xlsx")
    cfg = tmp_path / "config.yaml"
    cfg.write_text("locale: en\nstate_dir: state\nsource: {excel: sales.xlsx}\n", encoding="utf-8")
    _, checks = run_checks(cfg)
    by_title = {c.title: c for c in checks}
    assert by_title["sales: Customers tab"].status == OK and "'Accounts'" in by_title["sales: Customers tab"].detail
    log = by_title["sales: FollowUps tab"]
    assert log.status == WARN and "'Calls' is read as the FollowUps tab" in log.detail and "`tabs: followups: Calls`" in log.fix
