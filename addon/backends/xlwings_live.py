"""The live-Excel backend: the open workbook, read and written through xlwings while Excel has it open.

Excel itself saves the file, so nothing of the workbook can be lost the way a file writer could
lose it; the care here is about speed and about what Excel does to the values it is handed:

- Reads are one 2-D block per tab (`range(...).options(ndim=2).value`), from A1 to the end of the
  used range, so row and column numbers match what the user sees.
- Writes are whole blocks: the owned columns as one array per run of adjacent columns, each owned
  tab cleared and written as one array. Formats go on afterwards, one call per distinct look,
  over a multi-area address ("E2:E9,E12,F3") where the engine accepts one (Windows COM), else per
  rectangle. Screen updating, events and alerts are off and calculation is manual while writing;
  the previous settings are restored even when the write fails.
- xlwings passes strings through unchanged and Excel parses them as if typed: "=…", "+86 …", "-…"
  and "@…" would become formulas, "00123" the number 123, "2025-01-02" a date, "TRUE" a boolean.
  Every string is therefore written with a leading apostrophe (Excel's text prefix, which is not
  part of the value and is not displayed), into cells whose formats were cleared first.
"""

from __future__ import annotations

import logging
import math
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from addon.backends.base import STYLES, SourceUnavailable
from addon.model import Cell, ChartSpec, ColumnsPatch, OutCell, StyledCell, Table, TabSpec, WriteSet

log = logging.getLogger(__name__)

MAX_TEXT = 32_767  # Excel's limit for one cell
MAX_ADDRESS = 250  # Range("...") takes at most 255 characters
_DATE_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "time": "hh:mm"}
_CHART_TYPES = {"bar": "bar_clustered", "column": "column_clustered", "line": "line"}
_CHART_SIZE = (480.0, 260.0)  # points

Progress = Callable[[str], None]
Area = tuple[int, int, int, int]  # first row, first col, last row, last col (1-based, inclusive)


def _quiet_progress(_: str) -> None:
    return None


