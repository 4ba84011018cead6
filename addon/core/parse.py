"""Cell parsing: what a user typed (or Excel stored) → a typed value, or the reason it is not one.

Pure and shared by validation, KPIs and the backends, so every part of the add-on reads
"2025/1/2", 45658 or 1.3800138e10 the same way. Parsers never raise: they return the value,
None for a blank cell, or an `Invalid` with a stable code the caller turns into a message.

Decisions worth knowing:
- Dates with the year last (`1/2/2025`) are accepted only when unambiguous: `13/2/2025` is
  13 February, `2/13/2025` is 13 February, `1/2/2025` is rejected as ambiguous (the caller
  shows both readings). With dots (`2.1.2025`) the European day-first reading is used.
- Excel serial numbers are dates only between 1950-01-01 and 2100-12-31 (1900 date system;
  a 1904 workbook's dates already arrive as real dates from the reader).
- A datetime at exactly midnight counts as "date only" (has_time False).
- Timezone-aware text (`2025-01-02T06:30:00Z`) is converted to `zone` when given, then made naive.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Literal

from addon.core.fields import FALSE_WORDS, TRUE_WORDS, normalize

# Error values Excel (and Google Sheets: #ERROR!, #LOADING...) show in a cell instead of a result.
EXCEL_ERRORS = frozenset({
    "#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
    "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#ERROR!", "#N/A!",
})

YEAR_MIN, YEAR_MAX = 1900, 2100
_EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 1 = 1900-01-01 once Excel's 1900 leap-year bug is past
SERIAL_MIN = (date(1950, 1, 1) - _EXCEL_EPOCH.date()).days  # 18264
SERIAL_MAX = (date(2100, 12, 31) - _EXCEL_EPOCH.date()).days  # 73415


@dataclass(frozen=True, slots=True)
class Invalid:
    """Why a cell is not the value we wanted. `detail` is locale-neutral data for the message."""

    code: str  # cell.error | date.unparseable | date.nonexistent | date.ambiguous | date.no_year | date.weekday | date.time_only | date.out_of_range | number.unparseable | bool.unknown
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """A date or datetime; `at` is midnight when only the date is known."""

    at: datetime
    has_time: bool

    @property
    def day(self) -> date:
        return self.at.date()


# --- text as the user sees it -------------------------------------------------------------


def excel_error(cell: object) -> str | None:
    """The error text ('#N/A', '#DIV/0!' …) when the cell shows a formula error, else None."""
    if isinstance(cell, str) and "#" in cell[:8]:
        code = cell.strip().upper()
        return code if code in EXCEL_ERRORS else None
    return None


def is_blank(cell: object) -> bool:
    """None, or text that is only whitespace (what a user perceives as an empty cell)."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _float_text(value: float) -> str:
    """A float as Excel's General format would show it, but never in scientific notation."""
    if value != value or value in (float("inf"), float("-inf")):
        return "#NUM!"
    if value.is_integer():
        return str(int(value))
    shown = float(format(value, ".15g"))  # Excel keeps 15 significant digits: 0.1+0.2 shows 0.3
    if shown.is_integer():
        return str(int(shown))
    text = repr(shown)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def _time_text(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def display(cell: object) -> str:
    """The cell as the user sees it: IDs keep leading zeros, numbers never show `.0` or `e+10`."""
    if cell is None:
        return ""
    kind = type(cell)
    if kind is str:
        return cell.strip()  # type: ignore[union-attr]
    if kind is bool:
        return "TRUE" if cell else "FALSE"
    if kind is int:
        return str(cell)
    if kind is float:
        return _float_text(cell)  # type: ignore[arg-type]
    if isinstance(cell, datetime):
        if cell.time() == time(0):
            return cell.date().isoformat()
        return f"{cell.date().isoformat()} {_time_text(cell.time())}"
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, time):
        return _time_text(cell)
    if isinstance(cell, str):
        return str(cell).strip()
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, int):
        return str(int(cell))
    if isinstance(cell, float):
        return _float_text(float(cell))
    try:
        return str(cell).strip()
    except Exception:  # a foreign object with a broken __str__ must not stop validation
        return repr(type(cell))


