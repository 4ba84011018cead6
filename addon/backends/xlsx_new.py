"""Render TabSpecs into a brand-new .xlsx with XlsxWriter (templates, demo workbooks, `init`).

Only ever creates files: updating an existing workbook without loss is the job of
addon.backends.xlsx_package. Text is always written as text (a name like `=HYPERLINK(...)` or a
phone like `+86 138…` never becomes a formula or a number); dates are real dates.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from addon.backends.base import STYLES
from addon.model import ChartSpec, StyledCell, TabSpec, Validation

MAX_TEXT = 32_767  # Excel's limit for one cell
_LIST_LIMIT = 255  # Excel's limit for an inline dropdown list ("a,b,c")
LISTS_TAB = "_lists"  # hidden tab holding dropdown lists too long (or too comma-laden) to inline

_DEFAULT_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "time": "hh:mm"}

_VALIDATION_TEXT = {
    "error_title": "跟进助手 / Follow-up",
    "error_message": "请从下拉列表中选择，或确认此值。\nPlease pick a value from the list, or confirm this one.",
}


class _Formats:
    """Named styles → XlsxWriter formats, created once per (style, value kind)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.cache: dict[tuple[str | None, str | None], Format | None] = {}

    def get(self, style: str | None, kind: str | None = None) -> Format | None:
        key = (style, kind)
        if key not in self.cache:
            self.cache[key] = self._make(style, kind)
        return self.cache[key]

    def _make(self, style: str | None, kind: str | None) -> Format | None:
        spec = STYLES.get(style or "", {})
        props: dict[str, Any] = {}
        if spec.get("bold"):
            props["bold"] = True
        if spec.get("italic"):
            props["italic"] = True
        if "size" in spec:
            props["font_size"] = spec["size"]
        if "font" in spec:
            props["font_color"] = f"#{spec['font']}"
        if "fill" in spec:
            props["bg_color"] = f"#{spec['fill']}"
            props["pattern"] = 1
        if "num_format" in spec:
            props["num_format"] = spec["num_format"]
        # A date needs a date format even when its style is about colour, and text styles ("@")
        # must not turn a real date into a serial number on screen.
        if kind is not None and (props.get("num_format") in (None, "@") or kind == "time"):
            props["num_format"] = _DEFAULT_FORMATS[kind]
        if kind is None and not props:
            return None
        return self.book.add_format(props)


def _kind(value: object) -> str | None:
    if isinstance(value, datetime):
        has_time = value.hour or value.minute or value.second or value.microsecond
        return "datetime" if has_time else "date"
    if isinstance(value, date):
        return "date"
    if isinstance(value, time):
        return "time"
    return None


def _write_cell(ws: Worksheet, formats: _Formats, row: int, col: int, value: object, style: str | None) -> None:
    """One cell by type; strings via write_string so nothing is ever parsed as a formula.

    `style` is the column's; a StyledCell's own style wins. Blanks are written only for an own style
    (the column format already covers empty cells).
    """
    if isinstance(value, StyledCell):
        if value.value is None or value.value == "":
            fmt = formats.get(value.style)
            if fmt is not None:
                ws.write_blank(row, col, None, fmt)
            return
        value, style = value.value, value.style or style
    if value is None or value == "":
        return
    if isinstance(value, str):
        ws.write_string(row, col, value[:MAX_TEXT], formats.get(style))
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, formats.get(style))
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            ws.write_string(row, col, str(value), formats.get(style))
        else:
            ws.write_number(row, col, value, formats.get(style))
    elif isinstance(value, date | time):  # datetime is a date
        ws.write_datetime(row, col, value, formats.get(style, _kind(value)))
    else:
        ws.write_string(row, col, str(value)[:MAX_TEXT], formats.get(style))


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


