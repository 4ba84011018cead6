"""KPI engine (SPEC §6, issue #4): every figure of the KPI tab, from validated records and cadence statuses.

Pure: (dataset, statuses, config, as_of) in, a frozen `Kpis` out; no I/O, no clock. Managers must be able
to trust and re-derive every number, so the exact definitions live here and the tab repeats them in words.

Conventions
- The window is the `kpi.window` calendar days ending on and including as-of (default 30); the previous
  window has the same length and ends the day before. A date d is "in" a window when start <= d <= end.
- Only valid customers (no error-severity issue) and their follow-ups count. The log is read as it stood at
  the end of the as-of day: follow-ups dated after as-of are ignored everywhere. Previous-window figures use
  the log as it stood at the end of that window (a first contact or a win after it does not count for it).
- Rates are fractions 0-1. A figure with no data (empty denominator, empty median) is None, never 0.
  `change` = current - previous (rates: difference of fractions, i.e. percentage points / 100); None when
  either side is None.

Figures (per window unless noted)
- on_time_rate: follow-ups in the window that had a due date and happened on or before it, ÷ such
  follow-ups. The due date in force before a follow-up: the previous contact's planned `next_date`; else the
  previous contact + interval, where the interval is the stage rule for the stage in force at the previous
  contact (the latest stage set by follow-ups up to and including it; if none was ever recorded, the
  customer's current stage), else the tier rule, else the default tier (history.interval). A customer's first
  contact is judged against created + `first_response`; without a created date it is not judged.
  Datetimes are added and the due *date* taken; "on time" compares dates.
- coverage: as of today, active statuses (not closed/invalid) that are not overdue/escalated/pool ÷ active.
  For the previous window it needs statuses as of that window's end (pass
  `previous_statuses=previous_statuses(dataset, config, as_of, cadence.evaluate)`), else it is None.
- completion_rate: follow-ups whose `next_date` is in the window and whose next contact of the same
  customer (the next one in date order) happened on or before that date, ÷ those planned.
- avg_followups: follow-ups in the window ÷ customers with at least one follow-up in the window.
- first_response_median_hours: for customers created in the window whose first contact happened by the
  window's end, the median of hours from created to first contact. Exact hours when both the created value
  and the contact carry a time of day; otherwise whole days × 24 (a created value at exactly 00:00 is taken
  as date-only). Negative gaps (contact before created, a data problem flagged by validation) count as 0.
  When no gap of either window had a time of day at both ends, `Kpis.first_response_in_days` is set and
  the tab and terminal show the figure in days (the JSON keeps hours and says `first_response_dates_only`).
- first_response_within_target: of customers created in the window, those contacted within
  `first_response` hours ÷ those contacted plus those still uncontacted whose deadline
  (created + first_response, as a date) was before the window's end (customers still inside their
  deadline are pending and left out).
- win_rate: won ÷ (won + lost), over customers now in a won stage whose won date is in the window and
  customers now in a lost stage whose lost date is in the window (history.won_date / lost_date: the first
  follow-up that set such a stage, else the last contact).
- lead_conversion: customers created in the window that are now in a won stage (won date, if known, by
  the window's end) ÷ customers created in the window.
- deal_cycle_median_days: median of (won date - created date) in days, customers won in the window with a
  created date (negative counts as 0).
- new_customers/won/won_value/lost in window: plain counts and the summed value (missing value = 0).

Not per window
- funnel: valid customers now in each stage of `stages.order` except lost and inactive stages (stages not
  in the order are appended, alphabetically), with summed value (missing = 0). `conversion` on stage i is
  (customers at stage i or beyond) ÷ (customers at stage i-1 or beyond), over the active funnel: a reached
  stage implies the earlier ones were passed. None on the first stage or when the denominator is 0.
  `lost` and `dormant` count customers now in lost / inactive stages.
- leaderboard per owner: `customers` = valid customers owned (any stage); `followups` and `on_time_rate`
  over follow-ups in the window by who made them (the follow-up's owner, else the customer's owner);
  `overdue` = owned customers whose status is overdue or escalated (pool is reported apart as `pool`:
  those are proposed for return to the public pool, not the rep's current queue); `won` / `won_value` =
  owned customers won in the window. Active team members appear with zeros. Unassigned = owner None.
  Sorted by on-time rate (None last), then won value, both descending, then owner name.
- trend: the last `kpi.trend_weeks` ISO weeks ending with as-of's week (the current week counts up to
  as-of): follow-ups, customers created, customers won.
- under_followed (过早放弃): open customers with 1-3 follow-ups (a customer never contacted is a
  first-response problem, not giving up) whose last contact is more than twice their interval ago.
  Listed as objects, longest silence first.
- channel_mix: follow-ups in the window per channel, missing channel → "other"; most used first.
- all_time: as of as-of, customers, follow-ups, follow-ups per customer (÷ all valid customers), won and
  lost now, win rate, on-time rate, and the median number of contacts up to the won date.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Any

from addon.config import Config
from addon.core.history import contacts_before, end_of, interval, is_open, lost_date, won_date
from addon.model import CustomerStatus, Dataset, FollowUp

# Scalar figures, in the order of the JSON and the tab's headline table.
SCALAR_KEYS: tuple[str, ...] = (
    "on_time_rate",
    "coverage",
    "completion_rate",
    "avg_followups",
    "followups_in_window",
    "customers_contacted_in_window",
    "first_response_median_hours",
    "first_response_within_target",
    "win_rate",
    "lead_conversion",
    "deal_cycle_median_days",
    "new_customers_in_window",
    "won_in_window",
    "won_value_in_window",
    "lost_in_window",
)
RATE_KEYS: frozenset[str] = frozenset(
    {"on_time_rate", "coverage", "completion_rate", "first_response_within_target", "win_rate", "lead_conversion"}
)
COUNT_KEYS: frozenset[str] = frozenset(
    {"followups_in_window", "customers_contacted_in_window", "new_customers_in_window", "won_in_window", "lost_in_window"}
)
OVERDUE_STATUSES: frozenset[str] = frozenset({"overdue", "escalated"})
UNCOVERED_STATUSES: frozenset[str] = frozenset({"overdue", "escalated", "pool"})
INACTIVE_STATUSES: frozenset[str] = frozenset({"closed", "invalid"})


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True)
class Figures:
    """The scalar figures of one window; `basis` keeps (numerator, denominator) of each rate for the tab."""

    on_time_rate: float | None = None
    coverage: float | None = None
    completion_rate: float | None = None
    avg_followups: float | None = None
    followups_in_window: int = 0
    customers_contacted_in_window: int = 0
    first_response_median_hours: float | None = None
    first_response_within_target: float | None = None
    win_rate: float | None = None
    lead_conversion: float | None = None
    deal_cycle_median_days: float | None = None
    new_customers_in_window: int = 0
    won_in_window: int = 0
    won_value_in_window: float = 0.0
    lost_in_window: int = 0
    basis: dict[str, tuple[int, int]] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        return getattr(self, key)

    def scalars(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in SCALAR_KEYS}


@dataclass(frozen=True)
class FunnelRow:
    stage: str
    customers: int
    value: float
    conversion: float | None  # at-or-beyond this stage ÷ at-or-beyond the previous one


@dataclass(frozen=True)
class LeaderRow:
    owner: str | None
    customers: int
    followups: int
    overdue: int
    pool: int
    on_time_rate: float | None
    on_time: int  # follow-ups on time (numerator of on_time_rate)
    judged: int  # follow-ups with a due date (denominator)
    won: int
    won_value: float


@dataclass(frozen=True)
class TrendWeek:
    week: str  # ISO week, e.g. 2026-W47
    start: date  # its Monday
    followups: int
    new_customers: int
    won: int


@dataclass(frozen=True)
class UnderFollowed:
    key: str
    name: str
    owner: str | None
    followups: int
    last_contact: date
    days_since_contact: int
    interval_days: float


@dataclass(frozen=True)
class AllTime:
    customers: int
    followups: int
    customers_contacted: int
    followups_per_customer: float | None
    won: int
    lost: int
    win_rate: float | None
    on_time_rate: float | None
    followups_to_win_median: float | None


@dataclass(frozen=True)
class Kpis:
    as_of: date
    window: Window
    previous_window: Window
    current: Figures
    previous: Figures
    funnel: list[FunnelRow]
    lost: int
    dormant: int
    leaderboard: list[LeaderRow]
    trend: list[TrendWeek]
    under_followed: list[UnderFollowed]
    channel_mix: dict[str, int]
    all_time: AllTime
    first_response_hours: float  # the configured target, for definitions
    # Every first-response gap behind the figures was whole days (no time of day known): show days.
    first_response_in_days: bool = False

    @property
    def window_days(self) -> int:
        return self.window.days

    def change(self, key: str) -> float | int | None:
        """Current minus previous; None when either is unknown."""
        now, before = self.current.get(key), self.previous.get(key)
        if now is None or before is None:
            return None
        difference = now - before
        # Drop binary noise (0.4 - 0.0 shown as 0.39999999999999997) without changing any real digit.
        return round(difference, 12) if isinstance(difference, float) else difference

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings); stable keys per issue #4, extras documented in the module."""
        out: dict[str, Any] = {"as_of": self.as_of.isoformat(), "window_days": self.window_days}
        out.update(self.current.scalars())
        out["funnel"] = [
            {"stage": r.stage, "customers": r.customers, "value": r.value, "conversion": r.conversion} for r in self.funnel
        ]
        out["leaderboard"] = [
            {
                "owner": r.owner,
                "customers": r.customers,
                "followups": r.followups,
                "overdue": r.overdue,
                "on_time_rate": r.on_time_rate,
                "won": r.won,
                "won_value": r.won_value,
                "pool": r.pool,
            }
            for r in self.leaderboard
        ]
        out["trend"] = [
            {"week": w.week, "followups": w.followups, "new_customers": w.new_customers, "won": w.won} for w in self.trend
        ]
        out["under_followed"] = [
            {
                "key": u.key,
                "name": u.name,
                "owner": u.owner,
                "followups": u.followups,
                "last_contact": u.last_contact.isoformat(),
                "days_since_contact": u.days_since_contact,
            }
            for u in self.under_followed
        ]
        out["channel_mix"] = dict(self.channel_mix)
        out["previous"] = self.previous.scalars()
        out["change"] = {key: self.change(key) for key in SCALAR_KEYS}
        out["basis"] = {key: list(pair) for key, pair in self.current.basis.items()}
        out["window"] = {"start": self.window.start.isoformat(), "end": self.window.end.isoformat()}
        out["previous_window"] = {
            "start": self.previous_window.start.isoformat(),
            "end": self.previous_window.end.isoformat(),
        }
        out["first_response_target_hours"] = self.first_response_hours
        out["first_response_dates_only"] = self.first_response_in_days  # the hours above are whole days × 24
        out["lost"] = self.lost
        out["dormant"] = self.dormant
        a = self.all_time
        out["all_time"] = {
            "customers": a.customers,
            "followups": a.followups,
            "customers_contacted": a.customers_contacted,
            "followups_per_customer": a.followups_per_customer,
            "won": a.won,
            "lost": a.lost,
            "win_rate": a.win_rate,
            "on_time_rate": a.on_time_rate,
            "followups_to_win_median": a.followups_to_win_median,
        }
        return out