def cell_text(cell: object) -> str | None:
    """Stripped display text, None when blank. Use for IDs, names and free text."""
    if type(cell) is str:
        text = cell.strip()  # type: ignore[union-attr]
        return text or None
    if cell is None:
        return None
    return display(cell) or None


# --- dates ---------------------------------------------------------------------------------

_TIME = (
    r"(?:(?P<ampm1>上午|下午|晚上|中午|早上|凌晨)\s*)?"
    r"(?P<h>\d{1,2})(?:[:](?P<mi>\d{1,2})(?:[:](?P<s>\d{1,2})(?:[.,](?P<f>\d{1,9}))?)?|\.(?P<mi3>\d{2})(?!\d)|[点时](?:(?P<mi2>\d{1,2})分?|(?P<half>半))?)"
    r"\s*(?P<ampm2>[AaPp]\.?[Mm]\.?)?\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?"
)
_TAIL = rf"(?:(?:[Tt]|\s+|(?<=[日号]))\s*{_TIME})?"
_YMD = re.compile(rf"(?P<y>\d{{4}})(?P<sep>[-/.])(?P<mo>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){_TAIL}")
_ZH = re.compile(rf"(?P<y>\d{{4}})\s*年\s*(?P<mo>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*[日号]?{_TAIL}")
_DMY = re.compile(rf"(?P<a>\d{{1,2}})(?P<sep>[-/.])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}){_TAIL}")
_NAMED_DMY = re.compile(rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[\s-]+(?P<mon>[A-Za-z]{{3,9}})\.?,?[\s-]+(?P<y>\d{{4}}){_TAIL}")
_NAMED_MDY = re.compile(rf"(?P<mon>[A-Za-z]{{3,9}})\.?[\s-]+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?[\s-]+(?P<y>\d{{4}}){_TAIL}")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
# A month and day without a year ("11月20日", "11/20", "20 Nov"): told apart from unreadable text so
# the message can say what is missing. The year is not guessed: a wrong guess moves a contact a year.
_NO_YEAR = (
    re.compile(rf"(?P<mo>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*[日号]?{_TAIL}"),
    re.compile(rf"(?P<a>\d{{1,2}})(?P<sep>[-/.])(?P<b>\d{{1,2}})\.?{_TAIL}"),
    re.compile(rf"(?P<d>\d{{1,2}})(?:st|nd|rd|th)?[\s-]+(?P<mon>[A-Za-z]{{3,9}})\.?{_TAIL}"),
    re.compile(rf"(?P<mon>[A-Za-z]{{3,9}})\.?[\s-]+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?{_TAIL}"),
)

_MONTHS = {
    name: index
    for index, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
            ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
            ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}


def _clock(match: re.Match[str]) -> tuple[int, int, int, int] | None | Invalid:
    """(hour, minute, second, microsecond) from the time part of a match; None when absent."""
    hour_text = match.group("h")
    if hour_text is None:
        return None
    hour = int(hour_text)
    minute = int(match.group("mi") or match.group("mi2") or match.group("mi3") or (30 if match.group("half") else 0))
    second = int(match.group("s") or 0)
    fraction = match.group("f")
    micro = int((fraction + "000000")[:6]) if fraction else 0
    marker = match.group("ampm1") or (match.group("ampm2") or "").replace(".", "").lower()
    if marker in ("pm", "下午", "晚上") or (marker == "中午" and hour < 6):
        hour += 12 if hour < 12 else 0  # 下午2点 → 14:00; 下午14:00 is redundant but clear
    elif marker in ("am", "上午", "凌晨", "早上"):
        if hour > 12:
            return Invalid("date.nonexistent")
        hour = 0 if hour == 12 else hour
    if hour > 23 or minute > 59 or second > 59:
        return Invalid("date.nonexistent")
    return hour, minute, second, micro


def _tz(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)


def _build(year: int, month: int, day: int, match: re.Match[str] | None, zone: tzinfo | None) -> ParsedDate | Invalid:
    if not YEAR_MIN <= year <= YEAR_MAX:
        return Invalid("date.out_of_range", str(year))
    try:
        day_value = date(year, month, day)
    except ValueError:
        return Invalid("date.nonexistent")
    clock = _clock(match) if match is not None else None
    if isinstance(clock, Invalid):
        return clock
    if clock is None:
        return ParsedDate(datetime(day_value.year, day_value.month, day_value.day), False)
    at = datetime(year, month, day, *clock)
    offset = _tz(match.group("tz")) if match is not None else None
    if offset is not None:
        at = at.replace(tzinfo=offset)
        at = (at.astimezone(zone) if zone is not None else at).replace(tzinfo=None)
    return ParsedDate(at, at.time() != time(0))


def from_serial(value: float) -> ParsedDate | Invalid:
    """An Excel serial date (1900 system), when it falls in the plausible 1950–2100 range."""
    if value != value or not SERIAL_MIN <= value < SERIAL_MAX + 1:
        return Invalid("date.unparseable", "number")
    seconds = round(value * 86400)
    at = _EXCEL_EPOCH + timedelta(seconds=seconds)
    return ParsedDate(at, seconds % 86400 != 0)


def _compact(text: str) -> ParsedDate | Invalid | None:
    """20250102 (ISO 8601 basic form), common in exports; None when it is not one."""
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    if not YEAR_MIN <= year <= YEAR_MAX:
        return None
    return _build(year, month, day, None, None)


def _day_month(first: int, second: int, sep: str) -> tuple[int, int] | Invalid:
    """(day, month) of a year-last date; only unambiguous readings pass (dots mean day-first)."""
    if sep == ".":
        return first, second
    if first > 12 and second <= 12:
        return first, second
    if second > 12 and first <= 12:
        return second, first
    if first == second:
        return first, second
    if first > 12 and second > 12:
        return Invalid("date.nonexistent")
    return Invalid("date.ambiguous")


def _parse_text(raw: str, zone: tzinfo | None) -> ParsedDate | Invalid:
    text = raw.strip()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).strip()
    if _RANGE_END.search(text) and not _MACHINE_TIME.search(text):
        text = _RANGE_END.sub("", text)  # "2025-01-02 14:00-15:30": when the contact began, not a UTC offset
    parsed = _parse_plain(text, zone)
    if isinstance(parsed, Invalid) and parsed.code != "cell.error":
        return _without_notes(text, zone) or parsed
    return parsed


