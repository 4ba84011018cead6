"""Pure scheduling: local times across DST, UTC servers, working days with CN holidays, catch-up once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from addon.config import load_config
from addon.core.calendar import WorkCalendar
from addon.service.scheduling import (
    Plan,
    describe,
    due_slot,
    next_slot,
    previous_slot,
    retry_delay,
    upcoming,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[1]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def plan(zone: ZoneInfo, *times: str, days="every_day", every=None, holidays=None) -> Plan:
    calendar = WorkCalendar(holidays) if days == "working_days" else None
    return Plan(zone=zone, times=tuple(time.fromisoformat(t) for t in times), days=days, every=every, calendar=calendar)


# --- DST ---------------------------------------------------------------------------------------------


def test_berlin_0900_moves_in_utc_across_spring_forward():
    p = plan(BERLIN, "09:00")
    slots = upcoming(p, utc(2026, 3, 27, 12), 3)
    # Sat 28 March is still CET (+1), Sunday 29 March is CEST (+2).
    assert [s.at for s in slots] == [utc(2026, 3, 28, 8), utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)]
    assert all(s.local(BERLIN).time() == time(9) for s in slots)
    assert [s.key for s in slots] == ["2026-03-28 09:00", "2026-03-29 09:00", "2026-03-30 09:00"]


def test_berlin_nonexistent_time_runs_once_after_the_gap():
    p = plan(BERLIN, "02:30")
    slots = upcoming(p, utc(2026, 3, 28, 12), 2)
    # 02:30 does not exist on 29 March: it runs once, at 03:30 CEST (01:30 UTC); next day as usual.
    assert slots[0].at == utc(2026, 3, 29, 1, 30)
    assert slots[0].local(BERLIN).strftime("%H:%M") == "03:30"
    assert slots[0].key == "2026-03-29 02:30"
    assert slots[1].at == utc(2026, 3, 30, 0, 30)


def test_berlin_repeated_time_runs_once_at_first_occurrence():
    p = plan(BERLIN, "02:30")
    first = next_slot(p, utc(2026, 10, 24, 12))
    assert first is not None and first.at == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    second = next_slot(p, first.at)
    # Not again at 02:30 CET (01:30 UTC) the same night: the next run is the following day.
    assert second is not None and second.at == utc(2026, 10, 26, 1, 30)
    assert second.key == "2026-10-26 02:30"


def test_berlin_fall_back_0900_is_0800_utc():
    p = plan(BERLIN, "09:00", "14:00")
    slots = upcoming(p, utc(2026, 10, 24, 11), 3)
    assert [s.at for s in slots] == [utc(2026, 10, 24, 12), utc(2026, 10, 25, 8), utc(2026, 10, 25, 13)]


def test_new_york_dst_2026():
    p = plan(NEW_YORK, "09:00")
    # 2026: DST starts 8 March, ends 1 November.
    assert next_slot(p, utc(2026, 3, 7, 15)).at == utc(2026, 3, 8, 13)
    assert next_slot(p, utc(2026, 3, 6, 15)).at == utc(2026, 3, 7, 14)
    assert next_slot(p, utc(2026, 10, 31, 14)).at == utc(2026, 11, 1, 14)
    assert next_slot(p, utc(2026, 10, 30, 14)).at == utc(2026, 10, 31, 13)


def test_interval_slots_are_even_across_dst():
    p = plan(BERLIN, every=timedelta(minutes=15))
    before = next_slot(p, utc(2026, 3, 29, 0, 50))
    assert before.at == utc(2026, 3, 29, 1, 0)  # 03:00 CEST, right after the gap
    gaps = [b.at - a.at for a, b in zip(upcoming(p, utc(2026, 3, 29, 0, 0), 10), upcoming(p, utc(2026, 3, 29, 0, 0), 11)[1:], strict=False)]
    assert set(gaps) == {timedelta(minutes=15)}


# --- server clock in UTC -------------------------------------------------------------------------------


def test_shanghai_slot_from_a_utc_instant():
    p = plan(SHANGHAI, "09:00")
    # 20:00 UTC on the 22nd is already 04:00 on the 23rd in Shanghai: the next run is that morning, 01:00 UTC.
    assert next_slot(p, utc(2026, 11, 22, 20)).at == utc(2026, 11, 23, 1)
    assert next_slot(p, utc(2026, 11, 23, 2)).at == utc(2026, 11, 24, 1)


def test_naive_instants_are_server_local_and_results_do_not_depend_on_server_zone():
    """Run the same computation in subprocesses whose server clock is UTC and Pacific."""
    code = (
        "import json; from datetime import datetime; from zoneinfo import ZoneInfo; from datetime import time\n"
        "from addon.service.scheduling import Plan, next_slot\n"
        "p = Plan(zone=ZoneInfo('Europe/Berlin'), times=(time(9),), days='every_day')\n"
        "aware = datetime(2026, 3, 28, 12, tzinfo=ZoneInfo('UTC'))\n"
        "naive = aware.astimezone().replace(tzinfo=None)\n"
        "print(json.dumps([next_slot(p, aware).at.isoformat(), next_slot(p, naive).at.isoformat()]))\n"
    )
    results = []
    for tz in ("UTC", "America/Los_Angeles"):
        env = {**os.environ, "TZ": tz, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
        results.append(json.loads(out.stdout))
    assert results[0] == results[1] == ["2026-03-29T07:00:00+00:00", "2026-03-29T07:00:00+00:00"]


# --- days --------------------------------------------------------------------------------------------


def test_working_days_skip_cn_national_day_and_run_on_makeup_saturday():
    cal = WorkCalendar("CN")
    assert not cal.is_working_day(date(2026, 10, 1)) and cal.is_working_day(date(2026, 10, 10))
    p = plan(SHANGHAI, "09:00", days="working_days", holidays="CN")
    days = [s.local(SHANGHAI).date() for s in upcoming(p, datetime(2026, 9, 30, 10, tzinfo=SHANGHAI), 4)]
    expected = []
    day = date(2026, 10, 1)
    while len(expected) < 4:
        if cal.is_working_day(day):
            expected.append(day)
        day += timedelta(days=1)
    assert days == expected
    assert date(2026, 10, 10) in days  # 调休 Saturday: a working day, so the service runs
    assert all(d not in days for d in (date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 5)))


def test_working_days_without_calendar_are_mon_to_fri():
    p = plan(SHANGHAI, "09:00", days="working_days")
    friday = datetime(2026, 11, 20, 10, tzinfo=SHANGHAI)
    assert next_slot(p, friday).local(SHANGHAI).date() == date(2026, 11, 23)


def test_listed_weekdays():
    p = Plan(zone=SHANGHAI, times=(time(9),), days=frozenset({0, 3}))  # mon, thu
    got = [s.local(SHANGHAI).date() for s in upcoming(p, datetime(2026, 11, 23, 10, tzinfo=SHANGHAI), 3)]
    assert got == [date(2026, 11, 26), date(2026, 11, 30), date(2026, 12, 3)]


def test_interval_respects_days():
    p = plan(SHANGHAI, every=timedelta(hours=6), days="working_days")
    saturday = datetime(2026, 11, 21, 10, tzinfo=SHANGHAI)
    assert next_slot(p, saturday).local(SHANGHAI) == datetime(2026, 11, 23, 0, tzinfo=SHANGHAI)
    assert previous_slot(p, saturday).local(SHANGHAI) == datetime(2026, 11, 20, 18, tzinfo=SHANGHAI)


def test_plan_from_config(tmp_path):
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(
        "timezone: Europe/Berlin\nschedule: {at: ['14:00', '09:00'], days: [mon, fri]}\ncadence: {holidays: DE}\n",
        encoding="utf-8",
    )
    p = Plan.from_config(load_config(cfg_file))
    assert p.times == (time(9), time(14)) and p.days == frozenset({0, 4}) and p.zone.key == "Europe/Berlin"
    assert "09:00, 14:00" in describe(p, "en") and "Europe/Berlin" in describe(p, "zh-CN")
    cfg_file.write_text("schedule: {every: 2s, days: every_day}\n", encoding="utf-8")
    p = Plan.from_config(load_config(cfg_file))
    assert p.every == timedelta(seconds=2)
    assert describe(p, "en").startswith("every 2 s")


# --- catch-up ----------------------------------------------------------------------------------------


def test_catch_up_once_after_missed_slots():
    p = plan(SHANGHAI, "09:00", "14:00")
    last_done = datetime(2026, 11, 20, 9, tzinfo=SHANGHAI)  # Friday 09:00 ran; then the machine slept
    wake = datetime(2026, 11, 23, 10, 30, tzinfo=SHANGHAI)
    due = due_slot(p, wake, last_done)
    assert due is not None and due.key == "2026-11-23 09:00"  # only the latest missed slot, once
    # Once it ran, nothing more is due until 14:00: the other missed slots are not repeated.
    assert due_slot(p, wake + timedelta(minutes=5), due.at) is None
    assert next_slot(p, due.at).key == "2026-11-23 14:00"


def test_no_catch_up_without_history_or_when_up_to_date():
    p = plan(SHANGHAI, "09:00")
    now = datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)
    assert due_slot(p, now, None) is None
    assert due_slot(p, now, datetime(2026, 11, 23, 9, tzinfo=SHANGHAI)) is None
    assert due_slot(p, datetime(2026, 11, 23, 9, tzinfo=SHANGHAI), datetime(2026, 11, 22, 9, tzinfo=SHANGHAI)).key == "2026-11-23 09:00"


def test_interval_catch_up_collapses_to_latest():
    p = plan(SHANGHAI, every=timedelta(seconds=2))
    start = utc(2026, 11, 23, 1, 0, 0)
    due = due_slot(p, start + timedelta(seconds=11), start)
    assert due.at == start + timedelta(seconds=10)
    assert next_slot(p, due.at).at == start + timedelta(seconds=12)


def test_previous_slot_is_inclusive_and_next_is_strict():
    p = plan(SHANGHAI, "09:00")
    nine = datetime(2026, 11, 23, 9, tzinfo=SHANGHAI)
    assert previous_slot(p, nine).at == nine
    assert next_slot(p, nine).at == nine + timedelta(days=1)


def test_retry_backoff():
    assert [retry_delay(n, base=10) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert retry_delay(20, base=30, cap=900) == 900


def test_bad_plans_are_refused():
    with pytest.raises(ValueError):
        Plan(zone=SHANGHAI, every=timedelta(0))
    with pytest.raises(ValueError):
        Plan(zone=SHANGHAI, days=frozenset())
