"""Cell parsing: every accepted and rejected format, with exact results."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.core.parse import (
    SERIAL_MAX,
    SERIAL_MIN,
    Invalid,
    ParsedDate,
    cell_text,
    display,
    email_fix,
    email_parts,
    excel_error,
    from_serial,
    is_blank,
    is_email,
    is_placeholder,
    parse_bool,
    parse_date,
    parse_number,
    phone_keys,
    phone_kind,
    to_date,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def d(*args: int) -> ParsedDate:
    """A date-only result."""
    return ParsedDate(datetime(*args), False)


def dt(*args: int) -> ParsedDate:
    """A result with a time of day."""
    return ParsedDate(datetime(*args), True)


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        # real cells
        (date(2025, 1, 2), d(2025, 1, 2)),
        (datetime(2025, 1, 2), d(2025, 1, 2)),
        (datetime(2025, 1, 2, 14, 30), dt(2025, 1, 2, 14, 30)),
        (datetime(2025, 1, 2, 0, 0, 1), dt(2025, 1, 2, 0, 0, 1)),
        # ISO
        ("2025-01-02", d(2025, 1, 2)),
        ("  2025-01-02 ", d(2025, 1, 2)),
        ("2025-01-02 14:30", dt(2025, 1, 2, 14, 30)),
        ("2025-01-02 14:30:05", dt(2025, 1, 2, 14, 30, 5)),
        ("2025-01-02T14:30", dt(2025, 1, 2, 14, 30)),
        ("2025-01-02 00:00", d(2025, 1, 2)),
        ("2025-1-2", d(2025, 1, 2)),
        # slashes and dots, year first
        ("2025/1/2", d(2025, 1, 2)),
        ("2025/01/31", d(2025, 1, 31)),
        ("2025/1/2 9:05", dt(2025, 1, 2, 9, 5)),
        ("2025.1.2", d(2025, 1, 2)),
        ("2025.12.31", d(2025, 12, 31)),
        # Chinese
        ("2025年1月2日", d(2025, 1, 2)),
        ("2025年1月2号", d(2025, 1, 2)),
        ("2025年1月2日 14:30", dt(2025, 1, 2, 14, 30)),
        ("2025年1月2日14:30", dt(2025, 1, 2, 14, 30)),
        ("2025年1月2日 下午2点", dt(2025, 1, 2, 14, 0)),
        ("2025年1月2日上午9点30分", dt(2025, 1, 2, 9, 30)),
        ("2025年1月2日 14点半", dt(2025, 1, 2, 14, 30)),
        ("２０２５年１月２日", d(2025, 1, 2)),  # full-width digits
        ("２０２５－０１－０２　１４：３０", dt(2025, 1, 2, 14, 30)),
        # English
        ("2025-01-02 2:30 PM", dt(2025, 1, 2, 14, 30)),
        ("2025-01-02 12:15 am", dt(2025, 1, 2, 0, 15)),
        ("Jan 2, 2025", d(2025, 1, 2)),
        ("2 January 2025", d(2025, 1, 2)),
        ("2-Jan-2025", d(2025, 1, 2)),
        ("Sept 30 2025", d(2025, 9, 30)),
        # year last: only when unambiguous; dots are day first
        ("13/2/2025", d(2025, 2, 13)),
        ("2/13/2025", d(2025, 2, 13)),
        ("3/3/2025", d(2025, 3, 3)),
        ("2.1.2025", d(2025, 1, 2)),
        ("31.12.2025", d(2025, 12, 31)),
        # compact and serials
        ("20250102", d(2025, 1, 2)),
        (20250102, d(2025, 1, 2)),
        (45658, d(2025, 1, 1)),
        (45658.0, d(2025, 1, 1)),
        (45658.5, dt(2025, 1, 1, 12, 0)),
        (45658 + (14 * 60 + 30) / 1440, dt(2025, 1, 1, 14, 30)),
        ("45658", d(2025, 1, 1)),
        (SERIAL_MIN, d(1950, 1, 1)),
        (SERIAL_MAX, d(2100, 12, 31)),
        # fromisoformat's extra forms
        ("20250102T1430", dt(2025, 1, 2, 14, 30)),
    ],
)
def test_dates_accepted(cell: object, expected: ParsedDate) -> None:
    assert parse_date(cell) == expected


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("2025/13/45", "date.nonexistent"),
        ("2025-02-29", "date.nonexistent"),  # not a leap year
        ("2025-04-31", "date.nonexistent"),
        ("2025-01-02 24:00", "date.nonexistent"),
        ("2025-01-02 14:60", "date.nonexistent"),
        ("2025-01-02 13:00 AM", "date.nonexistent"),
        ("13/13/2025", "date.nonexistent"),
        ("1/2/2025", "date.ambiguous"),
        ("0202-01-05", "date.out_of_range"),
        ("2205-01-05", "date.out_of_range"),
        ("25/1/2", "date.unparseable"),  # two-digit year
        ("1月2日", "date.no_year"),
        ("11/20", "date.no_year"),
        ("20 Nov", "date.no_year"),
        ("2月30日", "date.nonexistent"),  # no year, and no such day in any year
        ("Nov 2026", "date.unparseable"),  # a month, not a day
        ("yesterday", "date.unparseable"),
        ("Foo 2, 2025", "date.unparseable"),
        ("2025", "date.unparseable"),  # a year alone; as a serial it would be 1905
        (5, "date.unparseable"),
        (SERIAL_MIN - 1, "date.unparseable"),
        (SERIAL_MAX + 1, "date.unparseable"),
        (-45658, "date.unparseable"),
        (float("nan"), "date.unparseable"),
        (True, "date.unparseable"),
        (time(14, 30), "date.time_only"),
        ("#N/A", "cell.error"),
        ("#DIV/0!", "cell.error"),
        (timedelta(days=3), "date.unparseable"),
    ],
)
def test_dates_rejected(cell: object, code: str) -> None:
    result = parse_date(cell)
    assert isinstance(result, Invalid)
    assert result.code == code


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("11月20日", "11|20"), ("11月20号 下午3点", "11|20"), ("１１月２０日", "11|20"),
        ("11/20", "11|20"), ("20/11", "11|20"), ("20.11.", "11|20"), ("11-20 14:30", "11|20"),
        ("Nov 20", "11|20"), ("20 November", "11|20"), ("November 3rd", "11|3"), ("2月29日", "2|29"),
        ("3/4", ""),  # March 4 or 3 April: no reading is certain
    ],
)
def test_a_month_and_day_without_a_year_is_named_as_such(text: str, detail: str) -> None:
    assert parse_date(text) == Invalid("date.no_year", detail)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 2025-01-03 is a Friday
        ("2025-01-03（周五）", d(2025, 1, 3)), ("2025/1/3 星期五", d(2025, 1, 3)), ("2025年1月3日礼拜五", d(2025, 1, 3)),
        ("2025-01-03 (Fri)", d(2025, 1, 3)), ("Fri, 3 Jan 2025", d(2025, 1, 3)), ("Friday, January 3, 2025", d(2025, 1, 3)),
        ("2025-01-05 周日", d(2025, 1, 5)), ("2025-01-05 星期天", d(2025, 1, 5)),
        ("2025年1月3日（周五）下午3点", dt(2025, 1, 3, 15, 0)), ("2025-01-03 周五 14:00", dt(2025, 1, 3, 14, 0)),
        ("2025-01-03 下午", d(2025, 1, 3)),  # a part of the day without a time: the day is known
    ],
)
def test_a_weekday_or_part_of_the_day_beside_the_date_is_set_aside(text: str, expected: ParsedDate) -> None:
    assert parse_date(text) == expected


def test_a_weekday_that_is_not_the_dates_is_named() -> None:
    assert parse_date("2025-01-03 周四") == Invalid("date.weekday", "2025-01-03|4")  # written Thursday; it is a Friday
    assert parse_date("Thu, 3 Jan 2025") == Invalid("date.weekday", "2025-01-03|4")
    assert parse_date("1月3日 周五") == Invalid("date.no_year", "1|3")
    assert isinstance(parse_date("周五"), Invalid) and isinstance(parse_date("Mon-Fri"), Invalid)


def test_a_dot_between_hour_and_minute_is_a_time() -> None:
    assert parse_date("2025-01-03 14.30") == dt(2025, 1, 3, 14, 30)
    assert parse_date("2025.1.3 9.05") == dt(2025, 1, 3, 9, 5)
    assert parse_date("2025/1/3 下午2.30") == dt(2025, 1, 3, 14, 30)
    # Not 14:00:00.3, as datetime.fromisoformat would have it.
    assert parse_date("2025-01-03 14.3") == Invalid("date.unparseable") and parse_date("2025-01-03 14.300") == Invalid("date.unparseable")
    assert parse_date("2025-01-03T14:30:00.5") == dt(2025, 1, 3, 14, 30, 0, 500000)  # fractions of a second stay


@pytest.mark.parametrize("text", ["2025-01-03 14:00-15:30", "2025-01-03 14.00-15.30", "2025-01-03 14:00 - 15:30", "2025-01-03 14:00~15:30",
                                  "2025-01-03 14:00至15:30", "2025-01-03 14:00到15:30", "2025-01-03 下午2点-3点半",
                                  "2025年1月3日 14:00—15:30"])
def test_a_time_range_is_when_the_contact_began(text: str) -> None:
    # "-15:30" once read as a UTC offset: the contact moved to 13:30 the next day in Shanghai.
    assert parse_date(text, SHANGHAI) == dt(2025, 1, 3, 14, 0)


def test_ambiguous_date_carries_both_readings() -> None:
    assert parse_date("1/2/2025") == Invalid("date.ambiguous", "2025-01-02|2025-02-01")


@pytest.mark.parametrize("cell", [None, "", "   ", "\u3000"])
def test_blank_dates(cell: object) -> None:
    assert parse_date(cell) is None


def test_timezone_text_is_converted_to_the_configured_zone() -> None:
    assert parse_date("2025-01-02T06:30:00Z", SHANGHAI) == dt(2025, 1, 2, 14, 30)
    assert parse_date("2025-01-02 23:30+00:00", SHANGHAI) == dt(2025, 1, 3, 7, 30)
    assert parse_date(datetime(2025, 1, 2, 16, 0, tzinfo=UTC), SHANGHAI) == d(2025, 1, 3)
    assert parse_date("2025-01-02T06:30-05:00", SHANGHAI) == dt(2025, 1, 2, 19, 30)  # ISO: an offset, not a range
    assert parse_date("2025-01-02 06:30:00-05:00", SHANGHAI) == dt(2025, 1, 2, 19, 30)
    # Without a zone the wall-clock time as written is kept.
    assert parse_date("2025-01-02T06:30:00Z") == dt(2025, 1, 2, 6, 30)


def test_serial_conversion_and_helpers() -> None:
    assert from_serial(45658.999988426) == dt(2025, 1, 1, 23, 59, 59)
    assert to_date("2025/1/2") == date(2025, 1, 2)
    assert to_date("2025/13/45") is None
    assert to_date(None) is None
    assert parse_date("2025-01-02 14:30").day == date(2025, 1, 2)  # type: ignore[union-attr]


# --- what the user sees ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        (None, ""),
        ("00123", "00123"),
        ("  C-001 ", "C-001"),
        (123, "123"),
        (123.0, "123"),
        (1.3800138e10, "13800138000"),
        (13800138000.0, "13800138000"),
        (1e20, "100000000000000000000"),
        (12.5, "12.5"),
        (0.1 + 0.2, "0.3"),
        (1.5e-7, "0.00000015"),
        (-0.0, "0"),
        (True, "TRUE"),
        (False, "FALSE"),
        (date(2025, 1, 2), "2025-01-02"),
        (datetime(2025, 1, 2), "2025-01-02"),
        (datetime(2025, 1, 2, 14, 30), "2025-01-02 14:30"),
        (datetime(2025, 1, 2, 14, 30, 5), "2025-01-02 14:30:05"),
        (time(9, 5), "09:05"),
        (float("nan"), "#NUM!"),
        (Decimal("1.50"), "1.50"),
    ],
)
def test_display(cell: object, shown: str) -> None:
    assert display(cell) == shown


def test_cell_text_and_blanks() -> None:
    assert cell_text("  ") is None
    assert cell_text(None) is None
    assert cell_text(" 007 ") == "007"
    assert cell_text(7.0) == "7"
    assert is_blank(" \t") and is_blank(None) and not is_blank(0) and not is_blank("x")


@pytest.mark.parametrize(
    ("cell", "error"),
    [("#N/A", "#N/A"), (" #div/0! ", "#DIV/0!"), ("#REF!", "#REF!"), ("#NAME?", "#NAME?"), ("#1 客户", None), ("x", None), (5, None)],
)
def test_excel_error(cell: object, error: str | None) -> None:
    assert excel_error(cell) == error


# --- numbers and yes/no -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        (12000, 12000.0),
        (12.5, 12.5),
        ("12000", 12000.0),
        ("12,000", 12000.0),
        ("¥12,000", 12000.0),
        ("￥12,000.50", 12000.5),
        ("$1,234.56", 1234.56),
        ("RMB 3000元", 3000.0),
        ("3000元", 3000.0),
        ("1.2万", 12000.0),
        ("1.1万元", 11000.0),
        ("¥1.2万", 12000.0),
        ("3亿", 300000000.0),
        ("12k", 12000.0),
        ("12K", 12000.0),
        ("3w", 30000.0),
        ("1.5M", 1500000.0),
        ("(1,200)", -1200.0),
        ("-¥500", -500.0),
        ("1 200 000", 1200000.0),
        ("１２０００", 12000.0),
        (".5", 0.5),
        ("   ", None),
        (None, None),
    ],
)
def test_numbers(cell: object, value: float | None) -> None:
    assert parse_number(cell) == value


@pytest.mark.parametrize(
    ("cell", "code"),
    [("abc", "number.unparseable"), ("1,2", "number.unparseable"), ("10-20万", "number.unparseable"),
     ("30%", "number.unparseable"), (True, "number.unparseable"), (float("inf"), "number.unparseable"),
     ("#VALUE!", "cell.error"), (date(2025, 1, 2), "number.unparseable")],
)
def test_numbers_rejected(cell: object, code: str) -> None:
    assert parse_number(cell) == Invalid(code)


@pytest.mark.parametrize(
    ("cell", "value"),
    [(True, True), (False, False), (1, True), (0, False), (1.0, True), ("Y", True), ("yes", True), ("是", True),
     ("锁定", True), ("✓", True), ("x", True), ("N", False), ("否", False), ("no", False), ("FALSE", False),
     (" y ", True), (None, None), ("", None)],
)
def test_booleans(cell: object, value: bool | None) -> None:
    assert parse_bool(cell) is value


@pytest.mark.parametrize("cell", ["maybe", "2", 2, "#N/A", date(2025, 1, 2)])
def test_booleans_rejected(cell: object) -> None:
    assert isinstance(parse_bool(cell), Invalid)


def test_booleans_with_extra_words() -> None:
    assert parse_bool("在职", {"在职"}, {"离职"}) is True
    assert parse_bool("离职", {"在职"}, {"离职"}) is False


# --- phones and e-mail ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("13800138000", "mobile"),
        ("19912345678", "mobile"),
        ("138 0013 8000", "mobile"),
        ("138-0013-8000", "mobile"),
        ("+86 138 0013 8000", "mobile"),
        ("+8613800138000", "mobile"),
        ("86 13800138000", "mobile"),
        ("0086-138-0013-8000", "mobile"),
        ("(+86) 138 0013 8000", "mobile"),
        ("１３８００１３８０００", "mobile"),
        ("13800138000 / 13900139000", "mobile"),
        ("13800138000，13900139000", "mobile"),
        ("010-12345678", "other"),
        ("(021) 8765 4321", "other"),
        ("0755-1234567", "other"),
        ("010-12345678 转 123", "other"),
        ("+86 10 1234 5678", "other"),
        ("400-820-8820", "other"),
        ("8765 4321", "other"),
        ("+1 415 555 0100", "other"),
        ("+44 20 7946 0958", "other"),
        ("13800138000 / 010-12345678", "other"),
        ("12345678901", "invalid"),  # 11 digits, but no mobile prefix 13–19
        ("1380013800", "invalid"),  # one digit short
        ("138001380001", "invalid"),  # one digit too many
        ("abc", "invalid"),
        ("123", "invalid"),
        ("见备注", "invalid"),
        ("13800138000 / abc", "invalid"),
        ("", "invalid"),
        # what people write beside a number
        ("13800138000（微信同号）", "mobile"), ("13800138000 (同微信)", "mobile"), ("13800138000【备用】", "mobile"),
        ("张经理：13800138000", "mobile"), ("张经理 13800138000", "mobile"), ("13800138000 张经理", "mobile"),
        ("手机13800138000", "mobile"), ("Tel: +86 21 6123 4567", "other"), ("010-12345678-801", "other"),
        ("138-0013-8000 / 李工 139 0013 9000", "mobile"), ("0755-1234-5678", "other"),
    ],
)
def test_phone_kind(text: str, kind: str) -> None:
    assert phone_kind(text) == kind


def test_phone_keys_for_dedupe() -> None:
    assert phone_keys("+86 138-0013-8000") == ["13800138000"]
    assert phone_keys("13800138000 / 010-12345678") == ["13800138000", "01012345678"]
    assert phone_keys("abc") == []


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a@b.co", True),
        ("first.last+tag@mail.example.com.cn", True),
        ("o'brien@example.ie", True),
        ("user@例子.中国", True),
        ("james.müller@example.com", True),
        ("张三@例子.中国", True),
        ("user@xn--fsqu00a.xn--fiqs8s", True),
        ("a@b", False),
        ("a@@b.com", False),
        ("a..b@x.com", False),
        (".a@x.com", False),
        ("a@-x.com", False),
        ("a b@x.com", False),
        ("a＠b.com", False),
        ("a@b.c", False),
        ("张三", False),
        ("", False),
    ],
)
def test_is_email(text: str, ok: bool) -> None:
    assert is_email(text) is ok


def test_email_parts_and_fix() -> None:
    assert email_parts("a@x.com; b@y.com") == ["a@x.com", "b@y.com"]
    assert email_parts("a@x.com，b@y.com") == ["a@x.com", "b@y.com"]
    assert email_parts("mailto:a@x.com") == ["a@x.com"]
    assert email_parts(" a@x.com ") == ["a@x.com"]
    assert email_fix("zl＠x．com") == "zl@x.com"
    assert email_fix("<a@x.com>") == "a@x.com"
    assert email_fix("nonsense") is None
    assert email_fix("a@x.com") is None  # nothing to fix


# --- never raise ---------------------------------------------------------------------------

cells = st.one_of(
    st.none(), st.text(max_size=30), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.dates(), st.datetimes(), st.times(),
    st.from_regex(r"\s*\d{1,4}[-/.年]\d{1,3}[-/.月]\d{1,4}[日号]?(\s*\d{1,2}[:点]\d{0,2})?\s*", fullmatch=True),
    st.from_regex(r"[+(]?\d[\d \-()]{0,16}", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(cells)
def test_parsers_never_raise(cell: object) -> None:
    result = parse_date(cell, SHANGHAI)
    assert result is None or isinstance(result, ParsedDate | Invalid)
    if isinstance(result, ParsedDate):
        assert 1900 <= result.at.year <= 2100 or type(cell) in (date, datetime)
    assert isinstance(display(cell), str)
    assert parse_number(cell) is None or isinstance(parse_number(cell), float | Invalid)
    parse_bool(cell)
    text = display(cell)
    assert phone_kind(text) in ("mobile", "other", "invalid")
    phone_keys(text)
    is_email(text)
    email_fix(text)


@pytest.mark.parametrize("text", ["无", "暂无", " - ", "/", "N/A", "n/a", "None", "TBD", "——", "？", "待定", "--", "Unknown"])
def test_placeholders_stand_for_a_blank_cell(text: str) -> None:
    assert is_placeholder(text)


@pytest.mark.parametrize("cell", ["x", "0", "13800138000", "张三", "无锡", "Nancy", "none of them", 0, None, date(2025, 1, 2)])
def test_real_values_are_not_placeholders(cell: object) -> None:
    assert not is_placeholder(cell)