def window_days(config: Config) -> int:
    """`kpi.window` in whole calendar days (a partial day counts as a day; at least 1)."""
    return max(1, math.ceil(config.kpi.window.total_seconds() / 86400))


def windows(config: Config, as_of: date) -> tuple[Window, Window]:
    """The current window (ending on as-of) and the previous one of the same length."""
    days = window_days(config)
    current = Window(as_of - timedelta(days=days - 1), as_of)
    previous = Window(current.start - timedelta(days=days), current.start - timedelta(days=1))
    return current, previous


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _median(values: list[float]) -> float | None:
    return float(median(values)) if values else None


def _has_time(moment: datetime) -> bool:
    return moment.time() != time(0, 0)


class _Acc:
    """Mutable counters of one window while scanning; frozen into Figures at the end."""

    __slots__ = (
        "window", "followups", "contacted", "on_time", "judged", "planned", "done", "new", "fr_hours",
        "fr_exact", "fr_within", "fr_counted", "lead_won", "won", "won_value", "lost", "cycles",
    )

    def __init__(self, window: Window) -> None:
        self.window = window
        self.followups = self.contacted = self.on_time = self.judged = self.planned = self.done = 0
        self.new = self.fr_exact = self.fr_within = self.fr_counted = self.lead_won = self.won = self.lost = 0
        self.won_value = 0.0
        self.fr_hours: list[float] = []
        self.cycles: list[float] = []

    def figures(self, statuses: list[CustomerStatus] | None) -> Figures:
        covered = active = 0
        if statuses is not None:
            for s in statuses:
                if s.status not in INACTIVE_STATUSES:
                    active += 1
                    covered += s.status not in UNCOVERED_STATUSES
        basis = {
            "on_time_rate": (self.on_time, self.judged),
            "completion_rate": (self.done, self.planned),
            "avg_followups": (self.followups, self.contacted),
            "first_response_within_target": (self.fr_within, self.fr_counted),
            "win_rate": (self.won, self.won + self.lost),
            "lead_conversion": (self.lead_won, self.new),
        }
        if statuses is not None:
            basis["coverage"] = (covered, active)
        return Figures(
            on_time_rate=_ratio(self.on_time, self.judged),
            coverage=_ratio(covered, active) if statuses is not None else None,
            completion_rate=_ratio(self.done, self.planned),
            avg_followups=_ratio(self.followups, self.contacted),
            followups_in_window=self.followups,
            customers_contacted_in_window=self.contacted,
            first_response_median_hours=_median(self.fr_hours),
            first_response_within_target=_ratio(self.fr_within, self.fr_counted),
            win_rate=_ratio(self.won, self.won + self.lost),
            lead_conversion=_ratio(self.lead_won, self.new),
            deal_cycle_median_days=_median(self.cycles),
            new_customers_in_window=self.new,
            won_in_window=self.won,
            won_value_in_window=self.won_value,
            lost_in_window=self.lost,
            basis=basis,
        )


