"""The reminder ledger and deliver() (issue #5 parts 4–5): never twice, retry what failed, lose nothing.

Delivery here goes through the real outbox transport, or through a small scripted transport that
implements the same one-method interface (it stands for "a server that says 4xx/5xx"; the real SMTP
server versions of these cases are in test_smtp_delivery.py).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from addon.config import Config
from addon.core.reminders import Plan
from addon.notify.ledger import Ledger, ledger_path
from addon.notify.send import Outcome, deliver
from addon.notify.transports import ConnectionFailure, PermanentFailure, TemporaryFailure
from tests.test_reminders_plan import AS_OF, LINK, fixture, make_config, plan

NEXT_DAY = date(2026, 11, 24)


class ScriptedTransport:
    """A transport whose server answers per recipient: ok, 4xx (temporary) or 5xx (permanent)."""

    def __init__(self, answers: dict[str, Exception] | None = None) -> None:
        self.answers = answers or {}
        self.delivered: list[EmailMessage] = []
        self.attempts: list[str] = []
        self.closed = 0

    def send(self, msg: EmailMessage) -> None:
        to = msg["To"].addresses[0].addr_spec
        self.attempts.append(to)
        if to in self.answers:
            raise self.answers[to]
        self.delivered.append(msg)

    def close(self) -> None:
        self.closed += 1

    def count(self, to: str, kind: str | None = None) -> int:
        return sum(1 for m in self.delivered if m["To"].addresses[0].addr_spec == to and (kind is None or m["X-Followup-Kind"] == kind))


def make_plan(config: Config, day: date = AS_OF) -> Plan:
    dataset, statuses = fixture()
    return plan(dataset, statuses, config, day, LINK)


def by_key(outcomes: list[Outcome]) -> dict[tuple[str, str], str]:
    return {(o.kind, o.to): o.outcome for o in outcomes}


def test_sent_once_then_never_again(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    p = make_plan(config)
    first = deliver(p, config)
    assert {o.outcome for o in first} == {"sent"}
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == len(p.messages)
    second = deliver(make_plan(config), config)
    assert {o.outcome for o in second} == {"already_sent"}
    assert sorted((tmp_path / "outbox").iterdir()) == files
    with Ledger.for_config(config) as ledger:
        rows = ledger.entries(AS_OF)
    assert len(rows) == len(p.messages)
    assert all(r.outcome == "sent" and r.attempts == 1 and r.sent_at for r in rows)
    digest = next(r for r in rows if r.kind == "digest" and r.recipient == "zhang@example.com")
    assert digest.customers == ("C5", "C6", "C1", "C2", "C3")
    assert digest.message_id == next(o.message_id for o in first if o.kind == "digest" and o.to == "zhang@example.com")


def test_force_resends_under_a_new_message_id(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    first = deliver(make_plan(config), config)
    again = deliver(make_plan(config), config, force=True)
    assert {o.outcome for o in again} == {"sent"}
    for before, after in zip(first, again, strict=True):
        assert before.message_id != after.message_id  # a client would drop a copy with the same id
    assert len(list((tmp_path / "outbox").iterdir())) == 2 * len(first)
    with Ledger.for_config(config) as ledger:
        assert {(r.resends, r.attempts) for r in ledger.entries(AS_OF)} == {(1, 2)}


def test_temporary_failure_is_retried_on_the_next_run(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    server = ScriptedTransport({"zhang@example.com": TemporaryFailure("451 4.7.1 Greylisted")})
    first = by_key(deliver(make_plan(config), config, transport=server))
    assert first[("digest", "zhang@example.com")] == "deferred"
    assert first[("digest", "li@example.com")] == "sent"
    server.answers.clear()
    second = by_key(deliver(make_plan(config), config, transport=server))
    assert second[("digest", "zhang@example.com")] == "sent"
    assert second[("digest", "li@example.com")] == "already_sent"
    assert server.count("zhang@example.com", "digest") == 1
    assert all(server.count(m.to, m.kind) == 1 for m in make_plan(config).messages)
    with Ledger.for_config(config) as ledger:
        row = ledger.get(("zhang@example.com", "digest", AS_OF.isoformat()))
        assert row is not None and row.attempts == 2 and row.outcome == "sent"
        assert [e["outcome"] for e in ledger.events(row.key)] == ["sending", "deferred", "sending", "sent"]


def test_permanent_refusal_is_reported_and_not_retried_that_day(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    server = ScriptedTransport({"li@example.com": PermanentFailure("550 5.1.1 No such user")})
    first = deliver(make_plan(config), config, transport=server)
    refused = [o for o in first if o.to == "li@example.com"]
    assert {o.outcome for o in refused} == {"refused"} and "550" in refused[0].detail
    attempts = len(server.attempts)
    second = deliver(make_plan(config), config, transport=server)
    assert {o.outcome for o in second if o.to == "li@example.com"} == {"already_refused"}
    assert all("550" in o.detail for o in second if o.to == "li@example.com")
    assert len(server.attempts) == attempts  # nothing was even tried
    # A new day is a new digest: the address is tried again (and refused again, here).
    third = deliver(make_plan(config, NEXT_DAY), config, transport=server)
    assert {o.outcome for o in third if o.to == "li@example.com"} == {"refused"}
    # force retries a refusal the same day
    server.answers.clear()
    forced = deliver(make_plan(config), config, transport=server, force=True)
    assert {o.outcome for o in forced} == {"sent"}


def test_connection_failure_stops_the_batch_and_everything_is_owed_next_run(tmp_path: Path) -> None:
    config = make_config(tmp_path)

    class Down(ScriptedTransport):
        def send(self, msg: EmailMessage) -> None:
            self.attempts.append(msg["To"].addresses[0].addr_spec)
            raise ConnectionFailure("cannot connect to SMTP server mail:465: Connection refused")

    down = Down()
    outcomes = deliver(make_plan(config), config, transport=down)
    assert len(down.attempts) == 1 and down.closed == 1
    assert {o.outcome for o in outcomes} == {"deferred"}
    assert all("Connection refused" in o.detail for o in outcomes)
    assert all(o.detail.startswith("not attempted") for o in outcomes[1:])
    server = ScriptedTransport()
    again = deliver(make_plan(config), config, transport=server)
    assert {o.outcome for o in again} == {"sent"} and len(server.delivered) == len(outcomes)


def test_compose_error_is_recorded_and_retried_after_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "digest.zh.txt.j2").write_text("{{ no_such_variable }}", encoding="utf-8")
    config = make_config(tmp_path, templates=str(folder))
    server = ScriptedTransport()
    outcomes = deliver(make_plan(config), config, transport=server)
    broken = [o for o in outcomes if o.kind == "digest"]
    assert broken and {o.outcome for o in broken} == {"error"} and "no_such_variable" in broken[0].detail
    assert {o.outcome for o in outcomes if o.kind != "digest"} == {"sent"}
    (folder / "digest.zh.txt.j2").unlink()
    again = by_key(deliver(make_plan(config), config, transport=server))
    assert {again[(o.kind, o.to)] for o in broken} == {"sent"}


def test_dry_run_sends_and_records_nothing(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    server = ScriptedTransport()
    outcomes = deliver(make_plan(config), config, dry_run=True, transport=server)
    assert {o.outcome for o in outcomes} == {"dry_run"} and outcomes[0].subject.startswith("[跟进提醒]")
    assert not server.attempts and not ledger_path(config).exists() and not (tmp_path / "outbox").exists()
    deliver(make_plan(config), config)
    assert {o.outcome for o in deliver(make_plan(config), config, dry_run=True)} == {"already_sent"}
    assert {o.outcome for o in deliver(make_plan(config), config, dry_run=True, force=True)} == {"dry_run"}


def test_nothing_planned_touches_nothing(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    assert deliver(make_plan(config, date(2026, 10, 1)), config) == []
    assert not ledger_path(config).exists()


def test_outcomes_are_what_run_json_lists(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    outcome = deliver(make_plan(config), config)[0]
    assert outcome.to_json() == {"kind": "digest", "to": outcome.to, "customers": list(outcome.customers), "outcome": "sent", "detail": ""}


def test_a_second_process_cannot_claim_a_message_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    key = ("zhang@example.com", "digest", AS_OF.isoformat())
    clock = [datetime(2026, 11, 23, 1, 0, tzinfo=UTC)]
    first, second = Ledger(path, clock=lambda: clock[0]), Ledger(path, clock=lambda: clock[0])
    decision, entry = first.claim(key, ["C1"], lambda n: f"<id{n}@x>", lease=timedelta(minutes=5))
    assert decision == "send" and entry.outcome == "sending"
    assert second.claim(key, ["C1"], lambda n: f"<id{n}@x>")[0] == "in_progress"
    # The lease expires (the first run hung or died mid-transaction): at-least-once, same Message-ID.
    clock[0] += timedelta(minutes=6)
    decision, retry = second.claim(key, ["C1"], lambda n: f"<id{n}@x>")
    assert decision == "send" and retry.message_id == "<id0@x>" and retry.attempts == 2
    second.finish(key, "sent")
    assert first.claim(key, ["C1"], lambda n: f"<id{n}@x>")[0] == "already_sent"
    first.close()
    second.close()


def test_a_dead_process_does_not_hold_its_lease(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    key = ("zhang@example.com", "digest", AS_OF.isoformat())
    with Ledger(path) as ledger:
        ledger.claim(key, ["C1"], lambda n: f"<id{n}@x>")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    with sqlite3.connect(path) as db:
        owner = db.execute("SELECT owner FROM messages").fetchone()[0]
        db.execute("UPDATE messages SET owner = ?", (owner.rpartition(":")[0] + ":" + dead.stdout.strip(),))
    with Ledger(path) as ledger:
        decision, entry = ledger.claim(key, ["C1"], lambda n: f"<id{n}@x>")
    assert decision == "send" and entry.message_id == "<id0@x>"


@pytest.mark.parametrize("outcome", ["sent", "refused"])
def test_a_final_outcome_survives_reopening(tmp_path: Path, outcome: str) -> None:
    path = tmp_path / "state" / "ledger.sqlite3"
    key = ("a@example.com", "escalation", AS_OF.isoformat())
    with Ledger(path) as ledger:
        ledger.claim(key, ["C1", "C2"], lambda n: "<x@y>")
        ledger.finish(key, outcome, "550 no" if outcome == "refused" else "")
    with Ledger(path) as ledger:
        entry = ledger.get(key)
        assert entry is not None and entry.outcome == outcome and entry.customers == ("C1", "C2")
        assert ledger.claim(key, ["C1"], lambda n: "<x@y>")[0] == f"already_{outcome}"


def test_outbox_is_the_default_transport(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    assert config.reminders.transport == "outbox"
    deliver(make_plan(config), config)
    files = list((tmp_path / "outbox").iterdir())
    assert files and all(p.suffix == ".eml" for p in files)
