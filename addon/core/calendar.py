"""Working days: weekends, statutory holidays and (for China) 调休 make-up working days.

Cadence counts intervals in working days when `cadence.working_days` is on, and reminders are only sent
on working days, so both need the same answer to "is this a working day?". The data comes from the
`holidays` package. China publishes its schedule (holidays *and* make-up working weekends) once a year,
so a Chinese year the package has no published schedule for is not guessed: like any year or country the
package does not know, it is treated as weekends only, with one warning per process per country and year
(never an exception: a run must not fail because a due date lands in 2099).

Only the calendar changes with this module; overdue and escalation day counts stay calendar days.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

import holidays as holidays_pkg

from addon.config import Config

_SAT_SUN = frozenset({5, 6})
_ONE_DAY = timedelta(days=1)

# Countries whose working calendar is announced year by year (holidays plus make-up working days):
# a year without announced make-up days is unknown, even if the package can compute the festivals.
_ANNOUNCED = frozenset({"CN"})

# (country code, year or None) already warned about in this process.
_warned: set[tuple[str, int | None]] = set()


class HolidayDataWarning(UserWarning):
    """The holiday calendar has no data for a country or year; weekends only are used."""


@dataclass(frozen=True)
class _Year:
    weekend: frozenset[int]  # weekday numbers, Monday = 0
    off: frozenset[date]  # holidays (including observed days and 调休 days off)
    on: frozenset[date]  # weekend days that are working days (调休 make-up days)
    known: bool


def _split(code: str) -> tuple[str, str | None]:
    """'CN' -> ('CN', None); 'US-CA' / 'de_by' -> ('US', 'CA') / ('DE', 'BY')."""
    text = code.strip().upper().replace("_", "-")
    country, _, subdiv = text.partition("-")
    return country, (subdiv or None)


@cache
def _load(code: str, year: int) -> _Year | None:
    """The year's calendar from the holidays package; None when the country code is unknown."""
    country, subdiv = _split(code)
    try:
        base = holidays_pkg.country_holidays(country, subdiv=subdiv)
    except (NotImplementedError, KeyError, ValueError):
        return None
    weekend = frozenset(getattr(base, "weekend", _SAT_SUN)) or _SAT_SUN
    start, end = getattr(base, "start_year", None), getattr(base, "end_year", None)
    if (start is not None and year < start) or (end is not None and year > end):
        return _Year(weekend, frozenset(), frozenset(), known=False)
    try:
        # The next year's schedule can put make-up days in late December of this one.
        data = holidays_pkg.country_holidays(country, subdiv=subdiv, years=(year, year + 1))
        off = frozenset(d for d in data if d.year == year)
        on = frozenset(d for d in getattr(data, "weekend_workdays", ()) if d.year == year)
    except Exception:  # third-party data for exotic years must never stop a run
        return _Year(weekend, frozenset(), frozenset(), known=False)
    known = bool(on) if country in _ANNOUNCED else True
    if not known:
        return _Year(weekend, frozenset(), frozenset(), known=False)
    return _Year(weekend, off, on, known=True)


def _warn_once(key: tuple[str, int | None], message: str) -> None:
    if key in _warned:
        return
    _warned.add(key)
    warnings.warn(message, HolidayDataWarning, stacklevel=2)


class WorkCalendar:
    """Working days for one holiday calendar (`None` = Saturdays and Sundays off, no holidays)."""

    def __init__(self, holidays: str | None = None) -> None:
        self.code = holidays.strip().upper() if holidays and holidays.strip() else None
        self._years: dict[int, _Year] = {}
        self._add_cache: dict[tuple[date, int], date] = {}
        self.unknown_years: set[int] = set()  # years seen without data (weekends only were used)

    @classmethod
    def from_config(cls, config: Config) -> WorkCalendar:
        """The calendar named by `cadence.holidays` (used whether or not cadence counts working days)."""
        return cls(config.cadence.holidays)

    def __repr__(self) -> str:
        return f"WorkCalendar({self.code!r})"

    def _year(self, year: int) -> _Year:
        found = self._years.get(year)
        if found is not None:
            return found
        if self.code is None:
            found = _Year(_SAT_SUN, frozenset(), frozenset(), known=True)
        else:
            loaded = _load(self.code, year)
            if loaded is None:
                _warn_once((self.code, None), f"holiday calendar {self.code!r} is not known to the holidays package; "
                           "counting weekends only (set cadence.holidays to a country code such as CN, US, GB, DE)")
                found = _Year(_SAT_SUN, frozenset(), frozenset(), known=False)
            else:
                found = loaded
                if not loaded.known:
                    _warn_once((self.code, year), f"no {self.code} holiday data for {year}; counting weekends only for "
                               f"that year (update the holidays package when the {year} schedule is published)")
        if not found.known:
            self.unknown_years.add(year)
        self._years[year] = found
        return found

    def is_working_day(self, day: date) -> bool:
        if isinstance(day, datetime):
            day = day.date()
        info = self._year(day.year)
        if day in info.on:
            return True
        return day.weekday() not in info.weekend and day not in info.off

    def is_holiday(self, day: date) -> bool:
        """A statutory day off that is not simply a weekend."""
        info = self._year(day.year)
        return day in info.off and day not in info.on

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        day += _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before `day`."""
        day -= _ONE_DAY
        while not self.is_working_day(day):
            day -= _ONE_DAY
        return day

    def roll_forward(self, day: date) -> date:
        """`day` itself if it is a working day, else the next one (due dates never land on a day off)."""
        return day if self.is_working_day(day) else self.next_working_day(day)

    def add(self, day: date, amount: int | timedelta) -> date:
        """The `amount`-th working day after `day` (before it when negative); 0 rolls forward.

        A timedelta counts its whole days (36h = 1). Counting starts after `day`, so a contact on a
        Saturday plus 1 working day is due on Monday, the same as a contact on Friday.
        """
        count = amount // _ONE_DAY if isinstance(amount, timedelta) else int(amount)
        if isinstance(day, datetime):
            day = day.date()
        key = (day, count)
        cached = self._add_cache.get(key)
        if cached is not None:
            return cached
        result = self.roll_forward(day) if count == 0 else day
        for _ in range(abs(count)):
            result = self.next_working_day(result) if count > 0 else self.previous_working_day(result)
        self._add_cache[key] = result
        return result

    def shift(self, anchor: date | datetime, delta: timedelta) -> date:
        """`anchor + delta` in working days: the calendar days the duration spans, counted as working days.

        24h after Friday 15:00 is Saturday on the calendar, one day later, so it is due on Monday.
        """
        start = anchor if isinstance(anchor, datetime) else datetime.combine(anchor, time())
        days = ((start + delta).date() - start.date()).days
        return self.add(start.date(), days)


def shift(anchor: date | datetime, delta: timedelta, calendar: WorkCalendar | None = None) -> date:
    """The date of `anchor + delta`: calendar days without a calendar, working days with one.

    A datetime anchor keeps its time, so `created 15:00 + 12h` falls on the next day.
    """
    if calendar is not None:
        return calendar.shift(anchor, delta)
    start = anchor if isinstance(anchor, datetime) else datetime.combine(anchor, time())
    return (start + delta).date()