class _Lists:
    """A hidden tab for dropdown lists Excel cannot take inline; created on first need."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.sheet: Worksheet | None = None
        self.next_col = 0

    def range_for(self, options: list[str]) -> str:
        if self.sheet is None:
            self.sheet = self.book.add_worksheet(LISTS_TAB)
            self.sheet.hide()
        col = self.next_col
        self.next_col += 1
        for r, option in enumerate(options):
            self.sheet.write_string(r, col, option)
        letter = xlsxwriter.utility.xl_col_to_name(col)
        return f"={_quote(LISTS_TAB)}!${letter}$1:${letter}${len(options)}"


def _inline_ok(options: list[str]) -> bool:
    return len(",".join(options)) <= _LIST_LIMIT and not any("," in o or '"' in o for o in options)


def _add_validation(ws: Worksheet, lists: _Lists, spec: Validation) -> None:
    if spec.source_range:
        source: str | list[str] = spec.source_range if spec.source_range.startswith("=") else "=" + spec.source_range
    elif not spec.options:
        return
    elif _inline_ok(spec.options):
        source = list(spec.options)
    else:
        source = lists.range_for(spec.options)
    ws.data_validation(spec.first_row, spec.col, max(spec.first_row, spec.last_row), spec.col, {
        "validate": "list",
        "source": source,
        "ignore_blank": True,
        "error_type": "warning",
        **_VALIDATION_TEXT,
    })


def _add_chart(book: xlsxwriter.Workbook, ws: Worksheet, sheet: str, spec: ChartSpec) -> None:
    if spec.data_rows <= 0 or not spec.value_cols:
        return
    chart = book.add_chart({"type": spec.kind})
    first, last = spec.header_row + 1, spec.header_row + spec.data_rows
    for col in spec.value_cols:
        chart.add_series({
            "name": [sheet, spec.header_row, col],
            "categories": [sheet, first, spec.category_col, last, spec.category_col],
            "values": [sheet, first, col, last, col],
        })
    chart.set_title({"name": spec.title})
    chart.set_legend({"position": "bottom" if len(spec.value_cols) > 1 else "none"})
    ws.insert_chart(spec.anchor_row, spec.anchor_col, chart)


# --- streaming rows (constant_memory) ------------------------------------------------------------
#
# XlsxWriter spends ~8 µs per cell on its public API; a 500k-row benchmark workbook would take most of
# a minute. In constant_memory mode XlsxWriter itself streams each finished row as XML into a temp
# file (`Worksheet.fh`) and copies it into <sheetData> on close, so we can hand it whole rows of the
# same XML (inline strings, XlsxWriter's escaping) at ~1 µs per cell. This leans on three long-stable
# internals (fh, _check_dimensions, previous_row, Format._get_xf_index); when they are missing we fall
# back to the public API, and tests compare both paths cell by cell.

_EPOCH = date(1899, 12, 30).toordinal()
_CONTROL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_NEEDS_WORK = re.compile(r"[&<>\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_|\ufffe|\uffff")


def _serial(value: date | time) -> float:
    """Excel 1900-system serial number, as XlsxWriter computes it (incl. its leap-year-1900 quirk)."""
    if isinstance(value, time):
        return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    days: float = value.toordinal() - _EPOCH
    if isinstance(value, datetime):
        days += (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    if days < 61:  # Excel believes 1900-02-29 existed
        days -= 1
    return days


def _xml_text(text: str) -> str:
    if _NEEDS_WORK.search(text):
        text = _CONTROL_ESCAPE.sub(r"_x005F\1", text)
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text[:1].isspace() or text[-1:].isspace():
        return f'<t xml:space="preserve">{text}</t>'
    return f"<t>{text}</t>"


def _can_stream(ws: Worksheet) -> bool:
    return (
        bool(getattr(ws, "constant_memory", False))
        and hasattr(ws, "fh")
        and callable(getattr(ws, "_check_dimensions", None))
        and getattr(ws, "previous_row", None) == 0
        and callable(getattr(Format, "_get_xf_index", None))
    )


def _cell_tail(value: object, style: str | None, attr: Callable[[str | None, str | None], str]) -> str | None:
    """Everything of a <c> element after its r="…" reference, or None for an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return f'{attr(style, None)} t="inlineStr"><is>{_xml_text(value[:MAX_TEXT])}</is></c>'
    if isinstance(value, bool):
        return f'{attr(style, None)} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float) and math.isfinite(value):
        return f"{attr(style, None)}><v>{value:.16G}</v></c>"
    if isinstance(value, date | time):
        if getattr(value, "tzinfo", None) is not None:
            value = value.replace(tzinfo=None)
        return f"{attr(style, _kind(value))}><v>{_serial(value):.16G}</v></c>"
    return f'{attr(style, None)} t="inlineStr"><is>{_xml_text(str(value)[:MAX_TEXT])}</is></c>'


