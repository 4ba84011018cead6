"""Chinese and English text: each module keeps its own catalog of (zh, en) pairs and renders through here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from addon.core.fields import lang_index

Catalog = Mapping[str, tuple[str, str]]


def locale_for_lang(lang: str) -> str:
    """`--lang zh|en` (the commands that make a workbook) -> the locale it speaks."""
    return "zh-CN" if lang == "zh" else "en"


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


SPANS: Catalog = {
    "wd": ("{n}个工作日", "{n} working days"),
    "wd1": ("1个工作日", "1 working day"),
    "hours": ("{n}小时", "{n} hours"),
    "hour1": ("1小时", "1 hour"),
    "minutes": ("{n}分钟", "{n} minutes"),
    "minute1": ("1分钟", "1 minute"),
}
_DAY = 86400


def span_params(delta: timedelta, prefer_hours: bool = False) -> dict[str, str | int]:
    """A duration as Rule params: whole days, else hours (also below 2 days when prefer_hours: 24h reads better)."""
    seconds = int(delta.total_seconds())
    if seconds % _DAY == 0 and not (prefer_hours and seconds < 2 * _DAY):
        return {"days": seconds // _DAY}
    if seconds % 3600 == 0:
        return {"hours": seconds // 3600}
    return {"minutes": seconds // 60}


def span_text(params: Mapping[str, str | int], locale: str) -> str:
    """Words for span_params (with `unit: wd`, working days): 14天, 24 hours, 3个工作日."""
    if "hours" in params:
        hours = int(params["hours"])
        return text(SPANS, locale, "hour1" if hours == 1 else "hours", n=hours)
    if "minutes" in params:
        minutes = int(params["minutes"])
        return text(SPANS, locale, "minute1" if minutes == 1 else "minutes", n=minutes)
    days = int(params.get("days", 0))
    if params.get("unit") == "wd":
        return text(SPANS, locale, "wd1" if days == 1 else "wd", n=days)
    return format_days(days, locale)


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


# The pipeline reports its steps in English, a stable text each shell words its own way (the CLI
# below, the Excel status bar in addon.xl): the step's opening words -> (zh, en) for the CLI.
PROGRESS_STEPS: Catalog = {
    "reading": ("正在读取", "reading"),
    "validating rows": ("正在校验数据", "validating rows"),
    "applying cadence rules": ("正在计算跟进状态和 KPI", "applying cadence rules and computing KPIs"),
    "writing owned": ("正在写入状态列和汇总工作表", "writing owned columns and tabs"),
    "sending reminders": ("正在发送提醒", "sending reminders"),
    "planning reminders": ("正在准备提醒（试运行）", "planning reminders (dry run)"),
    "writing demo workbook": ("正在生成演示工作簿", "writing demo workbook"),
}
_DETAIL_STEPS = ("reading", "writing demo workbook")  # followed by a path worth showing


def progress_step(message: str) -> str | None:
    """Which pipeline step a progress line reports, or None for another message."""
    return next((step for step in PROGRESS_STEPS if message.startswith(step)), None)


def progress_text(message: str, locale: str) -> str:
    """A pipeline progress line in the locale's words (with its path, where it has one)."""
    step = progress_step(message)
    if step is None or lang_index(locale) != 0:
        return message
    detail = message[len(step):].strip() if step in _DETAIL_STEPS else ""
    return text(PROGRESS_STEPS, locale, step) + (f" {detail}" if detail else "")
