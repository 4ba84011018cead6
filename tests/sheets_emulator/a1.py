"""A1 notation as the Sheets API reads and writes it.

Parsing accepts every form Google accepts for a range parameter (quoted titles with doubled
quotes, unicode titles, open ranges such as ``A:A``, ``A2:C``, ``2:5``, whole sheets, single
cells, named ranges); formatting reproduces how Google echoes ranges back (``Sheet1!A1:D2``,
``'My Sheet'!A1``), because clients compare those strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CELL = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d*)$")
_SIMPLE_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOKS_LIKE_CELL = re.compile(r"^([A-Za-z]{1,3}\d+|[Rr]\d+[Cc]\d+|[Rr]\d*|[Cc]\d*|true|false)$", re.IGNORECASE)


class RangeError(ValueError):
    """A range string that Google would answer with 'Unable to parse range'."""


def col_to_index(letters: str) -> int:
    """'A' -> 0, 'Z' -> 25, 'AA' -> 26."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def index_to_col(index: int) -> str:
    """0 -> 'A', 26 -> 'AA'."""
    out = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def quote_title(title: str) -> str:
    """Quote a sheet title the way Google does in the ranges it returns."""
    if _SIMPLE_TITLE.match(title) and not _LOOKS_LIKE_CELL.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class A1:
    """A parsed range: sheet title (None = first sheet) and 0-based half-open bounds (None = open)."""

    title: str | None
    start_row: int | None = None
    end_row: int | None = None
    start_col: int | None = None
    end_col: int | None = None
    name: str | None = None  # set when the cell part is not A1 (maybe a named range)


def split_sheet(text: str) -> tuple[str | None, str]:
    """Split ``'It''s'!A1`` into (title, cell part); a bare string is returned as (None, text)."""
    if text.startswith("'"):
        i = 1
        buf = []
        while i < len(text):
            ch = text[i]
            if ch == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    buf.append("'")
                    i += 2
                    continue
                rest = text[i + 1 :]
                if rest == "":
                    return "".join(buf), ""
                if rest.startswith("!"):
                    return "".join(buf), rest[1:]
                raise RangeError(text)
            buf.append(ch)
            i += 1
        raise RangeError(text)
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, cells
    return None, text


def _cell(part: str) -> tuple[int | None, int | None]:
    m = _CELL.match(part)
    if not m or (not m.group(1) and not m.group(2)):
        raise RangeError(part)
    col = col_to_index(m.group(1)) if m.group(1) else None
    row = int(m.group(2)) - 1 if m.group(2) else None
    if row is not None and row < 0:
        raise RangeError(part)
    return row, col


def parse_cells(part: str) -> tuple[int | None, int | None, int | None, int | None]:
    """Cell part -> (start_row, end_row, start_col, end_col), 0-based half-open, None = open."""
    if ":" in part:
        a, _, b = part.partition(":")
        r1, c1 = _cell(a)
        r2, c2 = _cell(b)
        # "A:B" / "1:2" forms must be consistent on both sides; "A1:B" and "A:B2" are allowed.
        if (r1 is None and c1 is None) or (r2 is None and c2 is None):
            raise RangeError(part)
        if c1 is None and c2 is not None and r2 is None:
            raise RangeError(part)
        if r1 is None and r2 is not None and c2 is None:
            raise RangeError(part)
        # Google normalises reversed corners (D4:A1 -> A1:D4).
        if r1 is not None and r2 is not None and r2 < r1:
            r1, r2 = r2, r1
        if c1 is not None and c2 is not None and c2 < c1:
            c1, c2 = c2, c1
        sr = r1 if r1 is not None else (0 if r2 is not None else None)
        sc = c1 if c1 is not None else (0 if c2 is not None else None)
        if r1 is None and r2 is None:
            sr = None
        if c1 is None and c2 is None:
            sc = None
        return sr, (r2 + 1 if r2 is not None else None), sc, (c2 + 1 if c2 is not None else None)
    r, c = _cell(part)
    if r is None or c is None:
        raise RangeError(part)
    return r, r + 1, c, c + 1


def parse(text: str) -> A1:
    """Parse a range parameter. The cell part may also be a named range (``name`` is then set)."""
    if text == "":
        raise RangeError(text)
    title, cells = split_sheet(text)
    if cells == "":
        if title is None:
            raise RangeError(text)
        return A1(title)
    try:
        sr, er, sc, ec = parse_cells(cells)
    except RangeError:
        if title is None:
            # A bare word: a sheet title or a named range, resolved by the caller.
            return A1(None, name=cells)
        return A1(title, name=cells)
    return A1(title, sr, er, sc, ec)


def format_range(title: str, sr: int, er: int, sc: int, ec: int) -> str:
    """Closed bounds to Google's echo form: single cell 'A1', else 'A1:D4'."""
    start = f"{index_to_col(sc)}{sr + 1}"
    end = f"{index_to_col(ec - 1)}{er}"
    cells = start if (er - sr == 1 and ec - sc == 1) else f"{start}:{end}"
    return f"{quote_title(title)}!{cells}"
