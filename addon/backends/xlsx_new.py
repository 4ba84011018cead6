"""Render TabSpecs into a brand-new .xlsx with XlsxWriter (templates, demo workbooks, `init`).

Only ever creates files: updating an existing workbook without loss is the job of
addon.backends.xlsx_package. Text is always written as text (a name like `=HYPERLINK(...)` or a
phone like `+86 138…` never becomes a formula or a number); dates are real dates.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
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
    """One cell by type; strings via write_string so nothing is ever parsed as a formula."""
    if isinstance(value, StyledCell):
        value, style = value.value, value.style or style
    if value is None or value == "":
        if style is not None:
            fmt = formats.get(style)
            if fmt is not None:
                ws.write_blank(row, col, None, fmt)
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


def _render(book: xlsxwriter.Workbook, tabs: list[TabSpec]) -> None:
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
        col_styles = tab.column_styles
        # Header rows keep their own look; column formats apply to data rows (below the freeze).
        for r, cells in enumerate(tab.rows):
            in_body = r >= tab.freeze_rows
            for c, value in enumerate(cells):
                style = col_styles.get(c) if in_body else None
                _write_cell(ws, formats, r, c, value, style)
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
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".xlsx.tmp", dir=path.parent)
    os.close(handle)
    temp = Path(temp_name)
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
            _render(book, tabs)
        finally:
            book.close()
        _publish(temp, path)
    finally:
        temp.unlink(missing_ok=True)


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
