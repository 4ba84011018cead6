"""When the service runs: pure functions from (schedule config, time zone, calendar, an instant) to slots.

Kept apart from the loop in serve.py so DST changes, UTC servers, holidays and catch-up can be tested
without waiting for a clock. Every instant here is an aware datetime; slots are computed in the team's
time zone (never the server's) and compared as absolute instants, so a server kept in UTC runs the
09:00 Shanghai slot at 01:00 UTC, and a Berlin 09:00 slot moves from 08:00 UTC to 07:00 UTC in spring.

DST rules: a local time that does not exist (spring forward, e.g. 02:30 in Berlin on 2026-03-29) runs
once, at the same distance after the gap (03:30 local); a time that happens twice (fall back) runs
once, at its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from addon.config import Config, Invalid, Problem, ScheduleConfig
from addon.core.calendar import WorkCalendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY = timedelta(days=1)
_SEARCH_DAYS = 800  # longest stretch without any run day we look through (a long holiday is ~10 days)


@dataclass(frozen=True, order=True)
class Slot:
    """One scheduled run: the absolute instant (UTC) and a readable key in the team's local time."""

    at: datetime
    key: str

    def local(self, zone: ZoneInfo) -> datetime:
        return self.at.astimezone(zone)


@dataclass(frozen=True)
class Plan:
    """A schedule ready to evaluate: wall-clock times or a fixed interval, on some days, in a zone."""

    zone: ZoneInfo
    times: tuple[time, ...] = (time(9, 0),)
    days: str | frozenset[int] = "working_days"  # "working_days", "every_day" or weekday numbers (Mon = 0)
    every: timedelta | None = None
    calendar: WorkCalendar | None = None  # used when days == "working_days"

    @classmethod
    def from_config(cls, config: Config, schedule: ScheduleConfig | None = None) -> Plan:
        schedule = schedule or config.schedule
        times = tuple(sorted({time.fromisoformat(t) for t in schedule.at})) or (time(9, 0),)
        days: str | frozenset[int]
        if isinstance(schedule.days, str):
            days = schedule.days
        else:
            days = frozenset(WEEKDAYS.index(d) for d in schedule.days)
        calendar = WorkCalendar.from_config(config) if days == "working_days" else None
        return cls(zone=config.zone, times=times, days=days, every=schedule.every, calendar=calendar)

    def __post_init__(self) -> None:
        if self.every is not None and self.every <= timedelta(0):
            raise Invalid(Problem("schedule.every must be a positive duration", "schedule.every 必须是大于零的时长"))
        if isinstance(self.days, frozenset) and not self.days:
            raise Invalid(Problem("schedule.days lists no day", "schedule.days 没有列出任何一天"))

    def runs_on(self, day: date) -> bool:
        """Is `day` (a local date) a day with runs?"""
        if self.days == "every_day":
            return True
        if self.days == "working_days":
            return (self.calendar or WorkCalendar(None)).is_working_day(day)
        return day.weekday() in self.days  # type: ignore[operator]

    # --- the slots of one local day, in order ---------------------------------------------------
    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    def day_slots(self, day: date) -> list[Slot]:
        """The wall-clock slots of a run day (empty on other days); not for interval plans."""
        if not self.runs_on(day):
            return []
        slots = []
        for t in self.times:
            # fold=0: a repeated time is taken at its first occurrence; a skipped one lands after the gap.
            instant = datetime.combine(day, t, tzinfo=self.zone).astimezone(UTC)
            slots.append(Slot(instant, f"{day.isoformat()} {t.strftime('%H:%M')}"))
        return sorted(slots)

    def _interval_bounds(self, day: date) -> tuple[datetime, datetime]:
        return self._midnight(day), self._midnight(day + _DAY)

    def _interval_slot(self, start: datetime, index: int) -> Slot:
        assert self.every is not None
        instant = start + index * self.every
        return Slot(instant, instant.astimezone(self.zone).isoformat(timespec="seconds"))


def _local_day(plan: Plan, instant: datetime) -> date:
    return _aware(instant).astimezone(plan.zone).date()


