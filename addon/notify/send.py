"""Deliver a Plan: consult the ledger, compose, send one message at a time, record each result at once.

The order for every message is claim (commit `sending`) → compose → transport.send → commit the
outcome. A crash therefore loses nothing: what was committed `sent` is never sent again, and everything
else is still owed on the next run (see addon.notify.ledger for the one at-least-once window).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from addon.config import Config
from addon.core.reminders import Message, Plan
from addon.notify import messages as compose_mod
from addon.notify.ledger import Ledger, known_ledger_path
from addon.notify.transports import (
    ConnectionFailure,
    PermanentFailure,
    TemporaryFailure,
    Transport,
    build_transport,
)

log = logging.getLogger("addon.notify")

# Outcome values (Outcome.outcome): delivered now, nothing to do, or not delivered.
SENT = "sent"
DRY_RUN = "dry_run"  # would be sent
ALREADY_SENT = "already_sent"  # the ledger says it went out today
IN_PROGRESS = "in_progress"  # another run holds it right now
ALREADY_REFUSED = "already_refused"  # refused (5xx) earlier today; not retried until tomorrow's digest
DEFERRED = "deferred"  # temporary failure: retried on the next run
REFUSED = "refused"  # permanent failure (5xx)
ERROR = "error"  # could not compose/send for another reason: retried on the next run
DELIVERED = frozenset({SENT, ALREADY_SENT, DRY_RUN, IN_PROGRESS})
OUTCOME_LABELS: dict[str, tuple[str, str]] = {  # (zh, en) for summaries
    SENT: ("已发送", "sent"),
    DRY_RUN: ("待发送（试运行）", "would send"),
    ALREADY_SENT: ("今天已发过", "already sent today"),
    IN_PROGRESS: ("另一运行正在发送", "being sent by another run"),
    ALREADY_REFUSED: ("今天已被拒收", "refused earlier today"),
    DEFERRED: ("暂未送达，下次重试", "deferred, retried next run"),
    REFUSED: ("被拒收", "refused"),
    ERROR: ("出错，下次重试", "failed, retried next run"),
}


@dataclass(frozen=True)
class Outcome:
    """What happened to one planned message; `run --json` lists these as messages."""

    kind: str
    to: str
    customers: tuple[str, ...]
    outcome: str
    detail: str = ""
    message_id: str = ""
    subject: str = ""
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome in DELIVERED

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "to": self.to, "customers": list(self.customers), "outcome": self.outcome, "detail": self.detail}


def deliver(
    plan: Plan,
    config: Config,
    *,
    force: bool = False,
    dry_run: bool = False,
    transport: Transport | None = None,
    now: datetime | None = None,
) -> list[Outcome]:
    """Send what `plan` owes that the ledger has not seen go out; one Outcome per planned message."""
    if not plan.messages:
        return []
    if dry_run:
        return _dry_run(plan, config, force=force, now=now)
    transport = transport or build_transport(config)
    lease = _lease(config)
    outcomes: list[Outcome] = []
    with Ledger.for_config(config) as ledger:
        try:
            stopped: str | None = None
            for message in plan.messages:
                if stopped is not None:
                    outcomes.append(_not_attempted(ledger, message, config, stopped))
                    continue
                outcome, stopped = _deliver_one(ledger, transport, message, config, force=force, lease=lease, now=now)
                outcomes.append(outcome)
        finally:
            transport.close()
    return outcomes


def _deliver_one(
    ledger: Ledger,
    transport: Transport,
    message: Message,
    config: Config,
    *,
    force: bool,
    lease: timedelta,
    now: datetime | None,
) -> tuple[Outcome, str | None]:
    """One message; the second value is set when the transport cannot send anything more this run."""
    sender = compose_mod.sender_address(config).addr_spec
    decision, entry = ledger.claim(
        message.key, message.customers, lambda n: compose_mod.message_id(message, sender, n), force=force, lease=lease
    )
    base = {"kind": message.kind, "to": message.to, "customers": message.customers, "message_id": entry.message_id,
            "subject": compose_mod.subject(message), "attempts": entry.attempts}
    if decision != "send":
        detail = entry.detail if decision == "already_refused" else ""
        return Outcome(outcome=decision, detail=detail, **base), None
    try:
        email = compose_mod.compose(message, config, now=now, resend=entry.resends)
    except Exception as error:  # a broken user template or an address that is not one: report, retry next run
        detail = f"cannot compose: {type(error).__name__}: {error}"
        ledger.finish(message.key, ERROR, detail)
        log.error("reminder %s to %s not composed: %s", message.kind, message.to, detail)
        return Outcome(outcome=ERROR, detail=detail, **base), None
    try:
        transport.send(email)
    except ConnectionFailure as error:
        ledger.finish(message.key, DEFERRED, str(error))
        log.error("reminders stopped: %s", error)
        return Outcome(outcome=DEFERRED, detail=str(error), **base), str(error)
    except TemporaryFailure as error:
        ledger.finish(message.key, DEFERRED, str(error))
        log.warning("reminder %s to %s deferred: %s", message.kind, message.to, error)
        return Outcome(outcome=DEFERRED, detail=str(error), **base), None
    except PermanentFailure as error:
        ledger.finish(message.key, REFUSED, str(error))
        log.error("reminder %s to %s refused: %s", message.kind, message.to, error)
        return Outcome(outcome=REFUSED, detail=str(error), **base), None
    except Exception as error:  # an unexpected transport bug must not lose the rest of the batch
        detail = f"{type(error).__name__}: {error}"
        ledger.finish(message.key, ERROR, detail)
        log.exception("reminder %s to %s failed", message.kind, message.to)
        return Outcome(outcome=ERROR, detail=detail, **base), None
    # Accepted by the server: commit now, before anything else can go wrong.
    ledger.finish(message.key, SENT)
    log.info("reminder %s sent to %s (%d customers)", message.kind, message.to, len(message.customers))
    return Outcome(outcome=SENT, **base), None


def _not_attempted(ledger: Ledger, message: Message, config: Config, reason: str) -> Outcome:
    sender = compose_mod.sender_address(config).addr_spec
    existing = ledger.get(message.key)
    if existing is not None and existing.outcome in ("sent", "refused"):
        outcome = ALREADY_SENT if existing.outcome == "sent" else ALREADY_REFUSED
        return Outcome(message.kind, message.to, message.customers, outcome, existing.detail if outcome == ALREADY_REFUSED else "",
                       existing.message_id, compose_mod.subject(message), existing.attempts)
    message_id = existing.message_id if existing else compose_mod.message_id(message, sender)
    ledger.note(message.key, message.customers, message_id, DEFERRED, f"not attempted: {reason}")
    return Outcome(message.kind, message.to, message.customers, DEFERRED, f"not attempted: {reason}", message_id,
                   compose_mod.subject(message))


def _dry_run(plan: Plan, config: Config, *, force: bool, now: datetime | None) -> list[Outcome]:
    """Compose everything (so template errors show) and read the ledger if there is one; write nothing."""
    path = known_ledger_path(config)
    ledger = Ledger(path) if path is not None else None
    sender = compose_mod.sender_address(config).addr_spec
    out = []
    try:
        for message in plan.messages:
            entry = ledger.get(message.key) if ledger else None
            base = {"kind": message.kind, "to": message.to, "customers": message.customers,
                    "message_id": entry.message_id if entry else compose_mod.message_id(message, sender),
                    "subject": compose_mod.subject(message)}
            if entry is not None and entry.outcome in ("sent", "refused") and not force:
                outcome = ALREADY_SENT if entry.outcome == "sent" else ALREADY_REFUSED
                out.append(Outcome(outcome=outcome, **base))
                continue
            try:
                compose_mod.compose(message, config, now=now)
            except Exception as error:
                out.append(Outcome(outcome=ERROR, detail=f"cannot compose: {type(error).__name__}: {error}", **base))
                continue
            out.append(Outcome(outcome=DRY_RUN, **base))
    finally:
        if ledger is not None:
            ledger.close()
    return out


def _lease(config: Config) -> timedelta:
    """How long a `sending` mark keeps other runs away: longer than one SMTP transaction can take."""
    timeout = config.reminders.smtp.timeout
    return max(timedelta(minutes=2), timeout * 4)
