"""The emulator's state: spreadsheets, sheets and cells, and the values API over them.

State is kept in the API's own JSON vocabulary (CellData, SheetProperties, GridRange …) so that
responses are assembled rather than translated, and so ``state()`` can hand the same JSON to
tests for assertions.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import a1, cells
from . import fields as fieldmask

JSON = dict[str, Any]

DEFAULT_ROWS = 1000
DEFAULT_COLS = 26
DEFAULT_ROW_PX = 21
DEFAULT_COL_PX = 100

# The spreadsheet-level properties of a new spreadsheet, as recorded from Google (en_US).
DEFAULT_PROPERTIES: JSON = {
    "locale": "en_US",
    "autoRecalc": "ON_CHANGE",
    "timeZone": "Etc/GMT",
    "defaultFormat": {
        "backgroundColor": {"red": 1, "green": 1, "blue": 1},
        "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
        "verticalAlignment": "BOTTOM",
        "wrapStrategy": "OVERFLOW_CELL",
        "textFormat": {
            "foregroundColor": {},
            "fontFamily": "arial,sans,sans-serif",
            "fontSize": 10,
            "bold": False,
            "italic": False,
            "strikethrough": False,
            "underline": False,
            "foregroundColorStyle": {"rgbColor": {}},
        },
        "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
    },
    "spreadsheetTheme": {
        "primaryFontFamily": "Arial",
        "themeColors": [
            {"colorType": "TEXT", "color": {"rgbColor": {}}},
            {"colorType": "BACKGROUND", "color": {"rgbColor": {"red": 1, "green": 1, "blue": 1}}},
            {"colorType": "ACCENT1", "color": {"rgbColor": {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}}},
            {"colorType": "ACCENT2", "color": {"rgbColor": {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}}},
            {"colorType": "ACCENT3", "color": {"rgbColor": {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}}},
            {"colorType": "ACCENT4", "color": {"rgbColor": {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}}},
            {"colorType": "ACCENT5", "color": {"rgbColor": {"red": 1, "green": 0.42745098, "blue": 0.003921569}}},
            {"colorType": "ACCENT6", "color": {"rgbColor": {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}}},
            {"colorType": "LINK", "color": {"rgbColor": {"red": 0.06666667, "green": 0.33333334, "blue": 0.8}}},
        ],
    },
}


class ApiError(Exception):
    """An error answer in Google's JSON shape."""

    STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
              409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}

    def __init__(self, code: int, message: str, status: str | None = None, details: list[JSON] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or self.STATUS.get(code, "UNKNOWN")
        self.details = details

    def body(self) -> JSON:
        err: JSON = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            err["details"] = self.details
        return {"error": err}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, "INVALID_ARGUMENT")


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{datetime.now(UTC).microsecond // 1000:03d}Z"


def out_range(gr: JSON) -> JSON:
    """A GridRange as Google prints it: sheetId 0 is a proto default and left out."""
    out = {k: v for k, v in gr.items() if v is not None}
    if out.get("sheetId") == 0:
        del out["sheetId"]
    return out


@dataclass
class Sheet:
    props: JSON
    cells: dict[tuple[int, int], JSON] = field(default_factory=dict)
    merges: list[JSON] = field(default_factory=list)
    conditional_formats: list[JSON] = field(default_factory=list)
    charts: list[JSON] = field(default_factory=list)
    protected_ranges: list[JSON] = field(default_factory=list)
    basic_filter: JSON | None = None
    filter_views: list[JSON] = field(default_factory=list)
    banded_ranges: list[JSON] = field(default_factory=list)
    row_groups: list[JSON] = field(default_factory=list)
    column_groups: list[JSON] = field(default_factory=list)
    row_meta: dict[int, JSON] = field(default_factory=dict)
    col_meta: dict[int, JSON] = field(default_factory=dict)
    # Cells copied since the last snapshot (copy-on-write keeps batchUpdate atomic without
    # deep-copying every cell of a large sheet); None when no snapshot is open.
    cow: set[tuple[int, int]] | None = field(default=None, repr=False, compare=False)

    @property
    def sheet_id(self) -> int:
        return int(self.props["sheetId"])

    @property
    def title(self) -> str:
        return str(self.props["title"])

    @property
    def grid(self) -> JSON:
        return self.props.setdefault("gridProperties", {})

    @property
    def rows(self) -> int:
        return int(self.grid.get("rowCount", 0))

    @property
    def cols(self) -> int:
        return int(self.grid.get("columnCount", 0))

    def cell(self, r: int, c: int) -> JSON:
        """The stored CellData to modify in place (created if absent)."""
        key = (r, c)
        cell = self.cells.get(key)
        if cell is None:
            cell = self.cells[key] = {}
        elif self.cow is not None and key not in self.cow:
            cell = self.cells[key] = copy.deepcopy(cell)
        if self.cow is not None:
            self.cow.add(key)
        return cell

    def snapshot(self) -> Sheet:
        """A copy to roll back to; cells are shared and copied on write from now on."""
        clone = Sheet(copy.deepcopy(self.props), dict(self.cells))
        for name in ("merges", "conditional_formats", "charts", "protected_ranges", "basic_filter", "filter_views",
                     "banded_ranges", "row_groups", "column_groups", "row_meta", "col_meta"):
            setattr(clone, name, copy.deepcopy(getattr(self, name)))
        self.cow = set()
        return clone

    def prune(self, r: int, c: int) -> None:
        cell = self.cells.get((r, c))
        if cell is not None and not cell:
            del self.cells[(r, c)]

    def has_value(self, r: int, c: int) -> bool:
        cell = self.cells.get((r, c))
        return bool(cell and "userEnteredValue" in cell)

    def to_json(self) -> JSON:
        """The Sheet resource without grid data."""
        out: JSON = {"properties": copy.deepcopy(self.props)}
        if self.merges:
            out["merges"] = [out_range(m) for m in self.merges]
        if self.conditional_formats:
            out["conditionalFormats"] = [_rule_out(r) for r in self.conditional_formats]
        if self.filter_views:
            out["filterViews"] = copy.deepcopy(self.filter_views)
        if self.protected_ranges:
            out["protectedRanges"] = [_protected_out(p) for p in self.protected_ranges]
        if self.basic_filter is not None:
            bf = copy.deepcopy(self.basic_filter)
            bf["range"] = out_range(bf["range"])
            out["basicFilter"] = bf
        if self.charts:
            out["charts"] = copy.deepcopy(self.charts)
        if self.banded_ranges:
            out["bandedRanges"] = copy.deepcopy(self.banded_ranges)
        if self.row_groups:
            out["rowGroups"] = [_group_out(g) for g in self.row_groups]
        if self.column_groups:
            out["columnGroups"] = [_group_out(g) for g in self.column_groups]
        return out


def _rule_out(rule: JSON) -> JSON:
    out = copy.deepcopy(rule)
    out["ranges"] = [out_range(r) for r in out.get("ranges", [])]
    return out


def _protected_out(p: JSON) -> JSON:
    out = copy.deepcopy(p)
    if "range" in out:
        out["range"] = out_range(out["range"])
    return out


def _group_out(g: JSON) -> JSON:
    out = copy.deepcopy(g)
    out["range"] = {k: v for k, v in out["range"].items() if k != "sheetId" or v}
    return out


@dataclass
class Bounds:
    """A resolved, closed range on one sheet: rows [sr, er), columns [sc, ec)."""

    sheet: Sheet
    sr: int
    er: int
    sc: int
    ec: int
    open_start: bool = False  # a single-cell or whole-sheet range: writes may extend beyond it

    def a1(self) -> str:
        return a1.format_range(self.sheet.title, self.sr, self.er, self.sc, self.ec)


class Spreadsheet:
    """One spreadsheet and the values API over it."""

    def __init__(self, spreadsheet_id: str, title: str, rng: random.Random, sheet_titles: list[str] | None = None) -> None:
        self.id = spreadsheet_id
        self.rng = rng
        self.properties: JSON = {"title": title, **copy.deepcopy(DEFAULT_PROPERTIES)}
        self.sheets: list[Sheet] = []
        self.named_ranges: list[JSON] = []
        self.developer_metadata: list[JSON] = []
        self.actor = ""  # client_email of the caller of the request being served
        self.created = now_rfc3339()
        self.modified = self.created
        for i, name in enumerate(sheet_titles or ["Sheet1"]):
            self.add_sheet({"sheetId": 0 if i == 0 else self.new_id(), "title": name})

    # -- sheets ---------------------------------------------------------------------------

    def new_id(self) -> int:
        used = {s.sheet_id for s in self.sheets}
        while True:
            n = self.rng.randrange(1, 2**31 - 1)
            if n not in used:
                return n

    def add_sheet(self, props: JSON, index: int | None = None) -> Sheet:
        props = copy.deepcopy(props)
        props.setdefault("sheetId", self.new_id())
        props.setdefault("title", self._next_title())
        props.setdefault("sheetType", "GRID")
        grid = props.setdefault("gridProperties", {})
        if props["sheetType"] == "GRID":
            grid.setdefault("rowCount", DEFAULT_ROWS)
            grid.setdefault("columnCount", DEFAULT_COLS)
        else:
            props.pop("gridProperties", None)
        idx = props.get("index", index)
        idx = len(self.sheets) if idx is None else max(0, min(int(idx), len(self.sheets)))
        ordered = {"sheetId": props["sheetId"], "title": props["title"], "index": idx, "sheetType": props["sheetType"]}
        ordered.update({k: v for k, v in props.items() if k not in ordered})
        sheet = Sheet(ordered)
        self.sheets.insert(idx, sheet)
        self.reindex()
        return sheet

    def _next_title(self) -> str:
        n = len(self.sheets) + 1
        titles = {s.title.lower() for s in self.sheets}
        while f"sheet{n}" in titles:
            n += 1
        return f"Sheet{n}"

    def reindex(self) -> None:
        for i, s in enumerate(self.sheets):
            s.props["index"] = i

    def sheet_by_id(self, sheet_id: int | None, where: str = "") -> Sheet:
        sid = int(sheet_id or 0)
        for s in self.sheets:
            if s.sheet_id == sid:
                return s
        raise bad_request(f"{where}No grid with id: {sid}" if where else f"No grid with id: {sid}")

    def sheet_by_title(self, title: str) -> Sheet | None:
        for s in self.sheets:
            if s.title == title:
                return s
        low = title.lower()
        for s in self.sheets:
            if s.title.lower() == low:
                return s
        return None

    # -- ranges -------------------------------------------------------------------------

    def resolve(self, text: str, for_write: bool = False) -> Bounds:
        """A range parameter -> bounds on one sheet, clipped to the grid like Google does."""
        try:
            parsed = a1.parse(text)
        except a1.RangeError:
            raise bad_request(f"Unable to parse range: {text}") from None
        if parsed.name is not None:
            if parsed.title is None:
                sheet = self.sheet_by_title(parsed.name)
                if sheet is not None:
                    return Bounds(sheet, 0, sheet.rows, 0, sheet.cols, open_start=True)
            named = next((n for n in self.named_ranges if n["name"].lower() == parsed.name.lower()), None)
            if named is None or (parsed.title is not None and self.sheet_by_title(parsed.title) is None):
                raise bad_request(f"Unable to parse range: {text}")
            gr = named["range"]
            sheet = self.sheet_by_id(gr.get("sheetId", 0))
            return Bounds(sheet, gr.get("startRowIndex", 0), gr.get("endRowIndex", sheet.rows),
                          gr.get("startColumnIndex", 0), gr.get("endColumnIndex", sheet.cols))
        if parsed.title is None:
            sheet = self.sheets[0]
        else:
            found = self.sheet_by_title(parsed.title)
            if found is None:
                raise bad_request(f"Unable to parse range: {text}")
            sheet = found
        if sheet.props.get("sheetType", "GRID") != "GRID":
            raise bad_request(f"Unable to parse range: {text}")
        whole = parsed.start_row is None and parsed.end_row is None and parsed.start_col is None and parsed.end_col is None
        sr = parsed.start_row if parsed.start_row is not None else 0
        sc = parsed.start_col if parsed.start_col is not None else 0
        er = parsed.end_row if parsed.end_row is not None else sheet.rows
        ec = parsed.end_col if parsed.end_col is not None else sheet.cols
        single = parsed.end_row is not None and parsed.start_row is not None and parsed.end_row - parsed.start_row == 1 \
            and parsed.end_col is not None and parsed.start_col is not None and parsed.end_col - parsed.start_col == 1
        if er > sheet.rows or ec > sheet.cols or sr >= max(sheet.rows, 1) or sc >= max(sheet.cols, 1):
            if not (for_write and single):
                raise self.grid_error(sheet, sr, max(er, sr + 1), sc, max(ec, sc + 1))
        return Bounds(sheet, sr, er, sc, ec, open_start=whole or single)

    @staticmethod
    def grid_error(sheet: Sheet, sr: int, er: int, sc: int, ec: int) -> ApiError:
        start = f"{a1.index_to_col(sc)}{sr + 1}"
        end = f"{a1.index_to_col(ec - 1)}{er}"
        cellref = start if (er - sr == 1 and ec - sc == 1) else f"{start}:{end}"
        title = sheet.title.replace("'", "''")
        return bad_request(
            f"Range ('{title}'!{cellref}) exceeds grid limits. Max rows: {sheet.rows}, max columns: {sheet.cols}"
        )

    def grid_range(self, gr: JSON, where: str = "") -> Bounds:
        """A GridRange (absent bounds = unbounded) -> bounds, validated against the grid."""
        sheet = self.sheet_by_id(gr.get("sheetId", 0), where)
        sr = int(gr.get("startRowIndex", 0) or 0)
        er = int(gr["endRowIndex"]) if gr.get("endRowIndex") is not None else sheet.rows
        sc = int(gr.get("startColumnIndex", 0) or 0)
        ec = int(gr["endColumnIndex"]) if gr.get("endColumnIndex") is not None else sheet.cols
        if sr < 0 or sc < 0 or er < sr or ec < sc:
            raise bad_request(f"{where}Invalid range: startIndex must be less than or equal to endIndex.")
        if er > sheet.rows or ec > sheet.cols:
            raise self.grid_error(sheet, sr, er, sc, ec)
        return Bounds(sheet, sr, er, sc, ec)

    # -- cell values ----------------------------------------------------------------------

    def effective(self, sheet: Sheet, r: int, c: int, _seen: frozenset[tuple[int, int, int]] = frozenset()) -> Any:
        """A cell's computed value: None, str, float, bool or a FormulaError."""
        cell = sheet.cells.get((r, c))
        if not cell or "userEnteredValue" not in cell:
            return None
        uev = cell["userEnteredValue"]
        if "formulaValue" not in uev:
            return _plain(uev)
        key = (sheet.sheet_id, r, c)
        if key in _seen:
            return cells.FormulaError("REF", "#REF!", "Circular dependency detected.")
        seen = _seen | {key}

        def resolve(title: str | None, ref: str) -> list[list[Any]]:
            target = sheet if title is None else self.sheet_by_title(title)
            if target is None:
                raise cells.FormulaError("REF", "#REF!", f"Unresolved sheet name '{title}'.")
            try:
                sr, er, sc, ec = a1.parse_cells(ref)
            except a1.RangeError:
                named = next((n for n in self.named_ranges if n["name"].lower() == ref.lower()), None)
                if named is None:
                    raise KeyError(ref) from None
                gr = named["range"]
                target = self.sheet_by_id(gr.get("sheetId", 0))
                sr, er = gr.get("startRowIndex", 0), gr.get("endRowIndex", target.rows)
                sc, ec = gr.get("startColumnIndex", 0), gr.get("endColumnIndex", target.cols)
            sr, sc = sr or 0, sc or 0
            er = target.rows if er is None else er
            ec = target.cols if ec is None else ec
            out = []
            for rr in range(sr, er):
                row = []
                for cc in range(sc, ec):
                    v = self.effective(target, rr, cc, seen)
                    if isinstance(v, cells.FormulaError):
                        raise v
                    row.append(v)
                out.append(row)
            return out

        try:
            return cells.evaluate(uev["formulaValue"], resolve)
        except cells.FormulaError as err:
            return err
        except (ZeroDivisionError, OverflowError, ValueError, TypeError, RecursionError):
            return cells.FormulaError("ERROR", "#ERROR!", "Formula parse error.")

    def number_format(self, sheet: Sheet, r: int, c: int) -> JSON | None:
        cell = sheet.cells.get((r, c)) or {}
        return (cell.get("userEnteredFormat") or {}).get("numberFormat")

    def render(self, sheet: Sheet, r: int, c: int, vro: str, dtro: str) -> Any:
        """One cell as the values API returns it; None for an empty cell."""
        cell = sheet.cells.get((r, c))
        if not cell or "userEnteredValue" not in cell:
            return None
        uev = cell["userEnteredValue"]
        if vro == "FORMULA" and "formulaValue" in uev:
            return uev["formulaValue"]
        value = self.effective(sheet, r, c)
        if isinstance(value, cells.FormulaError):
            return value.text
        if value is None:
            return None
        fmt = self.number_format(sheet, r, c)
        if vro == "FORMATTED_VALUE":
            return self.formatted(value, fmt)
        if isinstance(value, float):
            if dtro == "FORMATTED_STRING" and cells.is_date_format(fmt):
                return cells.render_number(value, fmt)
            return cells.json_number(value)
        return value

    @staticmethod
    def formatted(value: Any, fmt: JSON | None) -> str:
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, float):
            return cells.render_number(value, fmt)
        return str(value)

    def read(self, b: Bounds, major: str, vro: str, dtro: str) -> list[list[Any]]:
        """Values of a range, trailing empty rows and cells trimmed as Google does."""
        sheet = b.sheet
        # Only visit populated cells: ranges are often whole sheets of mostly nothing.
        grid: dict[int, dict[int, Any]] = {}
        for (r, c), cell in sheet.cells.items():
            if b.sr <= r < b.er and b.sc <= c < b.ec and "userEnteredValue" in cell:
                v = self.render(sheet, r, c, vro, dtro)
                if v is not None and v != "":
                    if major == "COLUMNS":
                        grid.setdefault(c - b.sc, {})[r - b.sr] = v
                    else:
                        grid.setdefault(r - b.sr, {})[c - b.sc] = v
        if not grid:
            return []
        out: list[list[Any]] = []
        for i in range(max(grid) + 1):
            row = grid.get(i, {})
            out.append([row.get(j, "") for j in range(max(row) + 1)] if row else [])
        return out

    def value_range(self, b: Bounds, major: str, vro: str, dtro: str) -> JSON:
        out: JSON = {"range": b.a1(), "majorDimension": major}
        values = self.read(b, major, vro, dtro)
        if values:
            out["values"] = values
        return out

    def write(self, b: Bounds, values: Any, major: str, input_option: str, where: str = "data.values") -> JSON:
        """Write a 2-D array at a range; returns an UpdateValuesResponse (without spreadsheetId)."""
        if input_option not in ("RAW", "USER_ENTERED"):
            raise bad_request("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED" if not input_option
                              else f"Invalid value at 'value_input_option' (TYPE_ENUM), \"{input_option}\"")
        rows = _rows(values, where)
        if major == "COLUMNS":
            width = max((len(r) for r in rows), default=0)
            rows = [[col[i] if i < len(col) else None for col in rows] for i in range(width)]
        height = len(rows)
        width = max((len(r) for r in rows), default=0)
        sheet = b.sheet
        if not b.open_start:
            if height > b.er - b.sr:
                raise bad_request(f"Requested writing within range [{b.a1()}], but tried writing to row [{b.sr + height}]")
            if width > b.ec - b.sc:
                raise bad_request(
                    f"Requested writing within range [{b.a1()}], but tried writing to column [{a1.index_to_col(b.sc + width - 1)}]")
        if height and (b.sr + height > sheet.rows or b.sc + width > sheet.cols):
            raise self.grid_error(sheet, b.sr, b.sr + height, b.sc, b.sc + width)
        touched_rows: set[int] = set()
        touched_cols: set[int] = set()
        count = 0
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if value is None:
                    continue
                r, c = b.sr + i, b.sc + j
                self.set_input(sheet, r, c, value, input_option)
                touched_rows.add(r)
                touched_cols.add(c)
                count += 1
        self.touch()
        out: JSON = {}
        if height and width:
            out["updatedRange"] = a1.format_range(sheet.title, b.sr, b.sr + height, b.sc, b.sc + width)
        else:
            out["updatedRange"] = a1.format_range(sheet.title, b.sr, b.sr + 1, b.sc, b.sc + 1)
        if count:
            out.update(updatedRows=len(touched_rows), updatedColumns=len(touched_cols), updatedCells=count)
        return out

    def set_input(self, sheet: Sheet, r: int, c: int, value: Any, input_option: str) -> None:
        """Store one typed value the way valueInputOption says."""
        if isinstance(value, dict | list):
            raise bad_request(f"Invalid values[{r}][{c}]: {_proto_text(value)}")
        if input_option == "RAW":
            uev, auto_fmt = cells.raw_value(value), None
        else:
            uev, auto_fmt = cells.user_entered_value(value)
        cell = sheet.cell(r, c)
        if uev is None:
            cell.pop("userEnteredValue", None)
            sheet.prune(r, c)
            return
        cell["userEnteredValue"] = uev
        if auto_fmt is not None:
            fmt = cell.setdefault("userEnteredFormat", {})
            if not fmt.get("numberFormat"):
                fmt["numberFormat"] = auto_fmt

    def clear(self, b: Bounds) -> str:
        for key in [k for k in b.sheet.cells if b.sr <= k[0] < b.er and b.sc <= k[1] < b.ec]:
            b.sheet.cells[key].pop("userEnteredValue", None)
            b.sheet.prune(*key)
        self.touch()
        return b.a1()

    def append(self, b: Bounds, values: Any, major: str, input_option: str, insert: str) -> JSON:
        """values.append: find the table in the range and write below it (Google's heuristics)."""
        sheet = b.sheet
        filled = [(r, c) for (r, c), cell in sheet.cells.items()
                  if "userEnteredValue" in cell and b.sr <= r < b.er and b.sc <= c < b.ec]
        table: tuple[int, int, int, int] | None = None
        if filled:
            anchor = max(filled)
            table = self._region(sheet, anchor)
            start_r, start_c = table[1], table[2]
        else:
            start_r, start_c = b.sr, b.sc
        rows = _rows(values, "data.values")
        if major == "COLUMNS":
            width = max((len(r) for r in rows), default=0)
            rows = [[col[i] if i < len(col) else None for col in rows] for i in range(width)]
        height = len(rows)
        width = max((len(r) for r in rows), default=0)
        if insert == "INSERT_ROWS" and height:
            self.insert_dimension(sheet, "ROWS", start_r, start_r + height)
        need_rows = start_r + height - sheet.rows
        if need_rows > 0:
            sheet.grid["rowCount"] = sheet.rows + need_rows
        need_cols = start_c + width - sheet.cols
        if need_cols > 0:
            sheet.grid["columnCount"] = sheet.cols + need_cols
        target = Bounds(sheet, start_r, start_r + max(height, 1), start_c, start_c + max(width, 1), open_start=True)
        updates = self.write(target, rows, "ROWS", input_option)
        out: JSON = {}
        if table is not None:
            out["tableRange"] = a1.format_range(sheet.title, table[0], table[1], table[2], table[3])
        out["updates"] = {"spreadsheetId": self.id, **updates}
        return out

    def _region(self, sheet: Sheet, anchor: tuple[int, int]) -> tuple[int, int, int, int]:
        """Bounding box (sr, er, sc, ec) of the connected block of filled cells around anchor."""
        todo = [anchor]
        seen = {anchor}
        while todo:
            r, c = todo.pop()
            for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if (nr, nc) not in seen and sheet.has_value(nr, nc):
                    seen.add((nr, nc))
                    todo.append((nr, nc))
        rs = [p[0] for p in seen]
        cs = [p[1] for p in seen]
        return min(rs), max(rs) + 1, min(cs), max(cs) + 1

    # -- structural edits used by several requests ------------------------------------------

    def insert_dimension(self, sheet: Sheet, dim: str, start: int, end: int) -> None:
        n = end - start
        axis = 0 if dim == "ROWS" else 1
        sheet.cells = {_shift_key(k, axis, start, n): v for k, v in sheet.cells.items()}
        meta = sheet.row_meta if axis == 0 else sheet.col_meta
        shifted = {(i + n if i >= start else i): v for i, v in meta.items()}
        meta.clear()
        meta.update(shifted)
        key = "rowCount" if axis == 0 else "columnCount"
        sheet.grid[key] = int(sheet.grid.get(key, 0)) + n
        for gr in self._ranges_on(sheet):
            _shift_range(gr, axis, start, n)

    def delete_dimension(self, sheet: Sheet, dim: str, start: int, end: int) -> None:
        n = end - start
        axis = 0 if dim == "ROWS" else 1
        new_cells = {}
        for k, v in sheet.cells.items():
            i = k[axis]
            if start <= i < end:
                continue
            new_cells[_shift_key(k, axis, end, -n)] = v
        sheet.cells = new_cells
        meta = sheet.row_meta if axis == 0 else sheet.col_meta
        shifted = {(i - n if i >= end else i): v for i, v in meta.items() if not start <= i < end}
        meta.clear()
        meta.update(shifted)
        key = "rowCount" if axis == 0 else "columnCount"
        sheet.grid[key] = int(sheet.grid.get(key, 0)) - n
        for gr in self._ranges_on(sheet):
            _shrink_range(gr, axis, start, end)
        sheet.merges = [m for m in sheet.merges if _nonempty(m)]

    def _ranges_on(self, sheet: Sheet) -> list[JSON]:
        """Every stored GridRange on a sheet (merges, rules, filters, named ranges…)."""
        out = list(sheet.merges)
        for rule in sheet.conditional_formats:
            out.extend(rule.get("ranges", []))
        for p in sheet.protected_ranges:
            if "range" in p:
                out.append(p["range"])
        if sheet.basic_filter:
            out.append(sheet.basic_filter["range"])
        for n in self.named_ranges:
            if int(n["range"].get("sheetId", 0)) == sheet.sheet_id:
                out.append(n["range"])
        return out

    def touch(self) -> None:
        self.modified = now_rfc3339()

    # -- the spreadsheet resource -------------------------------------------------------------

    def resource(self, include_grid: bool = False, ranges: list[str] | None = None, mask: str | None = None,
                 base_url: str = "https://docs.google.com") -> JSON:
        """spreadsheets.get: properties, sheets (optionally with grid data), named ranges, URL."""
        tree = fieldmask.parse(mask) if mask else None
        wants_data = include_grid or _mask_wants(tree, "sheets", "data")
        out: JSON = {"spreadsheetId": self.id, "properties": copy.deepcopy(self.properties)}
        sheets: list[JSON] = []
        if ranges:
            per_sheet: dict[int, list[Bounds]] = {}
            order: list[Sheet] = []
            for text in ranges:
                b = self.resolve(text)
                if b.sheet.sheet_id not in per_sheet:
                    order.append(b.sheet)
                per_sheet.setdefault(b.sheet.sheet_id, []).append(b)
            for sheet in sorted(order, key=lambda s: s.props["index"]):
                js = sheet.to_json()
                if wants_data:
                    js["data"] = [self.grid_data(b) for b in per_sheet[sheet.sheet_id]]
                sheets.append(js)
        else:
            for sheet in self.sheets:
                js = sheet.to_json()
                if wants_data and sheet.props.get("sheetType", "GRID") == "GRID":
                    js["data"] = [self.grid_data(Bounds(sheet, 0, sheet.rows, 0, sheet.cols))]
                sheets.append(js)
        out["sheets"] = sheets
        if self.named_ranges:
            out["namedRanges"] = [{**n, "range": out_range(n["range"])} for n in copy.deepcopy(self.named_ranges)]
        if self.developer_metadata:
            out["developerMetadata"] = copy.deepcopy(self.developer_metadata)
        out["spreadsheetUrl"] = f"{base_url}/spreadsheets/d/{self.id}/edit"
        if tree is not None:
            out = fieldmask.apply(out, tree)
            _trim_grid(out)
        return out

    def grid_data(self, b: Bounds) -> JSON:
        sheet = b.sheet
        data: JSON = {}
        if b.sr:
            data["startRow"] = b.sr
        if b.sc:
            data["startColumn"] = b.sc
        populated = [k for k in sheet.cells if b.sr <= k[0] < b.er and b.sc <= k[1] < b.ec]
        if populated:
            last_row = max(k[0] for k in populated)
            rows = []
            for r in range(b.sr, last_row + 1):
                in_row = [k[1] for k in populated if k[0] == r]
                if not in_row:
                    rows.append({})
                    continue
                rows.append({"values": [self.cell_data(sheet, r, c) for c in range(b.sc, max(in_row) + 1)]})
            data["rowData"] = rows
        data["rowMetadata"] = [self.dim_meta(sheet.row_meta.get(i), DEFAULT_ROW_PX) for i in range(b.sr, b.er)]
        data["columnMetadata"] = [self.dim_meta(sheet.col_meta.get(i), DEFAULT_COL_PX) for i in range(b.sc, b.ec)]
        return data

    @staticmethod
    def dim_meta(meta: JSON | None, default_px: int) -> JSON:
        out: JSON = {"pixelSize": default_px}
        if meta:
            out.update({k: v for k, v in meta.items() if v not in (False, None)})
        return out

    def cell_data(self, sheet: Sheet, r: int, c: int) -> JSON:
        """CellData with the derived parts (effectiveValue, formattedValue, effectiveFormat)."""
        cell = sheet.cells.get((r, c))
        if not cell:
            return {}
        out: JSON = {}
        if "userEnteredValue" in cell:
            out["userEnteredValue"] = copy.deepcopy(cell["userEnteredValue"])
            value = self.effective(sheet, r, c)
            if isinstance(value, cells.FormulaError):
                out["effectiveValue"] = {"errorValue": {"type": value.kind, "message": value.message}}
                out["formattedValue"] = value.text
            elif value is not None:
                out["effectiveValue"] = _typed(value)
                out["formattedValue"] = self.formatted(value, self.number_format(sheet, r, c))
        if "userEnteredFormat" in cell:
            out["userEnteredFormat"] = copy.deepcopy(cell["userEnteredFormat"])
        if "userEnteredValue" in cell or "userEnteredFormat" in cell:
            out["effectiveFormat"] = _deep_merge(copy.deepcopy(self.properties["defaultFormat"]),
                                                 cell.get("userEnteredFormat") or {})
        for key in ("note", "hyperlink", "dataValidation", "textFormatRuns"):
            if key in cell:
                out[key] = copy.deepcopy(cell[key])
        return out

    def state(self) -> JSON:
        """Everything tests may assert on, keyed by sheet title, in plain JSON."""
        out: JSON = {"spreadsheetId": self.id, "properties": copy.deepcopy(self.properties), "sheets": {},
                     "namedRanges": copy.deepcopy(self.named_ranges)}
        for sheet in self.sheets:
            grid = sheet.grid
            js: JSON = {
                "properties": copy.deepcopy(sheet.props),
                "frozenRowCount": grid.get("frozenRowCount", 0),
                "frozenColumnCount": grid.get("frozenColumnCount", 0),
                "values": self.read(Bounds(sheet, 0, sheet.rows, 0, sheet.cols), "ROWS", "UNFORMATTED_VALUE", "SERIAL_NUMBER"),
                "formatted": self.read(Bounds(sheet, 0, sheet.rows, 0, sheet.cols), "ROWS", "FORMATTED_VALUE", "SERIAL_NUMBER"),
                "formulas": self.read(Bounds(sheet, 0, sheet.rows, 0, sheet.cols), "ROWS", "FORMULA", "SERIAL_NUMBER"),
                "formats": {a1.index_to_col(c) + str(r + 1): cell["userEnteredFormat"]
                            for (r, c), cell in sorted(sheet.cells.items()) if cell.get("userEnteredFormat")},
                "notes": {a1.index_to_col(c) + str(r + 1): cell["note"]
                          for (r, c), cell in sorted(sheet.cells.items()) if cell.get("note")},
                "validations": {a1.index_to_col(c) + str(r + 1): cell["dataValidation"]
                                for (r, c), cell in sorted(sheet.cells.items()) if cell.get("dataValidation")},
                "conditionalFormats": copy.deepcopy(sheet.conditional_formats),
                "charts": copy.deepcopy(sheet.charts),
                "merges": copy.deepcopy(sheet.merges),
                "protectedRanges": copy.deepcopy(sheet.protected_ranges),
                "basicFilter": copy.deepcopy(sheet.basic_filter),
                "rowMetadata": {str(k): v for k, v in sorted(sheet.row_meta.items())},
                "columnMetadata": {str(k): v for k, v in sorted(sheet.col_meta.items())},
            }
            out["sheets"][sheet.title] = js
        return out