def _aware(instant: datetime) -> datetime:
    """Naive datetimes are read as the server's local time, like `datetime.now()`."""
    return instant if instant.tzinfo is not None else instant.astimezone()


def _days_from(start: date, step: int) -> Iterator[date]:
    day = start
    for _ in range(_SEARCH_DAYS):
        yield day
        day += step * _DAY


def next_slot(plan: Plan, after: datetime) -> Slot | None:
    """The first slot strictly after `after` (None only if no run day exists in the next ~2 years)."""
    after = _aware(after)
    # Start a day early: near midnight the local day of `after` and of its slots can differ.
    for day in _days_from(_local_day(plan, after) - _DAY, 1):
        if not plan.runs_on(day):
            continue
        if plan.every is None:
            for slot in plan.day_slots(day):
                if slot.at > after:
                    return slot
            continue
        start, end = plan._interval_bounds(day)
        if after < start:
            return plan._interval_slot(start, 0)
        index = int((after - start) // plan.every) + 1
        candidate = plan._interval_slot(start, index)
        if candidate.at < end:
            return candidate
    return None


def previous_slot(plan: Plan, now: datetime) -> Slot | None:
    """The latest slot at or before `now` (the one a run at `now` would serve)."""
    now = _aware(now)
    for day in _days_from(_local_day(plan, now) + _DAY, -1):
        if not plan.runs_on(day):
            continue
        if plan.every is None:
            past = [s for s in plan.day_slots(day) if s.at <= now]
            if past:
                return past[-1]
            continue
        start, end = plan._interval_bounds(day)
        if start > now:
            continue
        last_index = int((min(now, end - timedelta(microseconds=1)) - start) // plan.every)
        return plan._interval_slot(start, last_index)
    return None


def due_slot(plan: Plan, now: datetime, last_done: datetime | None) -> Slot | None:
    """The slot to run now, if any: the latest slot at or before `now` that is later than `last_done`.

    However many slots were missed (machine asleep, service stopped), this returns only the latest
    one, so a missed run is caught up once and never repeated; `last_done` None means no run has
    been recorded, and nothing from before is caught up.
    """
    if last_done is None:
        return None
    slot = previous_slot(plan, now)
    if slot is not None and slot.at > _aware(last_done):
        return slot
    return None


def upcoming(plan: Plan, after: datetime, count: int) -> list[Slot]:
    """The next `count` slots after `after` (for `doctor` and the status display)."""
    slots: list[Slot] = []
    cursor = _aware(after)
    while len(slots) < count:
        slot = next_slot(plan, cursor)
        if slot is None:
            break
        slots.append(slot)
        cursor = slot.at
    return slots


def retry_delay(attempt: int, *, base: float = 30.0, cap: float = 900.0) -> float:
    """Seconds to wait before retry number `attempt` (1-based): exponential backoff, capped."""
    return float(min(cap, base * (2 ** max(0, attempt - 1))))


def describe(plan: Plan, locale: str) -> str:
    """The schedule in words, for logs, status and doctor."""
    zh = locale.lower().startswith("zh")
    if plan.days == "every_day":
        days = "每天" if zh else "every day"
    elif plan.days == "working_days":
        code = plan.calendar.code if plan.calendar else None
        days = (f"工作日（{code} 节假日）" if code else "工作日") if zh else (f"working days ({code} holidays)" if code else "working days")
    else:
        names = [WEEKDAYS[i] for i in sorted(plan.days)]  # type: ignore[arg-type]
        days = ("每周 " if zh else "on ") + ", ".join(names)
    if plan.every is not None:
        seconds = int(plan.every.total_seconds())
        span = f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
        return f"{days}每隔 {span}（{plan.zone.key}）" if zh else f"every {span}, {days} ({plan.zone.key})"
    at = ", ".join(t.strftime("%H:%M") for t in plan.times)
    return f"{days} {at}（{plan.zone.key}）" if zh else f"{days} at {at} ({plan.zone.key})"