def col_letter(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def area_address(area: Area) -> str:
    r1, c1, r2, c2 = area
    first = f"{col_letter(c1)}{r1}"
    return first if (r1, c1) == (r2, c2) else f"{first}:{col_letter(c2)}{r2}"


def rectangles(cells: Iterable[tuple[int, int]]) -> list[Area]:
    """Cover a set of (row, col) cells with few rectangles: runs along rows, then stacked down."""
    by_row: dict[int, list[int]] = defaultdict(list)
    for r, c in cells:
        by_row[r].append(c)
    open_: dict[tuple[int, int], list[int]] = {}  # (c1, c2) -> [r1, r2]
    done: list[Area] = []
    for r in sorted(by_row):
        cols = sorted(set(by_row[r]))
        segments: list[tuple[int, int]] = []
        start = prev = cols[0]
        for c in cols[1:]:
            if c != prev + 1:
                segments.append((start, prev))
                start = c
            prev = c
        segments.append((start, prev))
        still: dict[tuple[int, int], list[int]] = {}
        for seg in segments:
            box = open_.pop(seg, None)
            if box is not None and box[1] == r - 1:
                box[1] = r
                still[seg] = box
            else:
                if box is not None:
                    done.append((box[0], seg[0], box[1], seg[1]))
                still[seg] = [r, r]
        done += [(b[0], s[0], b[1], s[1]) for s, b in open_.items()]
        open_ = still
    done += [(b[0], s[0], b[1], s[1]) for s, b in open_.items()]
    return sorted(done)


def addresses(areas: list[Area], multi_area: bool) -> Iterator[str]:
    """Range addresses covering the areas: comma-joined up to Excel's length limit, or one per area."""
    if not multi_area:
        yield from (area_address(a) for a in areas)
        return
    chunk: list[str] = []
    length = 0
    for area in areas:
        text = area_address(area)
        if chunk and length + len(text) + 1 > MAX_ADDRESS:
            yield ",".join(chunk)
            chunk, length = [], 0
        chunk.append(text)
        length += len(text) + 1
    if chunk:
        yield ",".join(chunk)


def excel_value(value: Any) -> Any:
    """A cell value as it must be handed to Excel so that Excel stores exactly it."""
    if value is None:
        return None
    if isinstance(value, str):
        if value == "":
            return None
        return "'" + value[:MAX_TEXT]
    if isinstance(value, bool | int | datetime | date | time):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else "'" + str(value)
    return "'" + str(value)[:MAX_TEXT]


def _kind(value: object) -> str | None:
    if isinstance(value, datetime):
        return "datetime" if (value.hour or value.minute or value.second or value.microsecond) else "date"
    if isinstance(value, date):
        return "date"
    if isinstance(value, time):
        return "time"
    return None


@dataclass(frozen=True)
class Look:
    """Everything formatting one cell needs; cells with equal looks are formatted in one call."""

    fill: str | None = None
    font: str | None = None
    bold: bool = False
    italic: bool = False
    size: float | None = None
    num_format: str | None = None

    def is_plain(self) -> bool:
        return self == Look()


def look_of(style: str | None, value: object) -> Look:
    spec = STYLES.get(style or "", {})
    num_format = spec.get("num_format")
    kind = _kind(value)
    if kind is not None and (num_format in (None, "@") or kind == "time"):
        num_format = _DATE_FORMATS[kind]  # a date always looks like a date, whatever its colour style
    return Look(
        fill=f"#{spec['fill']}" if "fill" in spec else None,
        font=f"#{spec['font']}" if "font" in spec else None,
        bold=bool(spec.get("bold")),
        italic=bool(spec.get("italic")),
        size=float(spec["size"]) if "size" in spec else None,  # type: ignore[arg-type]
        num_format=str(num_format) if num_format else None,
    )


def _unwrap(cell: OutCell) -> tuple[Cell, str | None]:
    if isinstance(cell, StyledCell):
        return cell.value, cell.style
    return cell, None


@dataclass
class Block:
    """One rectangle of values to write in a single call, and the looks of its cells."""

    sheet: str
    top: int
    left: int
    values: list[list[Any]]
    looks: dict[Look, list[tuple[int, int]]]

    @property
    def area(self) -> Area:
        return (self.top, self.left, self.top + len(self.values) - 1, self.left + len(self.values[0]) - 1)


def _block(sheet: str, top: int, left: int, rows: list[list[OutCell]], width: int) -> Block:
    values: list[list[Any]] = []
    looks: dict[Look, list[tuple[int, int]]] = defaultdict(list)
    for i, row in enumerate(rows):
        out: list[Any] = []
        for j in range(width):
            value, style = _unwrap(row[j]) if j < len(row) else (None, None)
            out.append(excel_value(value))
            look = look_of(style, value)
            if not look.is_plain():
                looks[look].append((top + i, left + j))
        values.append(out)
    return Block(sheet, top, left, values, dict(looks))


def runs(columns: list[int]) -> list[list[int]]:
    """Indexes into `columns` grouped into runs of adjacent sheet columns."""
    order = sorted(range(len(columns)), key=lambda i: columns[i])
    groups: list[list[int]] = []
    for i in order:
        if groups and columns[i] == columns[groups[-1][-1]] + 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


class XlwingsBackend:
    """A workbook open in Excel (an `xw.Book`), usually `xw.Book.caller()` from a button."""

    def __init__(self, book: Any, *, progress: Progress | None = None) -> None:
        self.book = book
        self.progress = progress or _quiet_progress
        try:
            self.location = str(book.fullname)
        except Exception:  # an unsaved book or an unmapped cloud URL: the name still tells the user which
            self.location = str(book.name)
        self.multi_area = self._engine_name() != "excel" or sys.platform.startswith("win")

    def _engine_name(self) -> str:
        try:
            return str(self.book.app.engine.name)
        except Exception:
            return "excel"

    # --- reading ---------------------------------------------------------------------------

    def sheet_names(self) -> list[str]:
        try:
            return [sheet.name for sheet in self.book.sheets]
        except Exception as error:
            raise SourceUnavailable(f"cannot list the tabs of {self.location}: {error}") from None

    def read(self, names: list[str]) -> dict[str, Table]:
        tables: dict[str, Table] = {}
        for name in names:
            try:
                sheet = self.book.sheets[name]
                used = sheet.used_range
                last_row = used.row + used.shape[0] - 1
                last_col = used.column + used.shape[1] - 1
                values = sheet.range((1, 1), (last_row, last_col)).options(ndim=2, err_to_str=True).value
            except Exception as error:
                raise SourceUnavailable(f"cannot read tab {name!r} of {self.location}: {error}") from None
            rows = [list(row) for row in values]
            while rows and all(v is None or v == "" for v in rows[-1]):
                rows.pop()  # an empty sheet's used range is A1
            tables[name] = Table(name=name, rows=rows, first_row=1)
        return tables

    # --- writing ---------------------------------------------------------------------------

    def write(self, writes: WriteSet) -> None:
        """Owned columns, then owned tabs, then stale tabs; everything is prepared before Excel is touched."""
        self._check(writes)
        existing = {name.casefold(): name for name in self.sheet_names()}
        app = self.book.app
        with app_quiet(app):
            active = self._active_sheet()
            if writes.columns is not None:
                self.progress(writes.columns.tab)
                self._write_columns(writes.columns)
            for tab in writes.tabs:
                self.progress(tab.name)
                self._write_tab(tab, existing.get(tab.name.casefold()))
            for name in writes.stale_tabs:
                actual = existing.get(name.casefold())
                if actual is not None and name.casefold() not in {t.name.casefold() for t in writes.tabs}:
                    self.book.sheets[actual].delete()
            if active is not None:
                try:
                    active.activate()
                except Exception:
                    log.debug("could not re-activate %s", active)

    def _active_sheet(self) -> Any:
        try:
            return self.book.sheets.active
        except Exception:
            return None

    def _check(self, writes: WriteSet) -> None:
        """Refuse a malformed WriteSet before the first cell changes (the 'nothing' of all or nothing)."""
        patch = writes.columns
        if patch is not None:
            if patch.tab.casefold() not in {n.casefold() for n in self.sheet_names()}:
                raise SourceUnavailable(f"tab {patch.tab!r} is no longer in {self.location}")
            if len(patch.headers) != len(patch.columns) or len(set(patch.columns)) != len(patch.columns):
                raise ValueError(f"owned columns {patch.columns} do not match headers {patch.headers}")
            if patch.header_row < 1 or any(r <= patch.header_row for r in patch.cells):
                raise ValueError(f"owned column rows must be below the header row {patch.header_row}")
            if any(len(cells) != len(patch.columns) for cells in patch.cells.values()):
                raise ValueError("every owned-column row needs one value per owned column")
        names = [t.name.casefold() for t in writes.tabs]
        if len(set(names)) != len(names):
            raise ValueError(f"owned tabs repeat: {[t.name for t in writes.tabs]}")

    def _write_columns(self, patch: ColumnsPatch) -> None:
        sheet = self.book.sheets[patch.tab]
        used = sheet.used_range
        last = max([used.row + used.shape[0] - 1, patch.header_row, *patch.cells])
        for group in runs(patch.columns):
            left = patch.columns[group[0]]
            width = len(group)
            rows: list[list[OutCell]] = [[patch.headers[i] for i in group]]
            for r in range(patch.header_row + 1, last + 1):
                cells = patch.cells.get(r)
                rows.append([cells[i] for i in group] if cells is not None else [None] * width)
            block = _block(sheet.name, patch.header_row, left, rows, width)
            header_look = self._header_look(sheet, patch.header_row, left)
            if last > patch.header_row:
                sheet.range((patch.header_row + 1, left), (last, left + width - 1)).clear_formats()
            sheet.range((patch.header_row, left), (last, left + width - 1)).value = block.values
            if header_look is not None and not header_look.is_plain():
                block.looks.setdefault(header_look, []).extend((patch.header_row, left + j) for j in range(width))
            self._apply_looks(sheet, block.looks)
            for j, i in enumerate(group):
                if i < len(patch.widths) and patch.widths[i]:
                    sheet.range((1, left + j)).column_width = patch.widths[i]

    def _header_look(self, sheet: Any, row: int, first_owned: int) -> Look | None:
        """The look of the user's header cell left of our columns, so ours match it."""
        if first_owned <= 1:
            return None
        try:
            cell = sheet.range((row, first_owned - 1))
            fill, font, bold = cell.color, cell.font.color, cell.font.bold
        except Exception:
            return None

        def hex_of(rgb: Any) -> str | None:
            if not rgb or not isinstance(rgb, tuple | list):
                return None
            return "#" + "".join(f"{int(v):02X}" for v in rgb[:3])

        font_hex = hex_of(font)
        return Look(fill=hex_of(fill), font=None if font_hex == "#000000" else font_hex, bold=bool(bold))

    def _write_tab(self, tab: TabSpec, actual: str | None) -> None:
        if actual is not None:
            sheet = self.book.sheets[actual]
            sheet.clear()
            for chart in list(sheet.charts):
                chart.delete()
            if actual != tab.name:
                sheet.name = tab.name
        else:
            last = self.book.sheets[len(self.book.sheets) - 1]
            sheet = self.book.sheets.add(name=tab.name, after=last)
        width = max((len(r) for r in tab.rows), default=0)
        if tab.rows and width:
            block = _block(tab.name, 1, 1, tab.rows, width)
            sheet.range((1, 1), block.area[2:]).value = block.values
            self._apply_looks(sheet, block.looks)
        for col, chars in sorted(tab.widths.items()):
            sheet.range((1, col + 1)).column_width = chars
        for spec in tab.charts:
            self._add_chart(sheet, spec)

    def _apply_looks(self, sheet: Any, looks: dict[Look, list[tuple[int, int]]]) -> None:
        for look, cells in looks.items():
            for address in addresses(rectangles(cells), self.multi_area):
                rng = sheet.range(address)
                if look.num_format:
                    rng.number_format = look.num_format
                if look.fill:
                    rng.color = look.fill
                if look.font:
                    rng.font.color = look.font
                if look.bold:
                    rng.font.bold = True
                if look.italic:
                    rng.font.italic = True
                if look.size:
                    rng.font.size = look.size

    def _add_chart(self, sheet: Any, spec: ChartSpec) -> None:
        """A native chart when its data is one contiguous block (category column, then the series)."""
        if spec.data_rows <= 0 or not spec.value_cols:
            return
        cols = [spec.category_col, *spec.value_cols]
        if cols != list(range(spec.category_col, spec.category_col + len(cols))):
            log.info("chart %r skipped: its columns are not adjacent", spec.title)
            return
        source = sheet.range((spec.header_row + 1, spec.category_col + 1),
                             (spec.header_row + 1 + spec.data_rows, spec.category_col + len(cols)))
        try:
            chart = sheet.charts.add(
                width=_CHART_SIZE[0], height=_CHART_SIZE[1], chart_type=_CHART_TYPES.get(spec.kind, "column_clustered"),
                source=source, anchor=sheet.range((spec.anchor_row + 1, spec.anchor_col + 1)),
            )
            chart.title = spec.title
        except (NotImplementedError, AttributeError) as error:  # an engine without charts: the table still tells it
            log.info("chart %r not added: %s", spec.title, error)


@contextmanager
def app_quiet(app: Any) -> Iterator[None]:
    """Screen updating, events and alerts off, calculation manual; restored afterwards, whatever happens."""
    saved: list[tuple[str, Any]] = []
    for attr, value in (("screen_updating", False), ("enable_events", False), ("display_alerts", False),
                        ("calculation", "manual")):
        try:
            before = getattr(app, attr)
            setattr(app, attr, value)
            saved.append((attr, before))
        except Exception as error:  # e.g. a property an engine lacks on this platform
            log.debug("cannot set %s: %s", attr, error)
    try:
        yield
    finally:
        for attr, before in reversed(saved):
            try:
                setattr(app, attr, before)
            except Exception as error:
                log.warning("cannot restore %s: %s", attr, error)
