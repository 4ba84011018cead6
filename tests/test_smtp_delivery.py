"""Reminders over real SMTP (issue #5): a real aiosmtpd server on 127.0.0.1, smtplib untouched.

STARTTLS and SSL with a certificate made in the test, AUTH with a checked password, recipients refused
(550) or deferred (451), a client killed between two sends, and counting at the server that nothing
ever arrives twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from addon.config import Config, ConfigError, load_config
from addon.core.reminders import Plan
from addon.notify.send import deliver
from addon.notify.transports import SmtpTransport, build_transport
from tests.helpers.xlsx_check import sheets
from tests.smtp_server import Handler, Received, SmtpServer
from tests.test_reminders_plan import AS_OF, LINK, fixture, plan

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "pa55-w0rd!"


def smtp_config(tmp_path: Path, server: SmtpServer, **smtp: Any) -> Config:
    settings = {"host": server.host, "port": server.port, "timeout": "5s", "sender": "跟进助手 <bot@sales.example.com>"}
    if server.mode == "plain":
        settings["security"] = "none"
    elif server.mode == "starttls":
        settings["security"] = "starttls"
    else:
        settings["security"] = "ssl"
    if server.ca_file is not None:
        settings["ca_file"] = str(server.ca_file)
    settings.update(smtp)
    return load_config(None, {
        "state_dir": str(tmp_path / "state"),
        "reminders": {"transport": "smtp", "admin": "admin@example.com", "smtp": settings},
    })


def make_plan(config: Config, day: date = AS_OF) -> Plan:
    dataset, statuses = fixture()
    return plan(dataset, statuses, config, day, LINK)


def delivered_keys(server: SmtpServer) -> Counter[tuple[str, str]]:
    """(recipient, kind) → how many times the server accepted it."""
    return Counter((rcpt.lower(), m.email["X-Followup-Kind"]) for m in server.messages for rcpt in m.rcpt_tos)


def owed(p: Plan) -> set[tuple[str, str]]:
    return {(m.to.lower(), m.kind) for m in p.messages}


def test_starttls_with_auth_delivers_everything_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    with SmtpServer(mode="starttls", auth=("bot", PASSWORD), tmp=tmp_path) as server:
        config = smtp_config(tmp_path, server, username="bot", password="${SMTP_PASSWORD}")
        p = make_plan(config)
        outcomes = deliver(p, config)
        assert {o.outcome for o in outcomes} == {"sent"}
        assert delivered_keys(server) == Counter({key: 1 for key in owed(p)})
        assert {m.authenticated_as for m in server.messages} == {"bot"}
        assert len({m.peer for m in server.messages}) == 1  # one connection for the whole batch
        received = next(m.email for m in server.messages if m.rcpt_tos == ["zhang@example.com"] and m.email["X-Followup-Kind"] == "digest")
        assert received["Subject"] == "[跟进提醒] 4 位客户逾期未跟进，1 位今日到期 — 2026-11-23"
        assert received["To"].addresses[0].display_name == "张三"
        assert "客户C5" in received.get_body(("plain",)).get_content()
        assert all(m.mail_from == "bot@sales.example.com" for m in server.messages)


def test_a_long_english_subject_arrives_exactly(tmp_path: Path) -> None:
    from addon.core.reminders import Message, Section
    from addon.notify.messages import compose, subject
    from tests.test_messages import many

    items = (*many(12, "overdue", 1), *many(3, "due_today", 101), *many(4, "due_soon", 201))
    message = Message("digest", "amy@example.com", "Amy Lee", AS_OF, "en", (Section("own", items),), LINK)
    assert len("Subject: " + subject(message)) > 78  # must be folded on the wire
    with SmtpServer(mode="plain") as server:
        config = smtp_config(tmp_path, server)
        transport = build_transport(config)
        try:
            transport.send(compose(message, config))
        finally:
            transport.close()
        assert server.messages[0].email["Subject"] == "[Follow-up] 12 customers overdue, 3 due today, 4 due soon — 2026-11-23"


def test_ssl_on_connect_with_auth(tmp_path: Path) -> None:
    with SmtpServer(mode="ssl", auth=("bot", PASSWORD), tmp=tmp_path) as server:
        config = smtp_config(tmp_path, server, username="bot", password=PASSWORD)
        p = make_plan(config)
        assert {o.outcome for o in deliver(p, config)} == {"sent"}
        assert delivered_keys(server) == Counter({key: 1 for key in owed(p)})


def test_wrong_password_is_a_clear_error_and_nothing_is_lost(tmp_path: Path) -> None:
    with SmtpServer(mode="starttls", auth=("bot", PASSWORD), tmp=tmp_path) as server:
        config = smtp_config(tmp_path, server, username="bot", password="not-the-password")
        outcomes = deliver(make_plan(config), config)
        assert {o.outcome for o in outcomes} == {"deferred"}
        detail = outcomes[0].detail
        assert "rejected the login for user 'bot'" in detail and "535" in detail and "password" in detail
        assert "not-the-password" not in " ".join(o.detail for o in outcomes)
        # one login (smtplib tries PLAIN, then LOGIN), then the batch stopped instead of one login per message
        assert 1 <= len(server.auth_attempts) <= 2 and not any(ok for _, ok in server.auth_attempts)
        assert not server.messages
        fixed = smtp_config(tmp_path, server, username="bot", password=PASSWORD)
        assert {o.outcome for o in deliver(make_plan(fixed), fixed)} == {"sent"}  # owed, not refused


def test_unset_password_variable_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTP_PASSWORD", raising=False)
    with SmtpServer(mode="plain") as server:
        config = smtp_config(tmp_path, server, username="bot", password="${SMTP_PASSWORD}")
        with pytest.raises(ConfigError, match="SMTP_PASSWORD is not set"):
            build_transport(config)


def test_untrusted_certificate_says_what_to_fix(tmp_path: Path) -> None:
    with SmtpServer(mode="ssl", tmp=tmp_path) as server:
        config = smtp_config(tmp_path, server)
        untrusted = config.model_copy(update={"reminders": config.reminders.model_copy(
            update={"smtp": config.reminders.smtp.model_copy(update={"ca_file": None})})})
        outcomes = deliver(make_plan(untrusted), untrusted)
        assert {o.outcome for o in outcomes} == {"deferred"}
        assert "not trusted" in outcomes[0].detail and "ca_file" in outcomes[0].detail


def test_nothing_listening_is_a_temporary_failure(tmp_path: Path) -> None:
    with SmtpServer(mode="plain") as server:
        config = smtp_config(tmp_path, server)
    outcomes = deliver(make_plan(config), config)  # server stopped: connection refused
    assert {o.outcome for o in outcomes} == {"deferred"}
    assert "cannot connect" in outcomes[0].detail


def test_refused_and_deferred_recipients_across_three_runs(tmp_path: Path) -> None:
    handler = Handler(refuse={"li@example.com": "550 5.1.1 <li@example.com>: no such user"},
                      defer={"zhang@example.com": "451 4.7.1 Greylisted, try again later"})
    with SmtpServer(mode="plain", handler=handler) as server:
        config = smtp_config(tmp_path, server)
        p = make_plan(config)
        first = {(o.kind, o.to): o for o in deliver(p, config)}
        assert first[("escalation", "li@example.com")].outcome == "refused"
        assert "550" in first[("escalation", "li@example.com")].detail
        assert first[("digest", "zhang@example.com")].outcome == "deferred"
        assert "451" in first[("digest", "zhang@example.com")].detail
        rest = {k for k, o in first.items() if k[1] not in ("li@example.com", "zhang@example.com")}
        assert rest and all(first[k].outcome == "sent" for k in rest)
        assert len({m.peer for m in server.messages}) == 1  # refusals did not cost the connection

        handler.defer.clear()  # the greylisting window passed
        second = {(o.kind, o.to): o.outcome for o in deliver(make_plan(config), config)}
        assert {second[k] for k in first if k[1] == "zhang@example.com"} == {"sent"}
        assert {second[k] for k in first if k[1] == "li@example.com"} == {"already_refused"}
        assert {second[k] for k in rest} == {"already_sent"}

        third = deliver(make_plan(config), config)
        assert "sent" not in {o.outcome for o in third}
        counts = delivered_keys(server)
        assert max(counts.values()) == 1  # never twice
        assert set(counts) == owed(p) - {(to, kind) for to, kind in owed(p) if to == "li@example.com"}


def test_a_dropped_connection_is_reopened_between_messages_not_during_one(tmp_path: Path) -> None:
    handler = Handler(drop_after_each=True)
    with SmtpServer(mode="plain", handler=handler) as server:
        config = smtp_config(tmp_path, server)
        transport = SmtpTransport(config.reminders.smtp, sleep=lambda s: None)
        original = transport._alive

        def alive_after_the_drop() -> bool:
            time.sleep(0.1)  # let the server's close arrive first
            return original()

        transport._alive = alive_after_the_drop  # type: ignore[method-assign]
        p = make_plan(config)
        assert {o.outcome for o in deliver(p, config, transport=transport)} == {"sent"}
        assert delivered_keys(server) == Counter({key: 1 for key in owed(p)})
        assert len({m.peer for m in server.messages}) == len(p.messages)


def test_rate_limit_spaces_messages(tmp_path: Path) -> None:
    with SmtpServer(mode="plain") as server:
        config = smtp_config(tmp_path, server, rate_limit=20)  # 20 per minute: 3 s apart
        clock = [100.0]
        waits: list[float] = []

        def sleep(seconds: float) -> None:
            waits.append(round(seconds, 3))
            clock[0] += seconds

        transport = SmtpTransport(config.reminders.smtp, ca_file=None, clock=lambda: clock[0], sleep=sleep)
        p = make_plan(config)
        assert {o.outcome for o in deliver(p, config, transport=transport)} == {"sent"}
        assert waits == [3.0] * (len(p.messages) - 1)
        assert len(server.messages) == len(p.messages)


def test_weekends_and_holidays_send_nothing_make_up_days_do(tmp_path: Path) -> None:
    with SmtpServer(mode="plain") as server:
        config = smtp_config(tmp_path, server)
        for day in (date(2026, 10, 1), date(2026, 10, 3), date(2026, 10, 4), date(2026, 10, 7), date(2026, 11, 21)):
            assert deliver(make_plan(config, day), config) == []
        assert not server.messages
        make_up = date(2026, 10, 10)  # Saturday, a 调休 working day
        assert {o.outcome for o in deliver(make_plan(config, make_up), config)} == {"sent"}
        assert server.messages and {m.email["X-Followup-Day"] for m in server.messages} == {"2026-10-10"}


def test_header_injection_does_not_reach_the_envelope(tmp_path: Path) -> None:
    dataset, statuses = fixture()
    from addon.model import Dataset, Member

    team = [Member("张三\r\nBcc: spy@evil.example", "zhang@example.com", row=2) if m.name == "张三" else m for m in dataset.team]
    customers = [c.__class__(**{**c.__dict__, "owner": "张三\r\nBcc: spy@evil.example"}) if c.owner == "张三" else c for c in dataset.customers]
    with SmtpServer(mode="plain") as server:
        config = smtp_config(tmp_path, server)
        p = plan(Dataset(customers, dataset.followups, team, [], tabs={}), statuses, config, AS_OF, LINK)
        deliver(p, config)
        assert all(r != "spy@evil.example" for m in server.messages for r in m.rcpt_tos)
        assert all(m.email["Bcc"] is None for m in server.messages)


# --- crash between two sends ---------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from addon.config import load_config
    from addon.notify.send import deliver
    from addon.notify.transports import SmtpTransport
    from tests.test_reminders_plan import AS_OF, LINK, fixture, plan

    config = load_config(None, json.loads(sys.argv[1]))
    marker = Path(sys.argv[2])
    pause_after = int(sys.argv[3])

    class SlowAfterFirst(SmtpTransport):
        sent = 0
        def send(self, msg):
            if self.sent and self.sent == pause_after:
                marker.write_text(str(self.sent))
                time.sleep(60)  # killed here: the previous message accepted and committed, this one not sent
            super().send(msg)
            self.sent += 1

    dataset, statuses = fixture()
    deliver(plan(dataset, statuses, config, AS_OF, LINK), config, transport=SlowAfterFirst(config.reminders.smtp))
    """
)


