"""An in-memory xlwings engine: the one test double of the project, standing in for Excel.

It implements xlwings' open-source engine interface (`xlwings.base_classes`, the same one
`_xlwindows.py` and `_xlmac.py` implement over COM and AppleScript) and is registered with
`xw.engines.add(...)`, so code under test goes through the real `xw.Book` / `Sheet` / `Range`
classes and xlwings' own conversion pipeline (`.value`, `.options(ndim=2)`, `.expand`,
`.resize`, `.clear_contents`, `app.status_bar`, `app.alert` ...), not through a mock.

What it imitates from Excel, because the live backend depends on it:
- `Range.Value = ...` parses text the way typed entry does: `=…` becomes a formula (here its
  value is #NAME?, nothing is evaluated), `+…`/`-…`/`@…` a formula unless it is a number,
  `00123` / `1,234` / `50%` / `TRUE` / `2025-01-02` turn into numbers, booleans and dates, a
  leading apostrophe keeps the rest as text, and a cell formatted as Text (`@`) keeps text as is;
- numbers come back as floats, dates as datetimes, empty cells as None, a single cell as a
  scalar and a block as a tuple of tuples (what COM returns);
- the used range is the bounding box of cells holding values or formats (need not start at A1);
- clearing cells leaves charts alone; deleting a sheet while `display_alerts` is on would block
  Excel on a prompt, so it raises; every bulk call is counted (`app.calls`) so tests can tell
  bulk writes from cell-by-cell loops.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

import xlwings as xw
from xlwings import base_classes

MAX_ROWS, MAX_COLS = 1_048_576, 16_384
DEFAULT_WIDTH = 8.43
ENGINE_NAME = "memory"


class MemoryExcelError(Exception):
    """What Excel would answer with a COM error (or a blocking prompt)."""


@dataclass(frozen=True)
class CellError:
    text: str  # e.g. "#NAME?"


NAME_ERROR = CellError("#NAME?")


@dataclass
class Cell:
    value: Any = None  # str | float | bool | datetime | CellError | None
    formula: str | None = None
    prefix: bool = False  # typed with a leading apostrophe
    number_format: str = "General"
    fill: tuple[int, int, int] | None = None
    bold: bool = False
    italic: bool = False
    font_color: tuple[int, int, int] | None = None
    size: float = 11.0

    def has_value(self) -> bool:
        return self.value is not None or self.formula is not None

    def formatted(self) -> bool:
        return (self.number_format, self.fill, self.bold, self.italic, self.font_color, self.size) != (
            "General", None, False, False, None, 11.0)


# --- addresses -----------------------------------------------------------------------------

def col_letter(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_number(letters: str) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


Area = tuple[int, int, int, int]  # first row, first col, last row, last col (1-based, inclusive)

_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_COLS = re.compile(r"^\$?([A-Za-z]{1,3}):\$?([A-Za-z]{1,3})$")
_ROWS = re.compile(r"^\$?(\d+):\$?(\d+)$")


def parse_area(text: str) -> Area:
    text = text.strip()
    if "!" in text:
        text = text.split("!", 1)[1]
    if m := _COLS.match(text):
        a, b = sorted((col_number(m.group(1)), col_number(m.group(2))))
        return (1, a, MAX_ROWS, b)
    if m := _ROWS.match(text):
        a, b = sorted((int(m.group(1)), int(m.group(2))))
        return (a, 1, b, MAX_COLS)
    parts = text.split(":")
    if len(parts) not in (1, 2):
        raise MemoryExcelError(f"bad address {text!r}")
    corners = []
    for part in parts:
        m = _CELL.match(part)
        if not m:
            raise MemoryExcelError(f"bad address {text!r}")
        corners.append((int(m.group(2)), col_number(m.group(1))))
    (r1, c1), (r2, c2) = corners[0], corners[-1]
    return (min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))


def area_address(area: Area, row_absolute: bool = True, col_absolute: bool = True) -> str:
    r1, c1, r2, c2 = area
    rd = "$" if row_absolute else ""
    cd = "$" if col_absolute else ""
    first = f"{cd}{col_letter(c1)}{rd}{r1}"
    return first if (r1, c1) == (r2, c2) else f"{first}:{cd}{col_letter(c2)}{rd}{r2}"


def _rgb(value: Any) -> tuple[int, int, int] | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.lstrip("#")
        return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))
    if isinstance(value, int):  # Excel's BGR integer
        return (value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF)
    r, g, b = value
    return (int(r), int(g), int(b))


# --- what Excel makes of a value assigned through Range.Value ---------------------------------

_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?$")
_PERCENT = re.compile(r"^[+-]?\d+(\.\d+)?%$")
_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_DATE_FORMAT = "m/d/yyyy"


def _number_text(text: str) -> float | None:
    t = text.strip()
    if not t or not any(ch.isdigit() for ch in t):
        return None
    if _PERCENT.match(t):
        return float(t[:-1]) / 100
    if _NUMBER.match(t):
        return float(t.replace(",", ""))
    return None


def enter(cell: Cell, value: Any) -> None:
    """Store `value` in `cell` as Excel does for `Range.Value = value`."""
    cell.formula, cell.prefix = None, False
    if value is None or value == "":
        cell.value = None
        return
    if isinstance(value, bool):
        cell.value = value
        return
    if isinstance(value, int | float):
        cell.value = float(value)
        return
    if isinstance(value, datetime | date):
        cell.value = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        if cell.number_format == "General":
            cell.number_format = _DATE_FORMAT
        return
    if isinstance(value, time):
        cell.value = datetime(1899, 12, 30, value.hour, value.minute, value.second)
        if cell.number_format == "General":
            cell.number_format = "h:mm:ss"
        return
    text = str(value)
    if cell.number_format == "@":
        cell.value = text
        return
    if text.startswith("'"):
        cell.value, cell.prefix = text[1:], True
        return
    if text.startswith("=") and len(text) > 1:
        cell.formula, cell.value = text, NAME_ERROR
        return
    number = _number_text(text)
    if number is not None:
        cell.value = number
        if _PERCENT.match(text.strip()) and cell.number_format == "General":
            cell.number_format = "0%"
        return
    if text[0] in "+-@" and len(text) > 1:
        cell.formula, cell.value = "=" + text.lstrip("@"), NAME_ERROR
        return
    if text.strip().upper() in ("TRUE", "FALSE"):
        cell.value = text.strip().upper() == "TRUE"
        return
    if m := _DATE.match(text.strip()):
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        try:
            cell.value = datetime(y, mo, d, h, mi, s)
        except ValueError:
            cell.value = text
            return
        if cell.number_format == "General":
            cell.number_format = "yyyy-mm-dd h:mm" if (h or mi or s) else _DATE_FORMAT
        return
    cell.value = text


# --- engine ---------------------------------------------------------------------------------

class Engine:
    """The engine object xlwings keeps in `xw.engines` (see `_xlwindows.Engine`)."""

    def __init__(self) -> None:
        self._apps: list[App] = []
        self._pids = itertools.count(4242)

    @property
    def apps(self) -> Apps:
        return Apps(self)

    @property
    def name(self) -> str:
        return ENGINE_NAME

    @property
    def type(self) -> str:
        return "desktop"

    @staticmethod
    def prepare_xl_data_element(x: Any, options: Any) -> Any:
        return "" if x is None else x

    @staticmethod
    def clean_value_data(data: Any, datetime_builder: Any, empty_as: Any, number_builder: Any, err_to_str: bool) -> list[list[Any]]:
        def clean(value: Any) -> Any:
            if value is None or value == "":
                return empty_as
            if isinstance(value, CellError):
                return value.text if err_to_str else None
            if isinstance(value, datetime):
                return datetime_builder(year=value.year, month=value.month, day=value.day, hour=value.hour,
                                        minute=value.minute, second=value.second, microsecond=value.microsecond)
            if number_builder is not None and isinstance(value, float):
                return number_builder(value)
            return value

        return [[clean(v) for v in row] for row in data]

    # test helpers
    def new_app(self) -> App:
        app = App(self, next(self._pids))
        self._apps.insert(0, app)
        return app

    def reset(self) -> None:
        self._apps.clear()


class Apps(base_classes.Apps):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def keys(self) -> list[int]:
        return [a.pid for a in self.engine._apps]

    def add(self, spec: Any = None, add_book: Any = None, xl: Any = None, visible: Any = None) -> App:
        app = self.engine.new_app()
        if add_book is None or add_book:
            app.books.add()
        return app

    @staticmethod
    def cleanup() -> None:
        return None

    def __iter__(self):
        return iter(list(self.engine._apps))

    def __len__(self) -> int:
        return len(self.engine._apps)

    def __getitem__(self, pid: int) -> App:
        for app in self.engine._apps:
            if app.pid == pid:
                return app
        raise KeyError(pid)


class App(base_classes.App):
    def __init__(self, engine: Engine, pid: int) -> None:
        self._engine = engine
        self._pid = pid
        self._books: list[Book] = []
        self.active_book: Book | None = None
        self._screen_updating = True
        self._calculation = "automatic"
        self._enable_events = True
        self._display_alerts = True
        self._interactive = True
        self._status_bar: str | bool = False
        self.visible_ = True
        self.alerts: list[dict[str, Any]] = []  # every message box shown
        self.answers: list[str] = []  # buttons the "user" presses, in order
        self.status_history: list[str | bool] = []
        self.calls: Counter[str] = Counter()  # engine calls by kind: tells bulk from per-cell
        self.write_states: list[tuple[bool, str, bool]] = []  # (screen_updating, calculation, events) at each value write

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def api(self) -> App:
        return self

    @property
    def xl(self) -> App:
        return self

    @property
    def selection(self) -> None:
        return None

    def activate(self, steal_focus: bool = False) -> None:
        self._engine._apps.remove(self)
        self._engine._apps.insert(0, self)

    @property
    def visible(self) -> bool:
        return self.visible_

    @visible.setter
    def visible(self, visible: bool) -> None:
        self.visible_ = visible

    def quit(self) -> None:
        if self in self._engine._apps:
            self._engine._apps.remove(self)

    def kill(self) -> None:
        self.quit()

    @property
    def screen_updating(self) -> bool:
        return self._screen_updating

    @screen_updating.setter
    def screen_updating(self, value: bool) -> None:
        self._screen_updating = bool(value)

    @property
    def display_alerts(self) -> bool:
        return self._display_alerts

    @display_alerts.setter
    def display_alerts(self, value: bool) -> None:
        self._display_alerts = bool(value)

    @property
    def enable_events(self) -> bool:
        return self._enable_events

    @enable_events.setter
    def enable_events(self, value: bool) -> None:
        self._enable_events = bool(value)

    @property
    def interactive(self) -> bool:
        return self._interactive

    @interactive.setter
    def interactive(self, value: bool) -> None:
        self._interactive = bool(value)

    @property
    def startup_path(self) -> str:
        return ""

    @property
    def calculation(self) -> str:
        return self._calculation

    @calculation.setter
    def calculation(self, value: str) -> None:
        if value not in ("automatic", "manual", "semiautomatic"):
            raise MemoryExcelError(f"calculation mode {value!r}")
        self._calculation = value

    def calculate(self) -> None:
        return None

    @property
    def version(self) -> str:
        return "16.0"

    @property
    def books(self) -> Books:
        return Books(self)

    @property
    def hwnd(self) -> int:
        return self._pid

    @property
    def path(self) -> str:
        return ""

    @property
    def pid(self) -> int:
        return self._pid

    def run(self, macro: str, args: Any) -> Any:
        raise MemoryExcelError("no VBA in the memory engine")

    @property
    def status_bar(self) -> str | bool:
        return self._status_bar

    @status_bar.setter
    def status_bar(self, value: str | bool) -> None:
        self._status_bar = value
        self.status_history.append(value)

    @property
    def cut_copy_mode(self) -> None:
        return None

    @cut_copy_mode.setter
    def cut_copy_mode(self, value: Any) -> None:
        return None

    def alert(self, prompt: str, title: str | None, buttons: str | None, mode: str | None, callback: str | None) -> str:
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons or "ok", "mode": mode})
        if self.answers:
            return self.answers.pop(0)
        return {"ok": "ok", "ok_cancel": "ok", "yes_no": "yes", "yes_no_cancel": "yes"}[buttons or "ok"]

    # test helper
    def open_book(self, fullname: str, sheets: dict[str, list[list[Any]]] | None = None, *, typed: bool = False) -> xw.Book:
        """A workbook with the given tabs; returns the xw.Book.

        Strings are stored as text cells (as a saved .xlsx holds them), unless typed=True, which
        enters them as a user typing into General cells would (so "00123" becomes 123).
        """
        book = Book(self, fullname)
        self._books.append(book)
        self.active_book = book
        for name, rows in (sheets or {"Sheet1": []}).items():
            sheet = book.add_sheet(name)
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    if value is None or value == "":
                        continue
                    if isinstance(value, str) and not typed:
                        sheet.cell(r, c).value = value
                    else:
                        enter(sheet.cell(r, c), value)
        book.active_sheet = book.sheet_list[0]
        return xw.Book(impl=book)


class Books(base_classes.Books):
    def __init__(self, app: App) -> None:
        self.app = app

    @property
    def api(self) -> Books:
        return self

    @property
    def active(self) -> Book | None:
        return self.app.active_book

    def __call__(self, name_or_index: int | str) -> Book:
        if isinstance(name_or_index, int):
            return self.app._books[name_or_index - 1]
        for book in self.app._books:
            if book.name.lower() == str(name_or_index).lower():
                return book
        raise KeyError(name_or_index)

    def __len__(self) -> int:
        return len(self.app._books)

    def add(self) -> Book:
        book = Book(self.app, f"Book{len(self.app._books) + 1}")
        book.add_sheet("Sheet1")
        self.app._books.append(book)
        self.app.active_book = book
        return book

    def open(self, fullname: str, *args: Any, **kwargs: Any) -> Book:
        raise MemoryExcelError("the memory engine opens no files; use App.open_book")

    def __iter__(self):
        return iter(list(self.app._books))


class Book(base_classes.Book):
    def __init__(self, app: App, fullname: str) -> None:
        self._app = app
        self._fullname = fullname
        self.sheet_list: list[Sheet] = []
        self.active_sheet: Sheet | None = None
        self.saved = 0

    def add_sheet(self, name: str, index: int | None = None) -> Sheet:
        sheet = Sheet(self, name)
        if index is None:
            self.sheet_list.append(sheet)
        else:
            self.sheet_list.insert(index, sheet)
        return sheet

    @property
    def api(self) -> Book:
        return self

    def json(self) -> Any:
        raise NotImplementedError()

    @property
    def name(self) -> str:
        return re.split(r"[\\/]", self._fullname)[-1]

    @property
    def sheets(self) -> Sheets:
        return Sheets(self)

    @property
    def app(self) -> App:
        return self._app

    def close(self) -> None:
        self._app._books.remove(self)

    def save(self, path: str | None = None, password: str | None = None) -> None:
        self.saved += 1

    @property
    def fullname(self) -> str:
        return self._fullname

    @property
    def names(self) -> Names:
        return Names()

    def activate(self) -> None:
        self._app.active_book = self

    def to_pdf(self, path: str, quality: Any) -> None:
        raise NotImplementedError()


class Names:
    def __len__(self) -> int:
        return 0

    def __iter__(self):
        return iter(())

    def __contains__(self, name: str) -> bool:
        return False


class Sheets(base_classes.Sheets):
    def __init__(self, book: Book) -> None:
        self.book = book

    @property
    def api(self) -> Sheets:
        return self

    @property
    def active(self) -> Sheet | None:
        return self.book.active_sheet

    def __call__(self, name_or_index: int | str) -> Sheet:
        if isinstance(name_or_index, int):
            return self.book.sheet_list[name_or_index - 1]
        for sheet in self.book.sheet_list:
            if sheet.name.lower() == str(name_or_index).lower():
                return sheet
        raise KeyError(name_or_index)

    def __contains__(self, name: str) -> bool:
        return any(s.name.lower() == str(name).lower() for s in self.book.sheet_list)

    def __len__(self) -> int:
        return len(self.book.sheet_list)

    def __iter__(self):
        return iter(list(self.book.sheet_list))

    def add(self, before: Sheet | None = None, after: Sheet | None = None, name: str | None = None) -> Sheet:
        sheets = self.book.sheet_list
        if before is not None:
            index = sheets.index(before)
        elif after is not None:
            index = sheets.index(after) + 1
        else:
            index = sheets.index(self.book.active_sheet) if self.book.active_sheet in sheets else 0
        n = len(sheets) + 1
        while any(s.name.lower() == f"sheet{n}" for s in sheets):
            n += 1
        sheet = self.book.add_sheet(f"Sheet{n}", index)
        if name is not None:
            sheet.name = name
        self.book.active_sheet = sheet  # Excel activates a new sheet
        self.book.app.calls["sheet.add"] += 1
        return sheet


_BAD_NAME = re.compile(r"[\[\]:*?/\\]")


class Sheet(base_classes.Sheet):
    def __init__(self, book: Book, name: str) -> None:
        self._book = book
        self._name = name
        self.cells_: dict[tuple[int, int], Cell] = {}
        self.widths: dict[int, float] = {}
        self.chart_list: list[Chart] = []
        self.frozen: str | None = None
        self._visible = True
        self._chart_ids = itertools.count(1)
        self.unreadable = False  # True: reading it fails, as reading a chart sheet's cells does in Excel

    # storage helpers
    def cell(self, row: int, col: int) -> Cell:
        key = (row, col)
        if key not in self.cells_:
            self.cells_[key] = Cell()
        return self.cells_[key]

    def peek(self, row: int, col: int) -> Cell | None:
        return self.cells_.get((row, col))

    def tidy(self) -> None:
        for key in [k for k, c in self.cells_.items() if not c.has_value() and not c.formatted()]:
            del self.cells_[key]

    @property
    def api(self) -> Sheet:
        return self

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        if not value or len(value) > 31 or _BAD_NAME.search(value) or value.startswith("'") or value.endswith("'"):
            raise MemoryExcelError(f"invalid sheet name {value!r}")
        if any(s is not self and s.name.lower() == value.lower() for s in self._book.sheet_list):
            raise MemoryExcelError(f"a sheet named {value!r} exists already")
        self._name = value

    @property
    def names(self) -> Names:
        return Names()

    @property
    def freeze_panes(self) -> FreezePanes:
        return FreezePanes(self)

    @property
    def book(self) -> Book:
        return self._book

    @property
    def index(self) -> int:
        return self._book.sheet_list.index(self) + 1

    def range(self, arg1: Any, arg2: Any = None) -> Range:
        if isinstance(arg1, tuple) and len(arg1) == 4:
            row, col, nrows, ncols = arg1
            return Range(self, [(row, col, row + nrows - 1, col + ncols - 1)])
        if isinstance(arg1, int) and isinstance(arg2, int):
            return Range(self, [(arg1, arg2, arg1, arg2)])
        first = self._areas(arg1)
        if arg2 is None:
            return Range(self, first)
        second = self._areas(arg2)
        r1 = min(first[0][0], second[0][0])
        c1 = min(first[0][1], second[0][1])
        r2 = max(first[0][2], second[0][2])
        c2 = max(first[0][3], second[0][3])
        return Range(self, [(r1, c1, r2, c2)])

    def _areas(self, arg: Any) -> list[Area]:
        if isinstance(arg, Range):
            return list(arg.areas)
        if isinstance(arg, tuple):
            if 0 in arg:
                raise IndexError("Attempted to access 0-based Range. xlwings/Excel Ranges are 1-based.")
            return [(arg[0], arg[1], arg[0], arg[1])]
        if isinstance(arg, str):
            areas = [parse_area(part) for part in arg.split(",")]
            if len(arg) > 255:
                raise MemoryExcelError("a range address longer than 255 characters")
            return areas
        raise ValueError(f"invalid range argument {arg!r}")

    @property
    def cells(self) -> Range:
        return Range(self, [(1, 1, MAX_ROWS, MAX_COLS)])

    def activate(self) -> None:
        self._book.active_sheet = self

    def select(self) -> None:
        self._book.active_sheet = self

    def clear_contents(self) -> None:
        self.cells.clear_contents()

    def clear_formats(self) -> None:
        self.cells.clear_formats()

    def clear(self) -> None:
        self.cells.clear()

    def autofit(self, axis: Any = None) -> None:
        return None

    def delete(self) -> None:
        app = self._book.app
        if app.display_alerts:
            raise MemoryExcelError("deleting a sheet with display_alerts on shows a prompt that blocks Excel")
        if len([s for s in self._book.sheet_list if s._visible]) <= 1 and self._visible:
            raise MemoryExcelError("a workbook must keep at least one visible sheet")
        self._book.sheet_list.remove(self)
        if self._book.active_sheet is self:
            self._book.active_sheet = self._book.sheet_list[0]
        app.calls["sheet.delete"] += 1

    @property
    def charts(self) -> Charts:
        return Charts(self)

    @property
    def used_range(self) -> Range:
        if self.unreadable:
            raise MemoryExcelError(f"{self._name} has no cells (a chart sheet)")
        keys = [k for k, c in self.cells_.items() if c.has_value() or c.formatted()]
        if not keys:
            return Range(self, [(1, 1, 1, 1)])
        rows = [k[0] for k in keys]
        cols = [k[1] for k in keys]
        return Range(self, [(min(rows), min(cols), max(rows), max(cols))])

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._visible = bool(value)

    # test helpers
    def values(self) -> list[list[Any]]:
        """All values from A1 to the last used cell, None for blanks."""
        used = [k for k, c in self.cells_.items() if c.has_value()]
        if not used:
            return []
        last_r = max(k[0] for k in used)
        last_c = max(k[1] for k in used)
        return [[(self.cells_.get((r, c)) or Cell()).value for c in range(1, last_c + 1)] for r in range(1, last_r + 1)]


class Range(base_classes.Range):
    def __init__(self, sheet: Sheet, areas: list[Area]) -> None:
        for r1, c1, r2, c2 in areas:
            if r1 < 1 or c1 < 1 or r2 > MAX_ROWS or c2 > MAX_COLS:
                raise MemoryExcelError(f"range outside the sheet: {areas}")
        self._sheet = sheet
        self.areas = areas
        self.options: dict[str, Any] = {}

    @property
    def _app(self) -> App:
        return self._sheet.book.app

    def _cells(self, create: bool = False):
        """(row, col) of every existing (or, with create, every) cell in all areas."""
        for r1, c1, r2, c2 in self.areas:
            if create:
                for r in range(r1, r2 + 1):
                    for c in range(c1, c2 + 1):
                        yield r, c
            else:
                size = (r2 - r1 + 1) * (c2 - c1 + 1)
                if size > len(self._sheet.cells_):
                    for (r, c) in list(self._sheet.cells_):
                        if r1 <= r <= r2 and c1 <= c <= c2:
                            yield r, c
                else:
                    for r in range(r1, r2 + 1):
                        for c in range(c1, c2 + 1):
                            if (r, c) in self._sheet.cells_:
                                yield r, c

    @property
    def coords(self) -> tuple[Any, ...]:
        r1, c1, r2, c2 = self.areas[0]
        return (self._sheet, r1, c1, r2 - r1 + 1, c2 - c1 + 1)

    @property
    def api(self) -> Range:
        return self

    def __len__(self) -> int:
        return sum((r2 - r1 + 1) * (c2 - c1 + 1) for r1, c1, r2, c2 in self.areas)

    @property
    def sheet(self) -> Sheet:
        return self._sheet

    @property
    def row(self) -> int:
        return self.areas[0][0]

    @property
    def column(self) -> int:
        return self.areas[0][1]

    @property
    def shape(self) -> tuple[int, int]:
        r1, c1, r2, c2 = self.areas[0]
        return (r2 - r1 + 1, c2 - c1 + 1)

    @property
    def raw_value(self) -> Any:
        self._app.calls["read"] += 1
        r1, c1, r2, c2 = self.areas[0]
        cells = self._sheet.cells_

        def value(r: int, c: int) -> Any:
            cell = cells.get((r, c))
            return None if cell is None else cell.value

        if (r1, c1) == (r2, c2):
            return value(r1, c1)
        return tuple(tuple(value(r, c) for c in range(c1, c2 + 1)) for r in range(r1, r2 + 1))

    @raw_value.setter
    def raw_value(self, data: Any) -> None:
        app = self._app
        app.calls["write"] += 1
        app.write_states.append((app.screen_updating, app.calculation, app.enable_events))
        if isinstance(data, list | tuple):
            if len(self.areas) != 1:
                raise MemoryExcelError("an array can only be written to a single area")
            rows = [list(r) if isinstance(r, list | tuple) else [r] for r in data]
            r1, c1, r2, c2 = self.areas[0]
            if len(rows) != r2 - r1 + 1 or any(len(r) != c2 - c1 + 1 for r in rows):
                raise MemoryExcelError(f"array of {len(rows)} rows does not fit {area_address(self.areas[0])}")
            for i, row in enumerate(rows):
                for j, value in enumerate(row):
                    enter(self._sheet.cell(r1 + i, c1 + j), value)
        else:
            for r, c in self._cells(create=True):
                enter(self._sheet.cell(r, c), data)
        self._sheet.tidy()

    def clear_contents(self) -> None:
        self._app.calls["clear"] += 1
        for key in list(self._cells()):
            cell = self._sheet.cells_[key]
            cell.value, cell.formula, cell.prefix = None, None, False
        self._sheet.tidy()

    def clear_formats(self) -> None:
        self._app.calls["format"] += 1
        for key in list(self._cells()):
            cell = self._sheet.cells_[key]
            self._sheet.cells_[key] = Cell(value=cell.value, formula=cell.formula, prefix=cell.prefix)
        self._sheet.tidy()

    def clear(self) -> None:
        self._app.calls["clear"] += 1
        for key in list(self._cells()):
            del self._sheet.cells_[key]

    def end(self, direction: str) -> Range:
        r, c = self.areas[0][0], self.areas[0][1]
        dr, dc = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}[direction]

        def filled(rr: int, cc: int) -> bool:
            cell = self._sheet.cells_.get((rr, cc))
            return cell is not None and cell.has_value()

        def inside(rr: int, cc: int) -> bool:
            return 1 <= rr <= MAX_ROWS and 1 <= cc <= MAX_COLS

        nr, nc = r + dr, c + dc
        if not inside(nr, nc):
            return Range(self._sheet, [(r, c, r, c)])
        if filled(r, c) and filled(nr, nc):
            while inside(nr + dr, nc + dc) and filled(nr + dr, nc + dc):
                nr, nc = nr + dr, nc + dc
            return Range(self._sheet, [(nr, nc, nr, nc)])
        # jump to the next filled cell, or the edge of the sheet
        occupied = sorted(
            (k for k, cell in self._sheet.cells_.items() if cell.has_value()
             and (k[1] == c if dc == 0 else k[0] == r)),
            reverse=(dr < 0 or dc < 0),
        )
        for rr, cc in occupied:
            ahead = (rr - r) * dr > 0 if dc == 0 else (cc - c) * dc > 0
            if ahead:
                return Range(self._sheet, [(rr, cc, rr, cc)])
        edge = {(1, 0): (MAX_ROWS, c), (-1, 0): (1, c), (0, 1): (r, MAX_COLS), (0, -1): (r, 1)}[(dr, dc)]
        return Range(self._sheet, [(edge[0], edge[1], edge[0], edge[1])])

    @property
    def top(self) -> float:
        return (self.areas[0][0] - 1) * 15.0

    @property
    def left(self) -> float:
        return sum(self._sheet.widths.get(c, DEFAULT_WIDTH) * 7.0 for c in range(1, self.areas[0][1]))

    @property
    def formula(self) -> Any:
        r1, c1, _, _ = self.areas[0]
        cell = self._sheet.peek(r1, c1)
        if cell is None:
            return ""
        return cell.formula or ("" if cell.value is None else cell.value)

    @formula.setter
    def formula(self, value: Any) -> None:
        self.raw_value = value

    @property
    def has_array(self) -> bool:
        return False

    def _uniform(self, attr: str, default: Any) -> Any:
        seen = set()
        for r, c in self._cells(create=True) if len(self) <= 100_000 else self._cells():
            cell = self._sheet.peek(r, c)
            seen.add(default if cell is None else getattr(cell, attr))
            if len(seen) > 1:
                return None
        return seen.pop() if seen else default

    def _set(self, **changes: Any) -> None:
        self._app.calls["format"] += 1
        for r, c in self._cells(create=True):
            cell = self._sheet.cell(r, c)
            self._sheet.cells_[(r, c)] = replace(cell, **changes)
        self._sheet.tidy()

    @property
    def number_format(self) -> str | None:
        return self._uniform("number_format", "General")

    @number_format.setter
    def number_format(self, value: str) -> None:
        self._set(number_format=value)

    def get_address(self, row_absolute: bool = True, col_absolute: bool = True, external: bool = False) -> str:
        address = ",".join(area_address(a, row_absolute, col_absolute) for a in self.areas)
        if external:
            return f"[{self._sheet.book.name}]{self._sheet.name}!{address}"
        return address

    @property
    def address(self) -> str:
        return self.get_address()

    @property
    def color(self) -> tuple[int, int, int] | None:
        return self._uniform("fill", None)

    @color.setter
    def color(self, color_or_rgb: Any) -> None:
        self._set(fill=_rgb(color_or_rgb))

    @property
    def font(self) -> Font:
        return Font(self)

    @property
    def column_width(self) -> float | None:
        _, c1, _, c2 = self.areas[0]
        widths = {self._sheet.widths.get(c, DEFAULT_WIDTH) for c in range(c1, c2 + 1)}
        return widths.pop() if len(widths) == 1 else None

    @column_width.setter
    def column_width(self, value: float) -> None:
        self._app.calls["format"] += 1
        for _, c1, _, c2 in self.areas:
            for c in range(c1, c2 + 1):
                self._sheet.widths[c] = float(value)

    def __call__(self, arg1: int, arg2: int | None = None) -> Range:
        r1, c1, _, _ = self.areas[0]
        if arg2 is None:  # linear index, row by row
            _, ncols = self.shape
            row, col = divmod(arg1 - 1, ncols)
            return Range(self._sheet, [(r1 + row, c1 + col, r1 + row, c1 + col)])
        return Range(self._sheet, [(r1 + arg1 - 1, c1 + arg2 - 1, r1 + arg1 - 1, c1 + arg2 - 1)])

    @property
    def rows(self) -> Range:
        return self

    @property
    def columns(self) -> Range:
        return self

    def select(self) -> None:
        return None

    # test helpers
    def cell_objects(self) -> list[Cell]:
        return [self._sheet.peek(r, c) or Cell() for r, c in self._cells(create=True)]


class Font(base_classes.Font):
    def __init__(self, rng: Range) -> None:
        self.rng = rng

    @property
    def api(self) -> Font:
        return self

    @property
    def bold(self) -> bool | None:
        return self.rng._uniform("bold", False)

    @bold.setter
    def bold(self, value: bool) -> None:
        self.rng._set(bold=bool(value))

    @property
    def italic(self) -> bool | None:
        return self.rng._uniform("italic", False)

    @italic.setter
    def italic(self, value: bool) -> None:
        self.rng._set(italic=bool(value))

    @property
    def size(self) -> float | None:
        return self.rng._uniform("size", 11.0)

    @size.setter
    def size(self, value: float) -> None:
        self.rng._set(size=float(value))

    @property
    def color(self) -> tuple[int, int, int] | None:
        return self.rng._uniform("font_color", None)

    @color.setter
    def color(self, value: Any) -> None:
        self.rng._set(font_color=_rgb(value))

    @property
    def name(self) -> str:
        return "Calibri"

    @name.setter
    def name(self, value: str) -> None:
        return None


class FreezePanes:
    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet

    def freeze_at(self, frozen_range: str) -> None:
        if self.sheet.book.active_sheet is not self.sheet:
            raise MemoryExcelError("freeze panes act on the active window: activate the sheet first")
        self.sheet.frozen = frozen_range

    def unfreeze(self) -> None:
        self.sheet.frozen = None


@dataclass
class Chart:
    sheet: Sheet
    name: str
    left: float
    top: float
    width: float
    height: float
    chart_type: str = "column_clustered"
    source: str | None = None
    title: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> Chart:
        return self

    @property
    def parent(self) -> Sheet:
        return self.sheet

    def set_source_data(self, rng: Range, plot_by: Any = None) -> None:
        self.source = rng.address

    def delete(self) -> None:
        self.sheet.chart_list.remove(self)


class Charts:
    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet

    @property
    def api(self) -> Charts:
        return self

    def __call__(self, name_or_index: int | str) -> Chart:
        if isinstance(name_or_index, int):
            return self.sheet.chart_list[name_or_index - 1]
        for chart in self.sheet.chart_list:
            if chart.name == name_or_index:
                return chart
        raise KeyError(name_or_index)

    def __contains__(self, name: str) -> bool:
        return any(c.name == name for c in self.sheet.chart_list)

    def __len__(self) -> int:
        return len(self.sheet.chart_list)

    def __iter__(self):
        return iter(list(self.sheet.chart_list))

    def add(self, left: float = 0, top: float = 0, width: float = 355, height: float = 211, chart_type: str | None = None,
            source: Range | None = None, plot_by: Any = None, name: str | None = None, anchor: Any = None,
            style: Any = None) -> Chart:
        chart = Chart(self.sheet, name or f"Chart {next(self.sheet._chart_ids)}", left, top, width, height)
        if anchor is not None:
            chart.extra["anchor"] = anchor.address
        if chart_type is not None:
            chart.chart_type = chart_type
        if source is not None:
            chart.set_source_data(source, plot_by)
        self.sheet.chart_list.append(chart)
        self.sheet.book.app.calls["chart.add"] += 1
        return chart


# --- registration ---------------------------------------------------------------------------

def install() -> Engine:
    """Register the engine with xlwings once (idempotent) and make it the active one."""
    existing = xw.engines.engines_by_name.get(ENGINE_NAME)
    if existing is None:
        xw.engines.add(xw.Engine(impl=Engine()))
        existing = xw.engines.engines_by_name[ENGINE_NAME]
    existing.activate()
    return existing.impl