# What people write around a date in a log: the weekday ("（周五）", "星期五", "Fri,"), the end of a
# time range ("14:00-15:30", "14:00至15:30"), a part of the day without a time ("下午").
_WEEKDAYS = {
    **{f"{prefix}{day}": index for prefix in ("周", "星期", "礼拜") for index, day in enumerate("一二三四五六日")},
    **{f"{prefix}天": 6 for prefix in ("周", "星期", "礼拜")},
    **{name: index for index, names in enumerate((
        ("mon", "monday"), ("tue", "tues", "tuesday"), ("wed", "weds", "wednesday"), ("thu", "thur", "thurs", "thursday"),
        ("fri", "friday"), ("sat", "saturday"), ("sun", "sunday"),
    )) for name in names},
}
_WEEKDAY = re.compile(
    r"[(\[]?\s*(?P<wd>(?:周|星期|礼拜)[一二三四五六日天]|(?<![A-Za-z])(?:mon|tues?|wed|weds|thu|thurs?|fri|sat|sun)"
    r"(?:day|sday|nesday|rsday|urday)?(?![A-Za-z]))\s*[)\]]?\.?,?",
    re.IGNORECASE,
)
_RANGE_END = re.compile(r"(?<=[\d点时分半])\s*(?:-|~|至|到|–|—)\s*\d{1,2}(?::\d{2}|\.\d{2}|[点时](?:\d{1,2}分?|半)?)\s*$")
_MACHINE_TIME = re.compile(r"\d[Tt]\d|\d:\d{2}:\d{2}")  # ISO forms, where "-05:00" is an offset
_HOUR_FRACTION = re.compile(r"[ Tt]\d{1,2}[.,]\d+$")
_PART_OF_DAY = re.compile(r"\s*(?:上午|下午|晚上|中午|早上|凌晨)\s*$")