def _config_data(tmp_path: Path, server: SmtpServer) -> dict[str, Any]:
    return {
        "state_dir": str(tmp_path / "state"),
        "reminders": {"transport": "smtp", "admin": "admin@example.com",
                      "smtp": {"host": server.host, "port": server.port, "security": "none", "timeout": "5s"}},
    }


def _spawn(tmp_path: Path, server: SmtpServer, marker: Path, pause_after: int = 1) -> subprocess.Popen[bytes]:
    import json

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    return subprocess.Popen([sys.executable, str(script), json.dumps(_config_data(tmp_path, server)), str(marker), str(pause_after)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(condition: Any, child: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if child.poll() is not None:
            raise AssertionError(f"child exited early: {child.communicate()[1].decode()[-2000:]}")
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError("timed out waiting for the child")
        time.sleep(0.02)


def test_killed_between_two_sends_the_next_run_sends_exactly_what_is_owed(tmp_path: Path) -> None:
    with SmtpServer(mode="plain") as server:
        marker = tmp_path / "sent.txt"
        child = _spawn(tmp_path, server, marker)
        _wait_for(marker.exists, child)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        assert len(server.messages) == 1

        config = load_config(None, _config_data(tmp_path, server))
        p = make_plan(config)
        outcomes = deliver(p, config)
        assert Counter(o.outcome for o in outcomes) == Counter({"already_sent": 1, "sent": len(p.messages) - 1})
        assert delivered_keys(server) == Counter({key: 1 for key in owed(p)})  # each exactly once
        assert {o.outcome for o in deliver(make_plan(config), config)} == {"already_sent"}


def test_killed_after_the_server_accepted_but_before_the_commit_resends_with_the_same_message_id(tmp_path: Path) -> None:
    """The one window left: at-least-once, and the copy carries the same Message-ID (see ledger.py)."""
    accepted = threading.Event()
    release = threading.Event()

    def hold(item: Received) -> None:
        if len(handler.messages) == 2:  # the second message: the server has it, the client has no 250 yet
            accepted.set()
            release.wait(20)

    handler = Handler(on_accept=hold)
    with SmtpServer(mode="plain", handler=handler) as server:
        marker = tmp_path / "unused.txt"
        child = _spawn(tmp_path, server, marker, pause_after=0)
        try:
            _wait_for(accepted.is_set, child)
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
        finally:
            release.set()
        config = load_config(None, _config_data(tmp_path, server))
        p = make_plan(config)
        deliver(p, config)
        ids = Counter(m.email["Message-ID"] for m in server.messages)
        assert len(ids) == len(p.messages)  # every owed message arrived
        assert sorted(ids.values()) == [1] * (len(p.messages) - 1) + [2]  # one copy, same Message-ID


def test_run_exits_4_while_a_reminder_is_not_delivered_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cron job must notice a mail problem even on a sheet that always has some data errors (exit 1)."""
    from addon.cli import main
    from addon.demo_data import write_demo_workbook

    write_demo_workbook(tmp_path / "book.xlsx", AS_OF, "en")
    handler = Handler()
    with SmtpServer(mode="plain", handler=handler) as server:
        config = tmp_path / "config.yaml"
        config.write_text(
            "locale: en\nsource: {excel: book.xlsx}\nstate_dir: state\n"
            f"reminders: {{transport: smtp, send_on: every_day, smtp: {{host: {server.host}, port: {server.port}, "
            "security: none, sender: bot@example.com}}\n", encoding="utf-8")
        args = ["--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet"]
        assert main(["run", *args, "--dry-run", "--json"]) == 1  # the demo has bad rows; nothing is sent
        planned = json.loads(capsys.readouterr().out)["messages"]
        late = planned[0]["to"].lower()
        handler.defer[late] = "451 4.7.1 Greylisted, try again later"

        assert main(["run", *args]) == 4
        err = capsys.readouterr().err
        assert "  Reminders: deferred, retried next run 1, sent 11" in err.splitlines()
        assert f"    not delivered: follow-up digest → {planned[0]['to']}: {late}: 451 4.7.1 Greylisted, try again later" in err.splitlines()
        assert server.count_to(late) == 0 and len(server.messages) == len(planned) - 1
        runlog = sheets(tmp_path / "book.xlsx")["Run log"]
        assert "data errors; 1 message(s) not delivered" in runlog[-1]  # the Run log's outcome cell

        assert main(["remind", *args]) == 4  # `remind` lists every message: the undelivered one once, with its reason
        mentions = [line for line in capsys.readouterr().err.splitlines() if planned[0]["to"] in line]
        assert len(mentions) == 1 and mentions[0].startswith("  deferred, retried next run: follow-up digest")
        assert mentions[0].endswith(f": {late}: 451 4.7.1 Greylisted, try again later")

        handler.defer.clear()
        assert main(["remind", *args]) == 1  # the owed message went out: back to "data errors" only
        assert server.count_to(late) == 1 and len(server.messages) == len(planned)
