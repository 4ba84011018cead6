"""Cadence (跟进频率): customers + follow-ups + rules + as-of date → one status per customer (SPEC §5).

Pure: no I/O, no clock. The due date is the first rule that applies:
1. `manual`: the customer's next_follow_up when it is after the last contact (or there is none);
   `planned`: else the last follow-up's next_date;
2. `first_response`: never contacted → created + first_response (keeping created's time, so
   15:00 + 24h is the next day); `no_created`: never contacted and no created date → due as of today;
3. `after_won` / `after_sales`: won stages → won date + after_won[n], n = follow-ups on days after the won
   date, while n < len(after_won); then last contact + after_sales;
4. `stage` / `tier`: last contact + the stage interval, else the tier's, else the default tier's.

Status precedence: pool > escalated > overdue > due_today > due_soon > ok; `closed` (lost/inactive) and
`invalid` (row with errors) have no due date.

Working days (`cadence.working_days`): durations count working days and every due date, manual ones
included, rolls forward off weekends and holidays (the Rule says when it was moved). Days overdue,
escalation, pool and dormancy stay calendar days: a customer waiting through a holiday is still waiting.

Dormancy: an open-stage customer quiet for at least `cadence.dormant` (counted like pool: from the last
contact, else from created) keeps its status; the Rule gets a `dormant` param (days of silence) and its
text suggests marking the customer dormant (休眠). Nothing else changes.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from addon.config import Config
from addon.core import history
from addon.core.calendar import WorkCalendar, shift
from addon.core.fields import value_label
from addon.i18n import Catalog, span_params, span_text, text
from addon.model import Customer, CustomerStatus, Dataset, DueDate, FollowUp, Rule, Status

RULES: Catalog = {
    "manual": ("手动设定的下次跟进日期：{date}", "Next follow-up set by hand: {date}"),
    "planned": ("上次跟进（{contact}）约定的下次跟进：{date}", "Planned at the last contact ({contact}): {date}"),
    "first_response": ("新客户首次响应：创建后{span}内（创建于 {created}）",
                       "New customer, first response: within {span} of creation (created {created})"),
    "no_created": ("新客户尚未跟进且缺少创建日期：按今天到期，请补填创建日期",
                   "Never contacted and no created date: due today; please fill in the created date"),
    "after_won": ("成交后第{touch}次回访（成交日 {won} + {span}）", "After-sale touch point {touch} (won date {won} + {span})"),
    "after_sales": ("售后定期回访，每{span}一次：上次跟进 {contact} + {span}",
                    "After-sales check-in every {span}: last contact {contact} + {span}"),
    "stage": ("{stage}阶段每{span}跟进一次：上次跟进 {contact} + {span}", "Stage {stage} every {span}: last contact {contact} + {span}"),
    "tier": ("{tier}级客户每{span}跟进一次：上次跟进 {contact} + {span}", "Tier {tier} every {span}: last contact {contact} + {span}"),
    "tier.blank": ("未填客户等级，按{tier}级每{span}跟进一次：上次跟进 {contact} + {span}",
                   "No tier given, default tier {tier} every {span}: last contact {contact} + {span}"),
    "tier.unknown": ("{given}级没有设定频率，按{tier}级每{span}跟进一次：上次跟进 {contact} + {span}",
                     "Tier {given} has no interval, default tier {tier} every {span}: last contact {contact} + {span}"),
    "closed": ("已关闭（{stage}）：不再跟进", "Closed ({stage}): no follow-up due"),
    "invalid": ("本行数据有误，修正后才计算跟进（见“数据问题”表）", "This row has errors; fix them to get a due date (see the Issues tab)"),
    "rolled": ("，遇非工作日顺延至 {due}", ", moved to the next working day {due}"),
    "dormant": ("；已{days}天未联系，可考虑转为休眠", "; no contact for {days} days, consider marking it dormant"),
}


def calendar_for(config: Config) -> WorkCalendar | None:
    """The calendar durations are counted in: None (calendar days) unless `cadence.working_days` is on."""
    return WorkCalendar.from_config(config) if config.cadence.working_days else None


def _unit(calendar: WorkCalendar | None) -> dict[str, str | int]:
    return {"unit": "wd"} if calendar is not None else {}


def _fixed(day: date, code: str, params: dict[str, str | int], calendar: WorkCalendar | None) -> DueDate:
    """A due date someone wrote down; with working days it rolls forward and the Rule records the move."""
    due = calendar.roll_forward(day) if calendar is not None else day
    if due != day:
        params = {**params, "rolled_to": due.isoformat()}
    return DueDate(due, Rule(code, params))


def due_date(
    customer: Customer,
    contacts: list[FollowUp],
    config: Config,
    as_of: date,
    calendar: WorkCalendar | None = None,
) -> DueDate:
    """The next due date of an open or won customer and the rule that chose it (see the module docstring).

    `contacts` is the customer's history, oldest first (Dataset.histories); `calendar` counts working
    days (None = calendar days).
    """
    return _due(customer, contacts, history.won_date(customer, contacts, config), config, as_of, calendar)


def _due(
    customer: Customer,
    contacts: list[FollowUp],
    won: date | None,
    config: Config,
    as_of: date,
    calendar: WorkCalendar | None,
) -> DueDate:
    cadence = config.cadence
    last = history.last_contact(contacts)
    manual = customer.next_follow_up
    if manual is not None and (last is None or manual > last.day):
        return _fixed(manual, "manual", {"date": manual.isoformat()}, calendar)
    if last is not None and last.next_date is not None:
        return _fixed(last.next_date, "planned", {"date": last.next_date.isoformat(), "contact": last.day.isoformat()}, calendar)
    if last is None:
        if customer.created is None:
            return DueDate(as_of, Rule("no_created"))
        params = {"created": customer.created.date().isoformat(), **span_params(cadence.first_response, prefer_hours=True), **_unit(calendar)}
        return DueDate(shift(customer.created, cadence.first_response, calendar), Rule("first_response", params))
    contact = last.day.isoformat()
    if customer.stage in config.stages.won:
        won = won or last.day
        touch = history.count_after(contacts, won)
        if touch < len(cadence.after_won):
            delta = cadence.after_won[touch]
            params = {"won": won.isoformat(), "touch": touch + 1, **span_params(delta), **_unit(calendar)}
            return DueDate(shift(won, delta, calendar), Rule("after_won", params))
        params = {"contact": contact, **span_params(cadence.after_sales), **_unit(calendar)}
        return DueDate(shift(last.at, cadence.after_sales, calendar), Rule("after_sales", params))
    delta = history.interval(customer.tier, customer.stage, config)
    span = {"contact": contact, **span_params(delta), **_unit(calendar)}
    if customer.stage in cadence.by_stage:
        rule = Rule("stage", {"stage": customer.stage, **span})
    elif customer.tier in cadence.by_tier:
        rule = Rule("tier", {"tier": customer.tier, **span, **({} if customer.tier_given else {"fallback": "blank"})})
    else:
        rule = Rule("tier", {"tier": config.defaults.tier, "given": customer.tier, "fallback": "unknown", **span})
    return DueDate(shift(last.at, delta, calendar), rule)


def _classify(
    customer: Customer, due: date, quiet: int | None, config: Config, as_of: date
) -> Status:
    """Precedence pool > escalated > overdue > due_today > due_soon > ok. A customer without an owner is
    in the public pool already (SPEC §3): never proposed for it, as urgent as its due date says."""
    cadence = config.cadence
    if (
        quiet is not None
        and customer.owner is not None
        and not customer.protected
        and customer.stage not in config.stages.won
        and history.is_open(customer.stage, config)
        and timedelta(days=quiet) >= cadence.pool_after
    ):
        return "pool"
    if due < as_of:
        return "escalated" if as_of - due >= cadence.escalate_after else "overdue"
    if due == as_of:
        return "due_today"
    if due - as_of <= cadence.due_soon:
        return "due_soon"
    return "ok"


def status_of(
    customer: Customer,
    contacts: list[FollowUp],
    config: Config,
    as_of: date,
    calendar: WorkCalendar | None = None,
) -> CustomerStatus:
    """One customer's status; `contacts` oldest first, `calendar` as in due_date."""
    last = history.last_contact(contacts)
    last_day = last.day if last is not None else None
    won = history.won_date(customer, contacts, config)
    facts = {
        "key": customer.key,
        "row": customer.row,
        "last_contact": last_day,
        "followups": len(contacts),
        "won_date": won,
        "days_since_contact": (as_of - last_day).days if last_day is not None else None,
    }
    if not customer.valid:
        return CustomerStatus(status="invalid", next_due=None, days_overdue=0, rule=Rule("invalid"), **facts)
    if history.is_closed(customer.stage, config):
        return CustomerStatus(status="closed", next_due=None, days_overdue=0, rule=Rule("closed", {"stage": customer.stage}), **facts)
    found = _due(customer, contacts, won, config, as_of, calendar)
    since = history.quiet_since(customer, contacts)
    quiet = (as_of - since).days if since is not None else None
    rule = found.rule
    if (
        quiet is not None
        and customer.stage not in config.stages.won
        and history.is_open(customer.stage, config)
        and timedelta(days=quiet) >= config.cadence.dormant
    ):
        rule = Rule(rule.code, {**rule.params, "dormant": quiet})
    return CustomerStatus(
        status=_classify(customer, found.due, quiet, config, as_of),
        next_due=found.due,
        days_overdue=max(0, (as_of - found.due).days),
        rule=rule,
        **facts,
    )


