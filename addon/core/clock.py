"""The as-of date: today where the sales team works, not where the server happens to run.

Servers usually keep their clock in UTC; between 16:00 and 24:00 UTC it is already tomorrow in Shanghai.
`datetime.now()` and `date.today()` give the server's day, so everything that needs "today" asks here.
"""

from __future__ import annotations

from datetime import date, datetime

from addon.config import Config


def local_now(config: Config, now: datetime | None = None) -> datetime:
    """The current time as an aware datetime in `config.timezone`.

    A naive `now` is read the way Python reads `datetime.now()`: in the server's local time zone.
    """
    if now is None:
        return datetime.now(config.zone)
    return now.astimezone(config.zone)


def today(config: Config, now: datetime | None = None) -> date:
    """Today's date in `config.timezone` (the default as-of date of a run)."""
    return local_now(config, now).date()