# -- helpers -----------------------------------------------------------------------------------


def _plain(uev: JSON) -> Any:
    if "stringValue" in uev:
        return uev["stringValue"]
    if "numberValue" in uev:
        return float(uev["numberValue"])
    if "boolValue" in uev:
        return bool(uev["boolValue"])
    if "errorValue" in uev:
        kind = uev["errorValue"].get("type", "ERROR")
        return cells.FormulaError(kind, cells.ERROR_TEXT.get(kind, "#ERROR!"), uev["errorValue"].get("message", ""))
    return None


def _typed(value: Any) -> JSON:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, float):
        return {"numberValue": cells.json_number(value)}
    return {"stringValue": str(value)}


def _proto_text(value: Any) -> str:
    import json

    return json.dumps(value)


def _rows(values: Any, where: str) -> list[list[Any]]:
    """Validate the ``values`` field as Google does (a ListValue of ListValues)."""
    if values is None:
        return []
    if not isinstance(values, list):
        text = values if isinstance(values, str) else _proto_text(values)
        raise ApiError(400, f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.ListValue), \"{text}\"",
                       "INVALID_ARGUMENT", details=[{
                           "@type": "type.googleapis.com/google.rpc.BadRequest",
                           "fieldViolations": [{"field": where, "description": f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.ListValue), \"{text}\""}],
                       }])
    out = []
    for i, row in enumerate(values):
        if not isinstance(row, list):
            text = row if isinstance(row, str) else _proto_text(row)
            field_name = f"{where}[{i}]"
            raise ApiError(400, f"Invalid value at '{field_name}' (type.googleapis.com/google.protobuf.ListValue), \"{text}\"",
                           "INVALID_ARGUMENT", details=[{
                               "@type": "type.googleapis.com/google.rpc.BadRequest",
                               "fieldViolations": [{"field": field_name, "description": f"Invalid value at '{field_name}' (type.googleapis.com/google.protobuf.ListValue), \"{text}\""}],
                           }])
        out.append(row)
    return out