def _without_notes(text: str, zone: tzinfo | None) -> ParsedDate | Invalid | None:
    """The date once a weekday or a bare part of the day is set aside; None when there is none. A weekday
    that is not the date's is `date.weekday` (detail "iso date|the date's weekday, 0 = Monday"):
    which of the two is the typo only the user knows."""
    weekdays = [_WEEKDAYS.get(m.group("wd").lower()) for m in _WEEKDAY.finditer(text)]
    rest = _PART_OF_DAY.sub("", _WEEKDAY.sub(" ", text)).strip(" ,")
    rest = re.sub(r"\s+", " ", rest)
    if rest == text or not rest:
        return None
    parsed = _parse_plain(rest, zone)
    if isinstance(parsed, ParsedDate) and weekdays and any(w != parsed.at.weekday() for w in weekdays):
        return Invalid("date.weekday", f"{parsed.day.isoformat()}|{parsed.at.weekday()}")
    return parsed


def _parse_plain(text: str, zone: tzinfo | None) -> ParsedDate | Invalid:
    match = _YMD.fullmatch(text) or _ZH.fullmatch(text)
    if match:
        return _build(int(match.group("y")), int(match.group("mo")), int(match.group("d")), match, zone)
    match = _DMY.fullmatch(text)
    if match:
        year, first, second = int(match.group("y")), int(match.group("a")), int(match.group("b"))
        reading = _day_month(first, second, match.group("sep"))
        if isinstance(reading, Invalid):
            if reading.code == "date.ambiguous":
                try:
                    us, eu = date(year, first, second), date(year, second, first)
                except ValueError:
                    return Invalid("date.nonexistent")
                return Invalid("date.ambiguous", f"{us.isoformat()}|{eu.isoformat()}")
            return reading
        return _build(year, reading[1], reading[0], match, zone)
    match = _NAMED_DMY.fullmatch(text) or _NAMED_MDY.fullmatch(text)
    if match:
        month = _MONTHS.get(match.group("mon").lower())
        if month is not None:
            return _build(int(match.group("y")), month, int(match.group("d")), match, zone)
        return Invalid("date.unparseable")
    if len(text) == 8 and text.isdigit():
        compact = _compact(text)
        if compact is not None:
            return compact
    if _NUMBER.fullmatch(text):
        return from_serial(float(text))
    if _HOUR_FRACTION.search(text):
        return Invalid("date.unparseable")  # "14.3": fromisoformat would read 14:00:00.3
    try:
        parsed = datetime.fromisoformat(text)  # 20250102T1430, 2025-W01-4 and other ISO forms
    except ValueError:
        return _without_year(text) or Invalid("date.unparseable")
    return _from_datetime(parsed, zone)


def _without_year(text: str) -> Invalid | None:
    """`date.no_year` for a month and day alone; detail "month|day" when the reading is certain."""
    for pattern in _NO_YEAR:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        groups = match.groupdict()
        if groups.get("mon") is not None:
            month = _MONTHS.get(groups["mon"].lower())
            if month is None:
                continue
            day = int(groups["d"])
        elif groups.get("mo") is not None:
            month, day = int(groups["mo"]), int(groups["d"])
        else:
            reading = _day_month(int(groups["a"]), int(groups["b"]), groups["sep"])
            if isinstance(reading, Invalid):
                return Invalid("date.no_year")
            day, month = reading
        try:
            date(2000, month, day)  # a leap year: 2月29日 is a real day
        except ValueError:
            return Invalid("date.nonexistent")
        return Invalid("date.no_year", f"{month}|{day}")
    return None