def evaluate(dataset: Dataset, config: Config, as_of: date, calendar: WorkCalendar | None = None) -> list[CustomerStatus]:
    """A status per customer, in the order of dataset.customers.

    `calendar` lets a caller share one WorkCalendar (and its warnings) across runs; it is only used when
    `cadence.working_days` is on.
    """
    if config.cadence.working_days:
        calendar = calendar or WorkCalendar.from_config(config)
    else:
        calendar = None
    grouped = dataset.histories
    empty: list[FollowUp] = []
    return [status_of(c, grouped.get(c.key, empty), config, as_of, calendar) for c in dataset.customers]


def rule_text(rule: Rule, locale: str) -> str:
    """The Rule column: which rule chose the due date, in words (zh or en)."""
    return _rule_text(rule.code, tuple(rule.params.items()), locale)


@lru_cache(maxsize=8192)
def _rule_text(code: str, items: tuple[tuple[str, str | int], ...], locale: str) -> str:
    """Most customers share a handful of rules: each text is composed once per run, not per row."""
    params = dict(items)
    key = code
    if key == "tier" and params.get("fallback") in ("blank", "unknown"):
        key = f"tier.{params['fallback']}"
    words: dict[str, object] = {**params, "span": span_text(params, locale)}
    if "stage" in params:
        words["stage"] = value_label("stage", str(params["stage"]), locale)
    out = text(RULES, locale, key, **words)
    if "rolled_to" in params:
        out += text(RULES, locale, "rolled", due=params["rolled_to"])
    if "dormant" in params:
        out += text(RULES, locale, "dormant", days=params["dormant"])
    return out
