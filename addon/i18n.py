"""Chinese and English text: each module keeps its own catalog of (zh, en) pairs and renders through here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from addon.core.fields import lang_index

Catalog = Mapping[str, tuple[str, str]]


def text(catalog: Catalog, locale: str, key: str, **params: object) -> str:
    """The message for key in the locale, formatted with params; an unknown key shows itself, never crashes."""
    pair = catalog.get(key)
    if pair is None:
        return key
    template = pair[lang_index(locale)]
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def format_date(value: date | datetime | None, locale: str, with_year: bool = True) -> str:
    """Dates as people write them: 2026年11月23日 / 2026-11-23."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if lang_index(locale) == 0:
        return f"{value.year}年{value.month}月{value.day}日" if with_year else f"{value.month}月{value.day}日"
    return value.isoformat() if with_year else value.strftime("%b %d").replace(" 0", " ")


def format_days(days: int, locale: str) -> str:
    if lang_index(locale) == 0:
        return f"{days}天"
    return f"{days} day" if days == 1 else f"{days} days"


STATUS_LABELS: Catalog = {
    "ok": ("正常", "OK"),
    "due_soon": ("即将到期", "Due soon"),
    "due_today": ("今日到期", "Due today"),
    "overdue": ("逾期", "Overdue"),
    "escalated": ("逾期升级", "Escalated"),
    "pool": ("建议退回公海", "Return to pool"),
    "closed": ("已关闭", "Closed"),
    "invalid": ("数据有误", "Data error"),
}


def status_label(status: str, locale: str) -> str:
    return text(STATUS_LABELS, locale, status)