def _from_datetime(value: datetime, zone: tzinfo | None) -> ParsedDate | Invalid:
    if value.tzinfo is not None:
        value = (value.astimezone(zone) if zone is not None else value).replace(tzinfo=None)
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        return Invalid("date.out_of_range", str(value.year))
    return ParsedDate(value, value.time() != time(0))


def parse_date(cell: object, zone: tzinfo | None = None) -> ParsedDate | Invalid | None:
    """A date/datetime from a real date cell, an Excel serial, or text in the formats users write.

    Accepted text: 2025-01-02, 2025-01-02 14:30[:05], 2025-01-02T14:30Z, 2025/1/2, 2025.1.2,
    2025年1月2日 [14:30 | 下午2点 | 14点30分], 20250102, 2 Jan 2025, Jan 2, 2025, and year-last
    forms when unambiguous (see the module docstring). Full-width digits are folded first.
    """
    kind = type(cell)
    if kind is datetime:
        return _from_datetime(cell, zone)  # type: ignore[arg-type]
    if kind is date:
        return ParsedDate(datetime(cell.year, cell.month, cell.day), False)  # type: ignore[union-attr]
    if cell is None:
        return None
    if kind is str:
        if not cell.strip():  # type: ignore[union-attr]
            return None
        if excel_error(cell):
            return Invalid("cell.error")
        return _parse_text(cell, zone)  # type: ignore[arg-type]
    if kind is int or kind is float:
        if kind is int and 10_000_000 <= cell <= 99_999_999:  # type: ignore[operator]
            compact = _compact(str(cell))
            if compact is not None:
                return compact
        return from_serial(cell)  # type: ignore[arg-type]
    if isinstance(cell, datetime):
        return _from_datetime(cell, zone)
    if isinstance(cell, date):
        return ParsedDate(datetime(cell.year, cell.month, cell.day), False)
    if isinstance(cell, time):
        return Invalid("date.time_only")
    if isinstance(cell, str):
        return parse_date(str(cell), zone)
    return Invalid("date.unparseable")


def to_date(cell: object, zone: tzinfo | None = None) -> date | None:
    """The date in a cell, or None when blank or not a date (for callers that only read)."""
    parsed = parse_date(cell, zone)
    return parsed.day if isinstance(parsed, ParsedDate) else None


# --- numbers and yes/no --------------------------------------------------------------------

_CURRENCY_PREFIX = ("rmb", "cny", "usd", "eur", "gbp", "hkd", "jpy", "us$", "hk$", "¥", "$", "€", "£")
_CURRENCY_SUFFIX = ("人民币", "rmb", "cny", "usd", "eur", "gbp", "hkd", "jpy", "美元", "元", "块", "¥", "€")
_MULTIPLIERS = (("百万", 1_000_000), ("万", 10_000), ("亿", 100_000_000), ("千", 1_000), ("k", 1_000), ("w", 10_000), ("m", 1_000_000))
_AMOUNT = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+")
_NUMBER_NOISE = re.compile(r"[\s'’_]+")


def _strip_affix(text: str, affixes: tuple[str, ...], prefix: bool) -> str:
    for affix in affixes:
        if text.startswith(affix) if prefix else text.endswith(affix):
            return text[len(affix):] if prefix else text[: -len(affix)]
    return text


