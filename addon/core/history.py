"""A customer's contact history: the facts cadence, KPIs and reminders all derive from follow-ups."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from operator import attrgetter

from addon.config import Config
from addon.model import Customer, FollowUp

_AT = attrgetter("at")


def end_of(day: date) -> datetime:
    """The first moment after `day`."""
    return datetime.combine(day + timedelta(days=1), time(0))


def contacts_before(history: list[FollowUp], moment: datetime) -> list[FollowUp]:
    """The contacts strictly before `moment` (history oldest first, as Dataset.histories holds it):
    a prefix, found by bisection; the list itself when nothing is later (the common case)."""
    if not history or history[-1].at < moment:
        return history
    return history[: bisect_left(history, moment, key=_AT)]


def first_stage_date(history: list[FollowUp], stages: Collection[str]) -> date | None:
    """Date of the first follow-up that set one of `stages`, else the last contact; None without contacts."""
    for item in history:
        if item.stage in stages:
            return item.day
    return history[-1].day if history else None


def won_date(customer: Customer, history: list[FollowUp], config: Config) -> date | None:
    """When the customer was won (None unless its current stage is a won stage)."""
    if customer.stage not in config.stages.won:
        return None
    return first_stage_date(history, config.stages.won)


def lost_date(customer: Customer, history: list[FollowUp], config: Config) -> date | None:
    if customer.stage not in config.stages.lost:
        return None
    return first_stage_date(history, config.stages.lost)


def interval(tier: str, stage: str | None, config: Config) -> timedelta:
    """The follow-up interval: stage rule, else tier rule, else the default tier's."""
    cadence = config.cadence
    if stage is not None and stage in cadence.by_stage:
        return cadence.by_stage[stage]
    if tier in cadence.by_tier:
        return cadence.by_tier[tier]
    return cadence.by_tier[config.defaults.tier]


def is_open(stage: str, config: Config) -> bool:
    stages = config.stages
    return stage in stages.open or not (stage in stages.won or stage in stages.lost or stage in stages.inactive)


def is_closed(stage: str, config: Config) -> bool:
    """Lost or inactive: no cadence applies."""
    return stage in config.stages.lost or stage in config.stages.inactive


def last_contact(history: list[FollowUp]) -> FollowUp | None:
    """The most recent follow-up (history is oldest first, as Dataset.histories holds it)."""
    return history[-1] if history else None


def count_after(history: list[FollowUp], day: date) -> int:
    """Follow-ups on days strictly after `day` (e.g. after-sale touch points already made after the won date)."""
    return sum(1 for item in history if item.day > day)


def quiet_since(customer: Customer, history: list[FollowUp]) -> date | None:
    """The day silence is counted from: the last contact, else the created date, else unknown (None)."""
    if history:
        return history[-1].day
    return customer.created.date() if customer.created is not None else None