def _shift_key(key: tuple[int, int], axis: int, start: int, n: int) -> tuple[int, int]:
    if key[axis] >= start:
        return (key[0] + n, key[1]) if axis == 0 else (key[0], key[1] + n)
    return key


_AXIS_KEYS = {0: ("startRowIndex", "endRowIndex"), 1: ("startColumnIndex", "endColumnIndex")}


def _shift_range(gr: JSON, axis: int, start: int, n: int) -> None:
    lo, hi = _AXIS_KEYS[axis]
    if gr.get(lo) is not None and gr[lo] >= start:
        gr[lo] += n
    if gr.get(hi) is not None and gr[hi] > start:
        gr[hi] += n


def _shrink_range(gr: JSON, axis: int, start: int, end: int) -> None:
    lo, hi = _AXIS_KEYS[axis]
    n = end - start

    def move(i: int) -> int:
        if i <= start:
            return i
        if i >= end:
            return i - n
        return start

    if gr.get(lo) is not None:
        gr[lo] = move(gr[lo])
    if gr.get(hi) is not None:
        gr[hi] = move(gr[hi])


def _nonempty(gr: JSON) -> bool:
    return gr.get("endRowIndex", 1) > gr.get("startRowIndex", 0) and gr.get("endColumnIndex", 1) > gr.get("startColumnIndex", 0)


def _deep_merge(base: JSON, extra: JSON) -> JSON:
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _deep_merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


def _mask_wants(tree: fieldmask.Tree | None, *path: str) -> bool:
    node: Any = tree
    for key in path:
        if node is None:
            return False if tree is None else True
        if "*" in node and len(node) == 1:
            return True
        if key not in node:
            return False
        node = node[key]
    return True


def _trim_grid(out: JSON) -> None:
    """After masking, drop trailing empty cells/rows as Google's partial responses do."""
    for sheet in out.get("sheets", []) or []:
        for data in sheet.get("data", []) or []:
            rows = data.get("rowData")
            if rows is None:
                continue
            for row in rows:
                vals = row.get("values")
                if vals is not None:
                    while vals and vals[-1] == {}:
                        vals.pop()
                    if not vals:
                        del row["values"]
            while rows and rows[-1] == {}:
                rows.pop()
            if not rows:
                del data["rowData"]