def parse_number(cell: object) -> float | Invalid | None:
    """An amount: numbers, or text like ¥12,000 / 1.2万 / 12k / (1,200) / RMB 3000元."""
    kind = type(cell)
    if kind is int or kind is float:
        value = float(cell)  # type: ignore[arg-type]
        return value if value == value and abs(value) != float("inf") else Invalid("number.unparseable")
    if cell is None:
        return None
    if not isinstance(cell, str):
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            return parse_number(float(cell))
        return Invalid("number.unparseable")
    if not cell.strip():
        return None
    if excel_error(cell):
        return Invalid("cell.error")
    text = _NUMBER_NOISE.sub("", unicodedata.normalize("NFKC", cell).lower())
    negative = False
    if len(text) > 2 and text[0] == "(" and text[-1] == ")":
        negative, text = True, text[1:-1]
    for _ in range(2):  # a sign may come before or after the currency: -¥500, ¥-500
        if text[:1] in ("+", "-"):
            negative, text = negative ^ (text[0] == "-"), text[1:]
        text = _strip_affix(text, _CURRENCY_PREFIX, prefix=True)
    text = _strip_affix(text, _CURRENCY_SUFFIX, prefix=False)
    factor = 1
    for suffix, multiple in _MULTIPLIERS:
        if text.endswith(suffix):
            text, factor = text[: -len(suffix)], multiple
            break
    if not _AMOUNT.fullmatch(text):
        return Invalid("number.unparseable")
    digits = text.replace(",", "")
    value = float(digits) if factor == 1 else float(Decimal(digits) * factor)
    return -value if negative else value


def parse_bool(
    cell: object,
    true_words: Collection[str] = TRUE_WORDS,
    false_words: Collection[str] = FALSE_WORDS,
) -> bool | Invalid | None:
    """Yes/no from a checkbox, 1/0, or words (Y, 是, 锁定, ✓ / N, 否 …); None when blank."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int | float):
        if cell == 1:
            return True
        if cell == 0:
            return False
        return Invalid("bool.unknown")
    if isinstance(cell, str):
        if not cell.strip():
            return None
        if excel_error(cell):
            return Invalid("cell.error")
        word = normalize(cell)
        if word in true_words:
            return True
        if word in false_words:
            return False
    return Invalid("bool.unknown")


# --- placeholders ---------------------------------------------------------------------------

# What people type into an optional cell to say "nothing here" (compared after fields.normalize,
# which also drops "-" and "/"): the cell counts as blank, not as a bad phone, address or rep.
_PLACEHOLDERS = frozenset({
    "", "无", "暂无", "没有", "不详", "未知", "待定", "待补充", "空", "—", "——", "…", "...",
    "na", "none", "null", "nil", "tbd", "tba", "unknown", "?", "??",
})


def is_placeholder(cell: object) -> bool:
    """True for text that stands for an empty optional cell: 无, 暂无, -, /, N/A, none, TBD …"""
    return type(cell) is str and len(cell) <= 12 and not cell[:1].isdigit() and normalize(cell) in _PLACEHOLDERS  # a phone: no


# --- phone numbers and e-mail addresses ----------------------------------------------------

PhoneKind = Literal["mobile", "other", "invalid"]

_PHONE_SPLIT = re.compile(r"[,，;；/、|\n]+|\s+(?:or|或)\s+")
_PHONE_NOISE = re.compile(r"[\s\-–—‐().（）]+")
_MOBILE = re.compile(r"(?:\+?86|0086)?(1[3-9]\d{9})")
_EXTENSION = r"(?:(?:转|ext|x|#)\d{1,6})?"
_LANDLINE = re.compile(rf"(?:(?:\+?86|0086)[1-9]\d{{1,2}}|0[1-9]\d{{1,2}})\d{{7,8}}{_EXTENSION}|[48]00\d{{7}}", re.I)
_INTERNATIONAL = re.compile(rf"(?:\+|00)[1-9]\d{{6,14}}{_EXTENSION}", re.I)
_LOCAL = re.compile(rf"[2-9]\d{{6,7}}{_EXTENSION}", re.I)


def phone_parts(text: str) -> list[str]:
    """Several numbers in one cell ('138… / 139…', '138…，139…') as separate parts."""
    return [part.strip() for part in _PHONE_SPLIT.split(text) if part.strip()]


# What people write beside a number: "（微信同号）", "张经理：", " 前台", "-801" for an extension.
_PHONE_NOTE = re.compile(r"[(（\[【][^()（）\[\]【】\d]*[)）\]】]")
_PHONE_LABEL = re.compile(r"^[^\d+(（]+")
_PHONE_TAIL = re.compile(r"\s+[^\d\s]+$")
_DASH_EXTENSION = re.compile(r"^(.*\d{7,8})\s*[-–—]\s*(\d{1,5})$")


def _compact_phone(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = _PHONE_NOTE.sub("", text).strip()
    text = _PHONE_TAIL.sub("", _PHONE_LABEL.sub("", text))
    text = _DASH_EXTENSION.sub(r"\1转\2", text)
    return _PHONE_NOISE.sub("", text)


def phone_check(text: str) -> tuple[PhoneKind, list[str]]:
    """The kind of the cell's number(s) and their comparable forms, in one pass (see phone_kind, phone_keys)."""
    if len(text) == 11 and text.isdigit() and text[0] == "1" and text[1] in "3456789":
        return "mobile", [text]  # the common case, without regexes
    worst: PhoneKind = "mobile"
    keys: list[str] = []
    parts = phone_parts(text)
    for part in parts:
        compact = _compact_phone(part)
        mobile = _MOBILE.fullmatch(compact)
        if mobile:
            keys.append(mobile.group(1))
            continue
        digits = _NON_DIGITS.sub("", compact)
        if len(digits) >= 7:
            keys.append(digits)
        if worst == "invalid":
            continue
        if len(compact) in (10, 11, 12) and compact.isdigit() and compact[0] == "1":
            worst = "invalid"  # a mistyped mobile, not a landline
        elif _LANDLINE.fullmatch(compact) or _INTERNATIONAL.fullmatch(compact) or _LOCAL.fullmatch(compact):
            worst = "other"
        else:
            worst = "invalid"
    return (worst if parts else "invalid"), keys


