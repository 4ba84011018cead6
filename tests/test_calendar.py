"""Working days: CN 2026 holidays and 调休 make-up days, other countries, unknown years and codes."""

from __future__ import annotations

import warnings
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.core import calendar as calendar_module
from addon.core.calendar import HolidayDataWarning, WorkCalendar, shift


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Warnings are once per process; each test starts as a fresh process would."""
    monkeypatch.setattr(calendar_module, "_warned", set())


@pytest.fixture(scope="module")
def cn() -> WorkCalendar:
    return WorkCalendar("CN")


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


# --- CN 2026 (State Council schedule: National Day Oct 1–7, make-up days Sun Sep 20 and Sat Oct 10) ---

@pytest.mark.parametrize("day", range(1, 8))
def test_cn_national_day_week_is_off(cn: WorkCalendar, day: int) -> None:
    assert not cn.is_working_day(d(10, day))


def test_cn_make_up_weekend_days_are_working_days(cn: WorkCalendar) -> None:
    assert d(9, 20).weekday() == 6 and cn.is_working_day(d(9, 20))  # Sunday worked
    assert d(10, 10).weekday() == 5 and cn.is_working_day(d(10, 10))  # Saturday worked
    assert not cn.is_working_day(d(10, 11))  # the Sunday after is a normal weekend day
    assert not cn.is_working_day(d(9, 19))  # the Saturday before is a normal weekend day


def test_cn_ordinary_days_around_the_holiday(cn: WorkCalendar) -> None:
    assert cn.is_working_day(d(9, 30))  # Wednesday before
    assert cn.is_working_day(d(10, 8))  # Thursday after
    assert cn.is_working_day(d(10, 9))
    assert not cn.is_working_day(d(11, 21)) and not cn.is_working_day(d(11, 22))  # plain weekend
    assert cn.is_working_day(d(11, 23))


def test_cn_spring_festival_2026(cn: WorkCalendar) -> None:
    assert cn.is_working_day(d(2, 14)) and cn.is_working_day(d(2, 28))  # make-up Saturdays
    assert [day for day in range(15, 24) if cn.is_working_day(d(2, day))] == []
    assert cn.is_working_day(d(2, 24))


def test_is_holiday_distinguishes_holidays_from_weekends(cn: WorkCalendar) -> None:
    assert cn.is_holiday(d(10, 1))
    assert not cn.is_holiday(d(11, 21))  # just a Saturday
    assert not cn.is_holiday(d(10, 10))  # make-up working Saturday


def test_next_and_previous_working_day_skip_the_holiday(cn: WorkCalendar) -> None:
    assert cn.next_working_day(d(9, 30)) == d(10, 8)
    assert cn.next_working_day(d(10, 9)) == d(10, 10)  # the make-up Saturday
    assert cn.next_working_day(d(10, 10)) == d(10, 12)
    assert cn.previous_working_day(d(10, 8)) == d(9, 30)
    assert cn.next_working_day(d(9, 18)) == d(9, 20)  # Friday -> make-up Sunday


def test_roll_forward(cn: WorkCalendar) -> None:
    assert cn.roll_forward(d(10, 3)) == d(10, 8)
    assert cn.roll_forward(d(10, 8)) == d(10, 8)
    assert cn.roll_forward(d(11, 21)) == d(11, 23)


def test_add_counts_working_days_after_the_start(cn: WorkCalendar) -> None:
    assert cn.add(d(9, 30), 1) == d(10, 8)
    assert cn.add(d(9, 29), 3) == d(10, 9)  # Sep 30, Oct 8, Oct 9
    assert cn.add(d(10, 8), 2) == d(10, 10)  # Oct 9, make-up Sat Oct 10
    assert cn.add(d(11, 20), 1) == d(11, 23)  # Friday + 1 -> Monday
    assert cn.add(d(11, 21), 1) == d(11, 23)  # Saturday + 1 -> Monday too
    assert cn.add(d(11, 16), 5) == d(11, 23)  # a full week
    assert cn.add(d(10, 3), 0) == d(10, 8)  # 0 rolls forward
    assert cn.add(d(10, 8), -1) == d(9, 30)


def test_add_accepts_timedelta_whole_days(cn: WorkCalendar) -> None:
    assert cn.add(d(11, 20), timedelta(days=2)) == d(11, 24)
    assert cn.add(d(11, 20), timedelta(hours=36)) == d(11, 23)  # 1.5 days counts as 1
    assert cn.add(datetime(2026, 11, 20, 18, 0), 1) == d(11, 23)


def test_shift_counts_the_calendar_days_a_duration_spans_as_working_days(cn: WorkCalendar) -> None:
    assert cn.shift(datetime(2026, 11, 20, 15, 0), timedelta(hours=24)) == d(11, 23)  # Fri 15:00 + 24h
    assert cn.shift(datetime(2026, 11, 20, 9, 0), timedelta(hours=12)) == d(11, 20)  # same day
    assert cn.shift(datetime(2026, 11, 20, 15, 0), timedelta(hours=12)) == d(11, 23)  # past midnight
    assert cn.shift(d(9, 29), timedelta(days=3)) == d(10, 9)


def test_shift_without_calendar_is_calendar_arithmetic_keeping_the_time() -> None:
    assert shift(datetime(2026, 11, 22, 15, 0), timedelta(hours=12)) == d(11, 23)
    assert shift(datetime(2026, 11, 22, 9, 0), timedelta(hours=12)) == d(11, 22)
    assert shift(d(11, 22), timedelta(days=1)) == d(11, 23)
    assert shift(d(9, 30), timedelta(days=1), WorkCalendar("CN")) == d(10, 8)


def test_weekends_only_calendar() -> None:
    plain = WorkCalendar(None)
    assert plain.is_working_day(d(10, 1))  # no holidays
    assert not plain.is_working_day(d(10, 10))  # no make-up days either
    assert plain.add(d(9, 30), 1) == d(10, 1)
    assert plain.add(d(11, 20), 1) == d(11, 23)
    assert WorkCalendar("  ").code is None


def test_other_countries() -> None:
    us, de, eng = WorkCalendar("US"), WorkCalendar("de"), WorkCalendar("GB-ENG")
    assert not us.is_working_day(d(7, 3))  # Independence Day observed (Jul 4 is a Saturday)
    assert not us.is_working_day(d(11, 26)) and us.is_working_day(d(11, 27))  # Thanksgiving
    assert not de.is_working_day(d(5, 1)) and de.is_working_day(d(4, 30))
    assert not eng.is_working_day(d(8, 31))  # England's summer bank holiday
    assert not eng.is_working_day(d(12, 28))  # Boxing Day observed


def test_subdivision_holidays() -> None:
    assert not WorkCalendar("US-CA").is_working_day(d(3, 31))  # Cesar Chavez Day, California only
    assert WorkCalendar("US").is_working_day(d(3, 31))


def test_from_config() -> None:
    from addon.config import CadenceConfig, Config

    assert WorkCalendar.from_config(Config()).code == "CN"
    assert WorkCalendar.from_config(Config(cadence=CadenceConfig(holidays=None))).code is None


# --- data the package does not have: warn once, weekends only, never crash ---

def test_unknown_cn_year_warns_once_and_counts_weekends_only() -> None:
    with pytest.warns(HolidayDataWarning, match="2099") as caught:
        cal = WorkCalendar("CN")
        assert cal.is_working_day(date(2099, 10, 1))  # a Thursday: no guessed National Day
        assert cal.is_working_day(date(2099, 10, 2))
        assert not cal.is_working_day(date(2099, 10, 3))  # Saturday
        assert cal.add(date(2099, 9, 30), 1) == date(2099, 10, 1)
        other = WorkCalendar("CN")  # a second calendar in the same process does not warn again
        assert other.is_working_day(date(2099, 12, 31))
    assert len([w for w in caught if issubclass(w.category, HolidayDataWarning)]) == 1
    assert cal.unknown_years == {2099}


def test_each_unknown_year_warns_once() -> None:
    cal = WorkCalendar("CN")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            cal.is_working_day(date(2098, 1, 5))
            cal.is_working_day(date(2099, 1, 5))
        assert cal.is_working_day(d(10, 8))  # a known year alongside does not warn
    messages = sorted(str(w.message) for w in caught if issubclass(w.category, HolidayDataWarning))
    assert len(messages) == 2 and "2098" in messages[0] and "2099" in messages[1]
    assert cal.unknown_years == {2098, 2099}


def test_year_before_a_country_has_data() -> None:
    with pytest.warns(HolidayDataWarning, match="1990"):
        assert WorkCalendar("DE").is_working_day(date(1990, 10, 3))  # before German Unity Day existed
    with pytest.warns(HolidayDataWarning, match="2101"):
        assert WorkCalendar("US").is_working_day(date(2101, 7, 4))  # past the package's range, a Monday


def test_unknown_country_warns_once_and_counts_weekends_only() -> None:
    with pytest.warns(HolidayDataWarning, match="'XX'") as caught:
        cal = WorkCalendar("XX")
        assert cal.is_working_day(d(1, 1)) and cal.is_working_day(date(2027, 1, 1))
        assert cal.add(d(11, 20), 1) == d(11, 23)
    assert len([w for w in caught if issubclass(w.category, HolidayDataWarning)]) == 1


def test_known_years_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cal = WorkCalendar("CN")
        assert cal.add(d(12, 30), 1) == d(12, 31)
        assert not cal.is_working_day(date(2025, 10, 1))
        assert cal.unknown_years == set()


# --- properties over the whole known year ---

_CN = WorkCalendar("CN")


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 11, 30)), st.integers(min_value=1, max_value=20))
def test_add_lands_on_the_nth_working_day(start: date, n: int) -> None:
    end = _CN.add(start, n)
    assert _CN.is_working_day(end)
    between = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(_CN.is_working_day(day) for day in between) == n


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 20)))
def test_roll_forward_is_the_first_working_day_on_or_after(day: date) -> None:
    rolled = _CN.roll_forward(day)
    assert _CN.is_working_day(rolled) and rolled >= day
    assert not any(_CN.is_working_day(day + timedelta(days=i)) for i in range((rolled - day).days))
