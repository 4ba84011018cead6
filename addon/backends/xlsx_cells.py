"""Owned values as <c> elements, fast: a 50 000-row run renders 300 000 cells, so this is the hot loop.

Strings are always inline strings (never formulas, even when they begin with '=', '+', '-'
or '@'; sharedStrings.xml stays untouched), numbers are numbers, dates are serial numbers in
the workbook's date system with a date format. Repeated values (statuses, rule texts) are
rendered once and reused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, datetime, time

from addon.backends.xlsx_styles import StyleBook
from addon.backends.xlsx_xml import col_letters, escape_text, excel_serial, number_text
from addon.model import OutCell, StyledCell

_NEEDS_ESCAPE = re.compile("[&<>_\x00-\x1f\ud800-\udfff\ufffe\uffff]")
_ORDINAL_1900 = date(1899, 12, 30).toordinal()
_ORDINAL_1904 = date(1904, 1, 1).toordinal()
_MARCH_1900 = date(1900, 3, 1)
_CACHE_LIMIT = 20_000
MAX_TEXT = 32_767  # Excel's limit for one cell; longer text makes Excel "repair" the file
_LETTERS = {c: col_letters(c) for c in range(1, 703)}


class CellRenderer:
    """Renders cells for one worksheet part (namespace prefix, date system, style book)."""

    def __init__(self, styles: StyleBook, date1904: bool, prefix: str = "") -> None:
        self.styles = styles
        self.date1904 = date1904
        self.prefix = prefix
        self._xf: dict[tuple[str | None, str], int] = {}
        self._tail: dict[tuple[object, ...], str] = {}
        p = prefix
        self._open = f"<{p}c r=\""
        self._v = (f"<{p}v>", f"</{p}v></{p}c>")
        self._is = (f"<{p}is><{p}t>", f"<{p}is><{p}t xml:space=\"preserve\">", f"</{p}t></{p}is></{p}c>")

    def xf(self, style: str | None, kind: str) -> int:
        key = (style, kind)
        found = self._xf.get(key)
        if found is None:
            found = self._xf[key] = self.styles.xf(style, kind)
        return found

    def _serial(self, value: date | datetime | time) -> float | int | None:
        if type(value) is date and value >= _MARCH_1900 and not self.date1904:
            return value.toordinal() - _ORDINAL_1900
        if type(value) is date and self.date1904 and value.year >= 1904:
            return value.toordinal() - _ORDINAL_1904
        return excel_serial(value, self.date1904)

    def tail(self, value: object, style: str | None, xf: int | None) -> str:
        """Everything of a cell after its reference: `" s=.. t=..>…</c>` ('' = no cell)."""
        key = (type(value), value, style, xf)
        try:
            cached = self._tail.get(key)
        except TypeError:
            cached, key = None, ()
        if cached is not None:
            return cached
        text = self._render_tail(value, style, xf)
        if key:
            if len(self._tail) > _CACHE_LIMIT:
                self._tail.clear()
            self._tail[key] = text
        return text

    def _render_tail(self, value: object, style: str | None, xf: int | None) -> str:
        kind = ""
        if isinstance(value, datetime):
            kind = "datetime"
        elif isinstance(value, date):
            kind = "date"
        elif isinstance(value, time):
            kind = "time"
        if xf is None or style is not None or kind:
            xf = self.xf(style, kind)
        s = f' s="{xf}"' if xf else ""
        if value is None or value == "":
            return f'"{s}/>' if s else ""
        if isinstance(value, bool):
            return f'"{s} t="b">{self._v[0]}{int(value)}{self._v[1]}'
        if isinstance(value, (int, float)) and not (isinstance(value, float) and not math.isfinite(value)):
            return f'"{s}>{self._v[0]}{number_text(value)}{self._v[1]}'
        if kind:
            serial = self._serial(value)  # type: ignore[arg-type]
            if serial is not None:
                return f'"{s}>{self._v[0]}{number_text(serial)}{self._v[1]}'
            value = value.isoformat()  # type: ignore[union-attr]
        text = str(value)[:MAX_TEXT]
        if _NEEDS_ESCAPE.search(text):
            text = escape_text(text)
        preserve = text[:1].isspace() or text[-1:].isspace() or "\n" in text
        return f'"{s} t="inlineStr">{self._is[1] if preserve else self._is[0]}{text}{self._is[2]}'

    def row(
        self, row: int, cols: Sequence[int], values: Sequence[OutCell], header_xf: int | None = None, col_styles: Sequence[str | None] | None = None
    ) -> tuple[str, int, int]:
        """Cells of one row, in the given (ascending) column order: (xml, first column, last column); '' when all empty.

        `col_styles` (aligned with cols) gives plain values a style, as a column format would.
        """
        parts = []
        first = last = 0
        suffix = str(row)
        opener = self._open
        cache = self._tail
        letters = _LETTERS
        for i, (col, cell) in enumerate(zip(cols, values, strict=True)):
            if type(cell) is StyledCell:
                style = cell.style if cell.style is not None or col_styles is None else col_styles[i]
                key: tuple[object, ...] = (type(cell.value), cell.value, style, None)
                tail = cache.get(key) if key[1].__hash__ is not None else None
                if tail is None:
                    tail = self.tail(cell.value, style, None)
            elif col_styles is not None and col_styles[i] is not None and cell is not None:
                tail = self.tail(cell, col_styles[i], None)
            else:
                key = (type(cell), cell, None, header_xf)
                tail = cache.get(key) if cell.__hash__ is not None else None
                if tail is None:
                    tail = self.tail(cell, None, header_xf)
            if tail:
                parts.append(opener + (letters.get(col) or col_letters(col)) + suffix + tail)
                if not first:
                    first = col
                last = col
        return "".join(parts), first, last


def render_value(value: OutCell, renderer: CellRenderer, ref: str) -> str:
    """One cell (used where speed does not matter)."""
    if isinstance(value, StyledCell):
        tail = renderer.tail(value.value, value.style, None)
    else:
        tail = renderer.tail(value, None, None)
    return f"{renderer._open}{ref}{tail}" if tail else ""


__all__ = ["CellRenderer", "col_letters", "render_value"]