def phone_kind(text: str) -> PhoneKind:
    """mobile: a CN mobile number (+86/86/0086, spaces and dashes tolerated); other: a landline or
    international number; invalid: anything else. A cell with several numbers takes the worst."""
    return phone_check(text)[0]


def phone_keys(text: str) -> list[str]:
    """Comparable forms of each number in the cell (digits only, CN prefix dropped) for 线索去重."""
    return phone_check(text)[1]


_NON_DIGITS = re.compile(r"\D")
_EMAIL = re.compile(
    r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"  # \w: internationalised (RFC 6531) too
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})"
)
_EMAIL_SPLIT = re.compile(r"[;,；，\s]+")


def is_email(text: str) -> bool:
    """One address, user@domain.tld (internationalised names allowed, as SMTPUTF8 servers accept), ≤ 254 characters."""
    return len(text) <= 254 and _EMAIL.fullmatch(text) is not None


def email_parts(text: str) -> list[str]:
    """Several addresses in one cell, separated by ; , or spaces; a `mailto:` prefix is dropped."""
    text = text.strip()
    if ";" not in text and "," not in text and " " not in text and text.isascii() and text[:7].lower() != "mailto:":
        return [text] if text else []
    parts = [part for part in _EMAIL_SPLIT.split(text) if part]
    return [part[7:] if part.lower().startswith("mailto:") else part for part in parts]


def email_fix(text: str) -> str | None:
    """A corrected address when the only problem is full-width characters or a stray mailto:/<>."""
    fixed = unicodedata.normalize("NFKC", text).strip().strip("<>").strip()
    if fixed.lower().startswith("mailto:"):
        fixed = fixed[7:]
    fixed = fixed.replace("。", ".").replace(" ", "")
    return fixed if fixed != text and is_email(fixed) else None


__all__ = [
    "EXCEL_ERRORS", "Invalid", "ParsedDate", "cell_text", "display", "email_fix", "email_parts", "excel_error",
    "from_serial", "is_blank", "is_email", "parse_bool", "parse_date", "parse_number", "phone_keys", "phone_kind",
    "phone_check", "phone_parts", "to_date",
]