class _Owner:
    __slots__ = ("customers", "followups", "overdue", "pool", "on_time", "judged", "won", "won_value")

    def __init__(self) -> None:
        self.customers = self.followups = self.overdue = self.pool = self.on_time = self.judged = self.won = 0
        self.won_value = 0.0


def compute(
    dataset: Dataset,
    statuses: list[CustomerStatus],
    config: Config,
    as_of: date,
    previous_statuses: list[CustomerStatus] | None = None,
) -> Kpis:
    """All KPI figures as of `as_of` (see the module docstring for each definition)."""
    current, previous = windows(config, as_of)
    cur, prev = _Acc(current), _Acc(previous)
    stages = config.stages
    won_stages, lost_stages, inactive_stages = set(stages.won), set(stages.lost), set(stages.inactive)
    first_response = config.cadence.first_response
    target_hours = first_response.total_seconds() / 3600

    customers = [c for c in dataset.customers if c.valid]
    histories = dataset.histories
    known_until = end_of(as_of)
    status_of = {s.key: s.status for s in statuses}

    # Trend buckets: Mondays of the last n ISO weeks.
    weeks = config.kpi.trend_weeks
    last_monday = as_of - timedelta(days=as_of.weekday())
    first_monday = last_monday - timedelta(weeks=weeks - 1)
    trend_followups, trend_new, trend_won = [0] * weeks, [0] * weeks, [0] * weeks

    intervals: dict[tuple[str, str | None], timedelta] = {}

    def interval_of(tier: str, stage: str | None) -> timedelta:
        key = (tier, stage)
        found = intervals.get(key)
        if found is None:
            found = intervals[key] = interval(tier, stage, config)
        return found

    owners: dict[str | None, _Owner] = {}

    def owner_row(name: str | None) -> _Owner:
        row = owners.get(name)
        if row is None:
            row = owners[name] = _Owner()
        return row

    for member in dataset.team:
        if member.active:
            owner_row(member.name)

    funnel_count: Counter[str] = Counter()
    funnel_value: Counter[str] = Counter()
    lost_now = dormant_now = 0
    channel_mix: Counter[str] = Counter()
    under: list[UnderFollowed] = []
    total_followups = contacted_ever = all_on_time = all_judged = 0
    won_ever = lost_ever = 0
    to_win: list[float] = []

    for c in customers:
        history = contacts_before(histories.get(c.key, []), known_until)  # as-of in the past: only what was known then
        n = len(history)
        mine = owner_row(c.owner)
        mine.customers += 1
        status = status_of.get(c.key)
        if status in OVERDUE_STATUSES:
            mine.overdue += 1
        elif status == "pool":
            mine.pool += 1
        value = c.value or 0.0

        # Where the customer stands now.
        if c.stage in lost_stages:
            lost_now += 1
        elif c.stage in inactive_stages:
            dormant_now += 1
        else:
            funnel_count[c.stage] += 1
            funnel_value[c.stage] += value
        is_won = c.stage in won_stages
        won_on = won_date(c, history, config)
        lost_on = lost_date(c, history, config)
        won_ever += is_won
        lost_ever += c.stage in lost_stages
        if won_on is not None:
            to_win.append(sum(1 for f in history if f.at.date() <= won_on))
            if won_on >= first_monday:
                trend_won[(won_on - first_monday).days // 7] += 1

        created = c.created
        created_day = created.date() if created is not None else None
        if created_day is not None and first_monday <= created_day <= as_of:
            trend_new[(created_day - first_monday).days // 7] += 1

        for acc in (cur, prev):
            w = acc.window
            if created_day is not None and w.start <= created_day <= w.end:
                acc.new += 1
                if is_won and (won_on is None or won_on <= w.end):
                    acc.lead_won += 1
                first = history[0] if n else None
                if first is not None and first.at.date() <= w.end:
                    hours, exact = _response_hours(created, first.at, first.has_time)
                    acc.fr_hours.append(hours)
                    acc.fr_exact += exact
                    acc.fr_counted += 1
                    acc.fr_within += hours <= target_hours
                elif (created + first_response).date() < w.end:
                    acc.fr_counted += 1  # deadline passed without a contact
            if won_on is not None and w.start <= won_on <= w.end:
                acc.won += 1
                acc.won_value += value
                if created_day is not None:
                    acc.cycles.append(max(0, (won_on - created_day).days))
                if acc is cur:
                    mine.won += 1
                    mine.won_value += value
            if lost_on is not None and w.start <= lost_on <= w.end:
                acc.lost += 1

        # The contact log, oldest first.
        total_followups += n
        contacted_ever += n > 0
        stage_so_far: str | None = None
        gap = interval_of(c.tier, c.stage)  # the interval in force: the stage set by the latest contact, else today's
        before = None
        in_cur = in_prev = False
        for i, f in enumerate(history):
            day = f.at.date()
            if before is None:
                due = (created + first_response).date() if created is not None else None
            elif before.next_date is not None:
                due = before.next_date
            else:
                due = (before.at + gap).date()
            if f.stage is not None and f.stage != stage_so_far:
                stage_so_far = f.stage
                gap = interval_of(c.tier, stage_so_far)
            on_time = due is not None and day <= due
            if due is not None:
                all_judged += 1
                all_on_time += on_time

            window_acc: _Acc | None
            if current.start <= day:  # (day <= as_of holds for every follow-up kept)
                window_acc = cur
                in_cur = True
                channel_mix[f.channel or "other"] += 1
                who = owner_row(f.owner or c.owner)
                who.followups += 1
                if due is not None:
                    who.judged += 1
                    who.on_time += on_time
            elif previous.start <= day:
                window_acc = prev
                in_prev = True
            else:
                window_acc = None
            if window_acc is not None:
                window_acc.followups += 1
                if due is not None:
                    window_acc.judged += 1
                    window_acc.on_time += on_time

            planned = f.next_date
            if planned is not None:
                for w_acc in (cur, prev):
                    w = w_acc.window
                    if w.start <= planned <= w.end and day <= w.end:
                        w_acc.planned += 1
                        w_acc.done += i + 1 < n and history[i + 1].at.date() <= planned
            if day >= first_monday:
                trend_followups[(day - first_monday).days // 7] += 1
            before = f
        cur.contacted += in_cur
        prev.contacted += in_prev

        # Given up too early: open, 1-3 contacts, silent for more than twice the interval.
        if 1 <= n <= 3 and is_open(c.stage, config):
            last = history[-1].at.date()
            gap = interval_of(c.tier, c.stage)
            silent = (as_of - last).days
            if timedelta(days=silent) > 2 * gap:
                under.append(UnderFollowed(c.key, c.name, c.owner, n, last, silent, gap.total_seconds() / 86400))

    under.sort(key=lambda u: (-u.days_since_contact, u.key))

    return Kpis(
        as_of=as_of,
        window=current,
        previous_window=previous,
        current=cur.figures(statuses),
        previous=prev.figures(previous_statuses),
        funnel=_funnel(funnel_count, funnel_value, config),
        lost=lost_now,
        dormant=dormant_now,
        leaderboard=_leaderboard(owners),
        trend=[
            TrendWeek(iso_week(first_monday + timedelta(weeks=k)), first_monday + timedelta(weeks=k),
                      trend_followups[k], trend_new[k], trend_won[k])
            for k in range(weeks)
        ],
        under_followed=under,
        channel_mix=dict(sorted(channel_mix.items(), key=lambda kv: (-kv[1], kv[0]))),
        all_time=AllTime(
            customers=len(customers),
            followups=total_followups,
            customers_contacted=contacted_ever,
            followups_per_customer=_ratio(total_followups, len(customers)),
            won=won_ever,
            lost=lost_ever,
            win_rate=_ratio(won_ever, won_ever + lost_ever),
            on_time_rate=_ratio(all_on_time, all_judged),
            followups_to_win_median=_median(to_win),
        ),
        first_response_hours=target_hours,
        first_response_in_days=bool(cur.fr_hours or prev.fr_hours) and not (cur.fr_exact or prev.fr_exact),
    )


def book_as_of(dataset: Dataset, day: date) -> Dataset:
    """The records as they stood at the end of `day`: later follow-ups and customers created later dropped,
    each customer's stage taken from the last follow-up up to `day` that recorded one (else left as is).

    Customer fields without history (owner, tier, value, manual next date) are today's: a best effort.
    """
    histories: dict[str, list[FollowUp]] = {}
    stage_then: dict[str, str] = {}
    end = end_of(day)
    for key, full in dataset.histories.items():
        history = contacts_before(full, end)
        if history:
            histories[key] = history
            for f in reversed(history):
                if f.stage is not None:
                    stage_then[key] = f.stage
                    break
    customers = [
        c if stage_then.get(c.key, c.stage) == c.stage else replace(c, stage=stage_then[c.key])
        for c in dataset.customers
        if c.created is None or c.created < end
    ]
    keys = {c.key for c in customers}
    grouped = {k: h for k, h in histories.items() if k in keys}  # derived from today's histories, not regrouped
    # The flat list from the cut histories (customer by customer): nothing in the core reads it in sheet order,
    # and at 500,000 follow-ups filtering the whole log again cost about 0.4 s.
    return replace(dataset, customers=customers, followups=[f for h in grouped.values() for f in h], grouped=grouped)


def previous_statuses(
    dataset: Dataset,
    config: Config,
    as_of: date,
    evaluate: Callable[[Dataset, Config, date], list[CustomerStatus]],
) -> list[CustomerStatus]:
    """Statuses at the end of the previous window, for its coverage: pass cadence.evaluate as `evaluate`.

    Costs one more cadence pass; without it the previous coverage is shown as unknown.
    """
    end = windows(config, as_of)[1].end
    return evaluate(book_as_of(dataset, end), config, end)


def _response_hours(created: datetime, contact: datetime, contact_has_time: bool) -> tuple[float, bool]:
    """Hours from created to first contact, and whether they are exact: whole days × 24 unless both ends
    carry a time of day."""
    if contact_has_time and _has_time(created):
        return max(0.0, (contact - created).total_seconds() / 3600), True
    return max(0.0, (contact.date() - created.date()).days * 24.0), False


def _funnel(count: Counter[str], value: Counter[str], config: Config) -> list[FunnelRow]:
    """Active stages in configured order with at-or-beyond conversion between neighbours."""
    closed = set(config.stages.lost) | set(config.stages.inactive)
    order = [s for s in dict.fromkeys(config.stages.order) if s not in closed]
    order += sorted(s for s in count if s not in order)
    reached = [0] * (len(order) + 1)
    for i in range(len(order) - 1, -1, -1):
        reached[i] = reached[i + 1] + count[order[i]]
    return [
        FunnelRow(stage, count[stage], float(value[stage]), _ratio(reached[i], reached[i - 1]) if i else None)
        for i, stage in enumerate(order)
    ]


def _leaderboard(owners: dict[str | None, _Owner]) -> list[LeaderRow]:
    rows = [
        LeaderRow(
            owner=name,
            customers=o.customers,
            followups=o.followups,
            overdue=o.overdue,
            pool=o.pool,
            on_time_rate=_ratio(o.on_time, o.judged),
            on_time=o.on_time,
            judged=o.judged,
            won=o.won,
            won_value=o.won_value,
        )
        for name, o in owners.items()
    ]
    rows.sort(key=lambda r: (r.on_time_rate is None, -(r.on_time_rate or 0.0), -r.won_value, r.owner is None, r.owner or ""))
    return rows