def _stream_rows(ws: Worksheet, formats: _Formats, tab: TabSpec) -> None:
    """All of tab.rows as XML into XlsxWriter's constant_memory row buffer (see the note above)."""
    width = max((len(r) for r in tab.rows), default=0)
    letters = [xlsxwriter.utility.xl_col_to_name(c) for c in range(width)]
    xf: dict[tuple[str | None, str | None], str] = {}

    def attr(style: str | None, kind: str | None) -> str:
        key = (style, kind)
        if key not in xf:
            fmt = formats.get(style, kind)
            xf[key] = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
        return xf[key]

    # Demo and KPI data repeat a lot (labels, names, cached date cells): render each value once.
    tails: dict[tuple[type, object, str | None], str | None] = {}  # (type, value, column style) -> tail
    chunk: list[str] = []
    first = last = None
    min_col, max_col = width, -1
    col_styles = [tab.column_styles.get(c) for c in range(width)]
    for r, cells in enumerate(tab.rows):
        if not cells:
            continue
        n = r + 1
        out = [f'<row r="{n}">']
        low = high = -1
        for c, value in enumerate(cells):
            cls = type(value)
            if cls is StyledCell:
                key = (type(value.value), value, col_styles[c])  # type: 1 == True in a dict
                tail = tails.get(key, "")
                if tail == "":
                    inner, own = value.value, value.style
                    if inner is None or inner == "":
                        tail = f"{a}/>" if (a := attr(own, None)) else None
                    else:
                        tail = _cell_tail(inner, own or col_styles[c], attr)
                    if len(tails) < 500_000:
                        tails[key] = tail
            elif value is None:
                continue
            else:
                key = (cls, value, col_styles[c])
                tail = tails.get(key, "")
                if tail == "":
                    tail = _cell_tail(value, col_styles[c], attr)
                    if len(tails) < 500_000:
                        tails[key] = tail
            if tail is None:
                continue
            out.append(f'<c r="{letters[c]}{n}"{tail}')
            if low < 0:
                low = c
            high = c
        if high < 0:
            continue
        out.append("</row>")
        chunk.append("".join(out))
        first = r if first is None else first
        last = r
        min_col, max_col = min(min_col, low), max(max_col, high)
        if len(chunk) >= 2000:
            ws.fh.write("".join(chunk))
            chunk.clear()
    ws.fh.write("".join(chunk))
    if first is not None and last is not None:
        ws._check_dimensions(first, min_col)
        ws._check_dimensions(last, max_col)
        ws.previous_row = last  # what XlsxWriter would have flushed up to


def render_tabs(book: xlsxwriter.Workbook, tabs: list[TabSpec], stream: bool = False) -> None:
    """Add tabs to an open XlsxWriter workbook (for callers that own the Workbook, e.g. the .xlsm build).

    stream=True needs a constant_memory workbook; it falls back to the public API otherwise.
    """
    formats = _Formats(book)
    lists = _Lists(book)
    for tab in tabs:
        ws = book.add_worksheet(tab.name)
        for col in sorted(set(tab.widths) | set(tab.column_styles)):
            style = tab.column_styles.get(col)
            ws.set_column(col, col, tab.widths.get(col), formats.get(style) if style else None)
        if tab.freeze_rows > 0:
            ws.freeze_panes(tab.freeze_rows, 0)
        for spec in tab.validations:
            _add_validation(ws, lists, spec)
        if stream and _can_stream(ws):
            _stream_rows(ws, formats, tab)
        else:
            col_styles = tab.column_styles
            for r, cells in enumerate(tab.rows):
                for c, value in enumerate(cells):
                    _write_cell(ws, formats, r, c, value, col_styles.get(c))
        for chart in tab.charts:
            _add_chart(book, ws, tab.name, chart)


def write_new_workbook(path: Path, tabs: list[TabSpec], *, constant_memory: bool = False,
                       properties: Mapping[str, object] | None = None) -> None:
    """Create `path` from tabs; never overwrites (FileExistsError) — existing files go through xlsx_package.

    constant_memory streams rows to disk (for very large demo/benchmark workbooks); tabs must then
    be written top to bottom, which TabSpecs always are. properties go to XlsxWriter's
    set_properties; pass a fixed `created` for reproducible files.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"{path.name}: a new workbook must be an .xlsx file (macro workbooks come from the .xlsm template)")
    if path.exists():
        raise FileExistsError(
            f"{path} already exists; refusing to overwrite it. Choose another file name, or run the add-on "
            "on it to update it in place (existing workbooks are updated without touching your data)."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not mkstemp: XlsxWriter creates the file itself, so it gets the usual permissions (umask), not 0600.
    temp = path.with_name(f".{path.stem}.{secrets.token_hex(6)}.xlsx.tmp")
    try:
        book = xlsxwriter.Workbook(str(temp), {
            "constant_memory": constant_memory,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "remove_timezone": True,
        })
        if properties:
            book.set_properties(dict(properties))
        try:
            render_tabs(book, tabs, stream=constant_memory)
        except BaseException:
            with contextlib.suppress(Exception):
                book.close()  # releases constant_memory temp files; the half-made file is deleted below
            raise
        book.close()
        _publish(temp, path)
    finally:
        temp.unlink(missing_ok=True)


_render = render_tabs  # the name sheet_templates/build_xlsm.py imports


def _publish(temp: Path, path: Path) -> None:
    """Move the finished file into place atomically, failing if someone created `path` meanwhile."""
    try:
        os.link(temp, path)  # atomic and never replaces an existing file
    except FileExistsError:
        raise FileExistsError(f"{path} appeared while it was being written; refusing to overwrite it") from None
    except OSError:  # filesystems without hard links
        if path.exists():
            raise FileExistsError(f"{path} already exists; refusing to overwrite it") from None
        os.rename(temp, path)
