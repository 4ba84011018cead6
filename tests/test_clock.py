"""As-of date: today in the configured time zone, whatever the server's clock zone is."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from addon.config import Config
from addon.core.clock import local_now, today

ROOT = Path(__file__).resolve().parents[1]


def test_utc_server_before_midnight_in_shanghai() -> None:
    # 15:30 UTC is 23:30 in Shanghai: still the 23rd.
    assert today(Config(), datetime(2026, 11, 23, 15, 30, tzinfo=UTC)) == date(2026, 11, 23)


def test_utc_server_after_midnight_in_shanghai() -> None:
    # 16:30 UTC is 00:30 on the 24th in Shanghai, while the UTC date is still the 23rd.
    assert today(Config(), datetime(2026, 11, 23, 16, 30, tzinfo=UTC)) == date(2026, 11, 24)


def test_exactly_midnight_belongs_to_the_new_day() -> None:
    assert today(Config(), datetime(2026, 11, 23, 16, 0, tzinfo=UTC)) == date(2026, 11, 24)
    assert today(Config(), datetime(2026, 11, 23, 15, 59, 59, tzinfo=UTC)) == date(2026, 11, 23)


def test_zone_west_of_utc() -> None:
    config = Config(timezone="America/New_York")
    assert today(config, datetime(2026, 11, 24, 3, 0, tzinfo=UTC)) == date(2026, 11, 23)  # 22:00 EST
    assert today(config, datetime(2026, 11, 24, 5, 0, tzinfo=UTC)) == date(2026, 11, 24)  # 00:00 EST


def test_aware_now_in_another_zone_is_converted() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert today(Config(), datetime(2026, 11, 24, 0, 30, tzinfo=tokyo)) == date(2026, 11, 23)  # 23:30 Shanghai


def test_local_now_is_aware_in_the_configured_zone() -> None:
    value = local_now(Config(), datetime(2026, 11, 23, 16, 30, tzinfo=UTC))
    assert value.utcoffset() == timedelta(hours=8)
    assert (value.year, value.month, value.day, value.hour, value.minute) == (2026, 11, 24, 0, 30)
    assert local_now(Config()).utcoffset() == timedelta(hours=8)


def _run(code: str, tz: str) -> str:
    env = {**os.environ, "TZ": tz, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


NAIVE = """
from datetime import datetime
from addon.config import Config
from addon.core.clock import today
print(today(Config(), datetime(2026, 11, 23, 16, 30)).isoformat())
"""


def test_naive_now_means_the_server_clock_utc_server() -> None:
    # A naive datetime is what datetime.now() returns: server time. On a UTC server 16:30 is 00:30 in Shanghai.
    assert _run(NAIVE, "UTC") == "2026-11-24"


def test_naive_now_means_the_server_clock_shanghai_server() -> None:
    assert _run(NAIVE, "Asia/Shanghai") == "2026-11-23"


def test_default_today_follows_the_configured_zone_not_the_server() -> None:
    # Server 12 hours behind UTC, team 14 hours ahead: the two dates always differ (26 hours apart),
    # so returning the server's date.today() cannot pass by luck.
    code = """
from datetime import date, datetime
from zoneinfo import ZoneInfo
from addon.config import Config
from addon.core.clock import today
zone = "Pacific/Kiritimati"
before = datetime.now(ZoneInfo(zone)).date()
got = today(Config(timezone=zone))
after = datetime.now(ZoneInfo(zone)).date()
print(got in (before, after), got != date.today())
"""
    assert _run(code, "Etc/GMT+12") == "True True"
