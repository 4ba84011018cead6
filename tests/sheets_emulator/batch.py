"""spreadsheets.batchUpdate: each request kind applied to the state, all-or-nothing.

Error messages follow Google's form ``Invalid requests[i].<kind>: <reason>`` so code that shows
API errors to users is tested against realistic text.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from . import cells
from . import fields as fieldmask
from .store import DEFAULT_COL_PX, JSON, ApiError, Bounds, Sheet, Spreadsheet, bad_request, out_range

Handler = Callable[[Spreadsheet, JSON, str], JSON]
HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def apply(ss: Spreadsheet, body: JSON) -> JSON:
    """Run every request; on any error nothing is kept (Google's batchUpdate is atomic)."""
    requests = body.get("requests") or []
    if not requests:
        raise bad_request("Must specify at least one request.")
    live = list(ss.sheets)
    snapshot = (copy.deepcopy(ss.properties), [s.snapshot() for s in live], copy.deepcopy(ss.named_ranges),
                copy.deepcopy(ss.developer_metadata))
    replies: list[JSON] = []
    try:
        for i, req in enumerate(requests):
            kinds = [k for k, v in req.items() if v is not None]
            if len(kinds) != 1:
                raise bad_request(f"Invalid requests[{i}]: No request set.")
            kind = kinds[0]
            fn = HANDLERS.get(kind)
            if fn is None:
                raise bad_request(f"Invalid requests[{i}].{kind}: this request is not supported by the emulator.")
            where = f"Invalid requests[{i}].{kind}: "
            replies.append(fn(ss, req[kind] or {}, where))
    except Exception:
        ss.properties, ss.sheets, ss.named_ranges, ss.developer_metadata = snapshot
        raise
    finally:
        for sheet in live:
            sheet.cow = None
    ss.touch()
    out: JSON = {"spreadsheetId": ss.id, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        out["updatedSpreadsheet"] = ss.resource(bool(body.get("responseIncludeGridData")),
                                                body.get("responseRanges") or None)
    return out


def _mask(fields: str | None, where: str) -> fieldmask.Tree | None:
    if not fields:
        raise bad_request(f"{where}At least one field must be updated. Specify 'fields' as '*' to update all fields.") \
            if fields is not None else bad_request(f"{where}'fields' is required.")
    try:
        return fieldmask.parse(fields)
    except fieldmask.FieldMaskError:
        raise bad_request(f"{where}Invalid field mask: {fields}") from None


def _assign(target: JSON, source: JSON, tree: fieldmask.Tree | None) -> None:
    """Copy masked fields from source to target; masked fields absent from source are cleared."""
    if tree is None:
        target.clear()
        target.update(copy.deepcopy(source))
        return
    for key, sub in tree.items():
        if key == "*":
            _assign(target, source, None)
            continue
        if sub is None or not isinstance(source.get(key, {}), dict):
            if key in source and source[key] is not None:
                target[key] = copy.deepcopy(source[key])
            else:
                target.pop(key, None)
        else:
            child = target.setdefault(key, {})
            if not isinstance(child, dict):
                child = target[key] = {}
            _assign(child, source.get(key) or {}, sub)
            if not child:
                target.pop(key, None)


# -- sheets ------------------------------------------------------------------------------------


def _check_title(ss: Spreadsheet, title: str, where: str, skip: Sheet | None = None) -> None:
    if not str(title).strip():
        raise bad_request(f"{where}The sheet name cannot be empty.")
    for s in ss.sheets:
        if s is not skip and s.title.lower() == str(title).lower():
            raise bad_request(f"{where}A sheet with the name \"{title}\" already exists. Please enter another name.")


@handler("addSheet")
def add_sheet(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    props = copy.deepcopy(req.get("properties") or {})
    if "title" in props:
        _check_title(ss, props["title"], where)
    if "sheetId" in props and any(s.sheet_id == props["sheetId"] for s in ss.sheets):
        raise bad_request(f"{where}Sheet with id {props['sheetId']} already exists.")
    for key in ("tabColor",):
        if key in props:
            props[key] = cells.norm_color(props[key])
            props.setdefault("tabColorStyle", {"rgbColor": props[key]})
    sheet = ss.add_sheet(props)
    return {"addSheet": {"properties": copy.deepcopy(sheet.props)}}


@handler("deleteSheet")
def delete_sheet(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    sid = int(req.get("sheetId") or 0)
    sheet = next((s for s in ss.sheets if s.sheet_id == sid), None)
    if sheet is None:
        raise bad_request(f"{where}No sheet with id: {sid}")
    if len(ss.sheets) == 1:
        raise bad_request(f"{where}You can't remove all the sheets in a document.")
    ss.sheets.remove(sheet)
    ss.named_ranges = [n for n in ss.named_ranges if int(n["range"].get("sheetId", 0)) != sid]
    ss.reindex()
    if all(s.props.get("hidden") for s in ss.sheets):
        ss.sheets[0].props.pop("hidden", None)
    return {}


@handler("duplicateSheet")
def duplicate_sheet(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    src = ss.sheet_by_id(req.get("sourceSheetId"), where)
    title = req.get("newSheetName") or f"Copy of {src.title}"
    _check_title(ss, title, where)
    new = copy.deepcopy(src)
    new.props["title"] = title
    new.props["sheetId"] = req.get("newSheetId") or ss.new_id()
    idx = req.get("insertSheetIndex", src.props["index"] + 1)
    for chart in new.charts:
        chart["chartId"] = ss.new_id()
    ss.sheets.insert(max(0, min(int(idx), len(ss.sheets))), new)
    ss.reindex()
    return {"duplicateSheet": {"properties": copy.deepcopy(new.props)}}


@handler("updateSheetProperties")
def update_sheet_properties(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    props = req.get("properties") or {}
    sheet = ss.sheet_by_id(props.get("sheetId"), where)
    tree = _mask(req.get("fields"), where)
    new = copy.deepcopy(sheet.props)
    incoming = copy.deepcopy(props)
    if "tabColor" in incoming and incoming["tabColor"]:
        incoming["tabColor"] = cells.norm_color(incoming["tabColor"])
    if "tabColorStyle" in incoming and incoming["tabColorStyle"] and "rgbColor" in incoming["tabColorStyle"]:
        incoming["tabColorStyle"] = {"rgbColor": cells.norm_color(incoming["tabColorStyle"]["rgbColor"])}
    _assign(new, incoming, tree)
    new["sheetId"] = sheet.sheet_id
    new.setdefault("sheetType", sheet.props.get("sheetType", "GRID"))
    if new.get("title") != sheet.title:
        _check_title(ss, new.get("title", ""), where, skip=sheet)
    # Google mirrors tabColor <-> tabColorStyle.
    touched = set(tree) if tree is not None else {"tabColorStyle"} if "tabColorStyle" in incoming else {"tabColor"}
    if "tabColorStyle" in touched:
        style = new.get("tabColorStyle") or {}
        if style.get("rgbColor") is not None:
            new["tabColor"] = style["rgbColor"]
        elif style.get("themeColor"):
            new.pop("tabColor", None)
        else:
            new.pop("tabColor", None)
            new.pop("tabColorStyle", None)
    elif "tabColor" in touched:
        if new.get("tabColor") is not None:
            new["tabColorStyle"] = {"rgbColor": new["tabColor"]}
        else:
            new.pop("tabColor", None)
            new.pop("tabColorStyle", None)
    if not new.get("hidden"):
        new.pop("hidden", None)
    elif all(s.props.get("hidden") for s in ss.sheets if s is not sheet):
        raise bad_request(f"{where}You can't hide all the sheets in a document.")
    grid = new.get("gridProperties") or {}
    for key in ("frozenRowCount", "frozenColumnCount"):
        if key in grid and not grid[key]:
            del grid[key]
    for key in ("hideGridlines", "rowGroupControlAfter", "columnGroupControlAfter"):
        if key in grid and grid[key] is False:
            del grid[key]
    if sheet.props.get("sheetType", "GRID") == "GRID":
        rows, cols = int(grid.get("rowCount", sheet.rows)), int(grid.get("columnCount", sheet.cols))
        if rows < 1 or cols < 1:
            raise bad_request(f"{where}Invalid grid properties: rowCount and columnCount must be positive.")
        if grid.get("frozenRowCount", 0) >= rows or grid.get("frozenColumnCount", 0) >= cols:
            raise bad_request(f"{where}You can't freeze all visible rows on the sheet.")
        sheet.cells = {k: v for k, v in sheet.cells.items() if k[0] < rows and k[1] < cols}
        sheet.merges = [m for m in sheet.merges if m["endRowIndex"] <= rows and m["endColumnIndex"] <= cols]
        new["gridProperties"] = grid
    old_index = sheet.props["index"]
    new_index = int(new.get("index", old_index))
    sheet.props = {"sheetId": new["sheetId"], "title": new["title"], "index": old_index, "sheetType": new["sheetType"],
                   **{k: v for k, v in new.items() if k not in ("sheetId", "title", "index", "sheetType")}}
    if new_index != old_index:
        ss.sheets.remove(sheet)
        # Google's index is the position before the move (moving right counts the sheet itself).
        if new_index > old_index:
            new_index -= 1
        ss.sheets.insert(max(0, min(new_index, len(ss.sheets))), sheet)
        ss.reindex()
    return {}


@handler("updateSpreadsheetProperties")
def update_spreadsheet_properties(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    tree = _mask(req.get("fields"), where)
    _assign(ss.properties, req.get("properties") or {}, tree)
    return {}


# -- cells ----------------------------------------------------------------------------------


def _cell_fields(cell: JSON, source: JSON, tree: fieldmask.Tree | None) -> None:
    src = copy.deepcopy(source)
    if "userEnteredFormat" in src and isinstance(src["userEnteredFormat"], dict):
        src["userEnteredFormat"] = cells.norm_format(src["userEnteredFormat"])
    if tree is not None and "userEnteredFormat" in tree and isinstance(tree["userEnteredFormat"], dict):
        # A masked colour also sets its *Style twin (and vice versa), as the real API does.
        sub = dict(tree["userEnteredFormat"])
        for a, b in (("backgroundColor", "backgroundColorStyle"),):
            if a in sub or b in sub:
                sub[a] = sub[b] = None
        if "textFormat" in sub and isinstance(sub["textFormat"], dict):
            tf = dict(sub["textFormat"])
            if "foregroundColor" in tf or "foregroundColorStyle" in tf:
                tf["foregroundColor"] = tf["foregroundColorStyle"] = None
            sub["textFormat"] = tf
        tree = {**tree, "userEnteredFormat": sub}
    _assign(cell, src, tree)
    uev = cell.get("userEnteredValue")
    if uev is not None and not uev:
        del cell["userEnteredValue"]
    for key in ("note",):
        if cell.get(key) == "":
            del cell[key]
    fmt = cell.get("userEnteredFormat")
    if fmt is not None and not fmt:
        del cell["userEnteredFormat"]


def _write_cells(sheet: Sheet, sr: int, sc: int, rows: list[JSON], tree: fieldmask.Tree | None,
                 bounds: tuple[int, int] | None, where: str) -> None:
    if bounds is not None:
        er, ec = bounds
        for r in range(sr, er):
            row = rows[r - sr] if r - sr < len(rows) else {}
            values = row.get("values") or []
            for c in range(sc, ec):
                src = values[c - sc] if c - sc < len(values) else {}
                _cell_fields(sheet.cell(r, c), src, tree)
                sheet.prune(r, c)
        return
    for i, row in enumerate(rows):
        for j, src in enumerate(row.get("values") or []):
            r, c = sr + i, sc + j
            if r >= sheet.rows or c >= sheet.cols:
                raise Spreadsheet.grid_error(sheet, r, r + 1, c, c + 1)
            _cell_fields(sheet.cell(r, c), src, tree)
            sheet.prune(r, c)


def _check_values(cell: JSON, where: str) -> None:
    uev = cell.get("userEnteredValue")
    if isinstance(uev, dict) and len([k for k in uev if uev[k] is not None]) > 1:
        raise bad_request(f"{where}Only one value type may be set in userEnteredValue.")


@handler("updateCells")
def update_cells(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    tree = _mask(req.get("fields"), where)
    rows = req.get("rows") or []
    for row in rows:
        for cell in row.get("values") or []:
            _check_values(cell, where)
    if req.get("range") is not None:
        b = ss.grid_range(req["range"], where)
        _write_cells(b.sheet, b.sr, b.sc, rows, tree, (b.er, b.ec), where)
    elif req.get("start") is not None:
        start = req["start"]
        sheet = ss.sheet_by_id(start.get("sheetId"), where)
        _write_cells(sheet, int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0)), rows, tree, None, where)
    else:
        raise bad_request(f"{where}Either 'start' or 'range' must be set.")
    return {}


@handler("repeatCell")
def repeat_cell(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    tree = _mask(req.get("fields"), where)
    b = ss.grid_range(req.get("range") or {}, where)
    cell = req.get("cell") or {}
    _check_values(cell, where)
    for r in range(b.sr, b.er):
        for c in range(b.sc, b.ec):
            _cell_fields(b.sheet.cell(r, c), cell, tree)
            b.sheet.prune(r, c)
    return {}


@handler("appendCells")
def append_cells(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    sheet = ss.sheet_by_id(req.get("sheetId"), where)
    tree = _mask(req.get("fields"), where)
    rows = req.get("rows") or []
    last = max((r for (r, _c), cell in sheet.cells.items() if cell), default=-1)
    need = last + 1 + len(rows) - sheet.rows
    if need > 0:
        sheet.grid["rowCount"] = sheet.rows + need
    _write_cells(sheet, last + 1, 0, rows, tree, None, where)
    return {}


@handler("updateBorders")
def update_borders(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    b = ss.grid_range(req.get("range") or {}, where)
    for r in range(b.sr, b.er):
        for c in range(b.sc, b.ec):
            borders: JSON = {}
            if r == b.sr and req.get("top"):
                borders["top"] = req["top"]
            if r == b.er - 1 and req.get("bottom"):
                borders["bottom"] = req["bottom"]
            if c == b.sc and req.get("left"):
                borders["left"] = req["left"]
            if c == b.ec - 1 and req.get("right"):
                borders["right"] = req["right"]
            if r > b.sr and req.get("innerHorizontal"):
                borders["top"] = req["innerHorizontal"]
            if r < b.er - 1 and req.get("innerHorizontal"):
                borders["bottom"] = req["innerHorizontal"]
            if c > b.sc and req.get("innerVertical"):
                borders["left"] = req["innerVertical"]
            if c < b.ec - 1 and req.get("innerVertical"):
                borders["right"] = req["innerVertical"]
            if borders:
                fmt = b.sheet.cell(r, c).setdefault("userEnteredFormat", {})
                fmt.setdefault("borders", {}).update(copy.deepcopy(borders))
    return {}


@handler("setDataValidation")
def set_data_validation(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    b = ss.grid_range(req.get("range") or {}, where)
    rule = req.get("rule")
    if rule is not None:
        cond = rule.get("condition") or {}
        if cond.get("type") in ("ONE_OF_LIST",) and not cond.get("values"):
            raise bad_request(f"{where}Invalid ConditionType ONE_OF_LIST: at least one value is required.")
    for r in range(b.sr, b.er):
        for c in range(b.sc, b.ec):
            cell = b.sheet.cell(r, c)
            if rule is None:
                cell.pop("dataValidation", None)
            else:
                cell["dataValidation"] = copy.deepcopy(rule)
            b.sheet.prune(r, c)
    return {}


# -- conditional formats ---------------------------------------------------------------------


def _rule_sheet(ss: Spreadsheet, rule: JSON, where: str) -> Sheet:
    ranges = rule.get("ranges") or []
    if not ranges:
        raise bad_request(f"{where}At least one range must be specified.")
    sids = {int(r.get("sheetId", 0) or 0) for r in ranges}
    if len(sids) != 1:
        raise bad_request(f"{where}All ranges must be on the same sheet.")
    for r in ranges:
        ss.grid_range(r, where)
    if not rule.get("booleanRule") and not rule.get("gradientRule"):
        raise bad_request(f"{where}Either booleanRule or gradientRule must be set.")
    return ss.sheet_by_id(sids.pop(), where)


def _norm_rule(rule: JSON) -> JSON:
    out = copy.deepcopy(rule)
    out["ranges"] = [{k: v for k, v in r.items() if v is not None} for r in out.get("ranges", [])]
    for r in out["ranges"]:
        r.setdefault("sheetId", 0)
    if "booleanRule" in out and "format" in out["booleanRule"]:
        out["booleanRule"]["format"] = cells.norm_format(out["booleanRule"]["format"])
    return out


@handler("addConditionalFormatRule")
def add_conditional_format_rule(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    rule = req.get("rule") or {}
    sheet = _rule_sheet(ss, rule, where)
    index = int(req.get("index", 0) or 0)
    if index > len(sheet.conditional_formats):
        raise bad_request(f"{where}Invalid index: {index}")
    sheet.conditional_formats.insert(index, _norm_rule(rule))
    return {}


@handler("updateConditionalFormatRule")
def update_conditional_format_rule(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    sheet = ss.sheet_by_id(req.get("sheetId"), where)
    index = int(req.get("index", 0) or 0)
    if not 0 <= index < len(sheet.conditional_formats):
        raise bad_request(f"{where}No conditional format on sheet: {sheet.sheet_id} at index: {index}")
    old = sheet.conditional_formats[index]
    if req.get("rule") is not None:
        _rule_sheet(ss, req["rule"], where)
        new = _norm_rule(req["rule"])
        sheet.conditional_formats[index] = new
        if req.get("newIndex") is not None:
            sheet.conditional_formats.insert(int(req["newIndex"]), sheet.conditional_formats.pop(index))
        return {"updateConditionalFormatRule": {"newRule": _out_rule(new), "oldRule": _out_rule(old),
                                                "newIndex": req.get("newIndex", index)}}
    if req.get("newIndex") is not None:
        sheet.conditional_formats.insert(int(req["newIndex"]), sheet.conditional_formats.pop(index))
    return {"updateConditionalFormatRule": {"newRule": _out_rule(old), "oldIndex": index,
                                            "newIndex": req.get("newIndex", index)}}


def _out_rule(rule: JSON) -> JSON:
    out = copy.deepcopy(rule)
    out["ranges"] = [out_range(r) for r in out.get("ranges", [])]
    return out


@handler("deleteConditionalFormatRule")
def delete_conditional_format_rule(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    sheet = ss.sheet_by_id(req.get("sheetId"), where)
    index = int(req.get("index", 0) or 0)
    if not 0 <= index < len(sheet.conditional_formats):
        raise bad_request(f"{where}No conditional format on sheet: {sheet.sheet_id} at index: {index}")
    rule = sheet.conditional_formats.pop(index)
    return {"deleteConditionalFormatRule": {"rule": _out_rule(rule)}}


# -- charts --------------------------------------------------------------------------------


@handler("addChart")
def add_chart(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    chart = copy.deepcopy(req.get("chart") or {})
    spec = chart.get("spec")
    if not spec:
        raise bad_request(f"{where}The chart must have a spec.")
    for source in _chart_sources(spec):
        ss.grid_range(source, where)
    chart_id = chart.get("chartId") or ss.new_id()
    if any(c.get("chartId") == chart_id for s in ss.sheets for c in s.charts):
        raise bad_request(f"{where}An object with id {chart_id} already exists.")
    position = chart.get("position") or {"newSheet": True}
    if position.get("newSheet"):
        host = ss.add_sheet({"sheetType": "OBJECT", "title": f"Chart{sum(1 for s in ss.sheets if s.props.get('sheetType') == 'OBJECT') + 1}"})
        position = {"sheetId": host.sheet_id}
    elif "sheetId" in position:
        host = ss.sheet_by_id(position["sheetId"], where)
    else:
        overlay = position.get("overlayPosition") or {}
        anchor = overlay.get("anchorCell") or {}
        host = ss.sheet_by_id(anchor.get("sheetId"), where)
        overlay.setdefault("widthPixels", 600)
        overlay.setdefault("heightPixels", 371)
        anchor.setdefault("sheetId", host.sheet_id)
        if anchor.get("rowIndex", 0) >= host.rows or anchor.get("columnIndex", 0) >= host.cols:
            raise bad_request(f"{where}The anchor cell is outside the grid.")
    out = {"chartId": chart_id, "spec": spec, "position": position}
    if chart.get("border"):
        out["border"] = chart["border"]
    host.charts.append(out)
    return {"addChart": {"chart": copy.deepcopy(out)}}


def _chart_sources(spec: JSON) -> list[JSON]:
    found: list[JSON] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "sourceRange" in node and isinstance(node["sourceRange"], dict):
                found.extend(node["sourceRange"].get("sources") or [])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    return found


@handler("updateChartSpec")
def update_chart_spec(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    for s in ss.sheets:
        for chart in s.charts:
            if chart["chartId"] == req.get("chartId"):
                chart["spec"] = copy.deepcopy(req.get("spec") or {})
                return {}
    raise bad_request(f"{where}No chart with id: {req.get('chartId')}")


@handler("deleteEmbeddedObject")
def delete_embedded_object(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    object_id = req.get("objectId")
    for s in list(ss.sheets):
        for chart in s.charts:
            if chart["chartId"] == object_id:
                s.charts.remove(chart)
                if s.props.get("sheetType") == "OBJECT" and not s.charts and len(ss.sheets) > 1:
                    ss.sheets.remove(s)
                    ss.reindex()
                return {}
    raise bad_request(f"{where}No object with id: {object_id}")


# -- dimensions -------------------------------------------------------------------------------


def _dim_range(ss: Spreadsheet, dr: JSON, where: str) -> tuple[Sheet, str, int, int]:
    sheet = ss.sheet_by_id(dr.get("sheetId"), where)
    dim = dr.get("dimension")
    if dim not in ("ROWS", "COLUMNS"):
        raise bad_request(f"{where}Invalid dimension: {dim}")
    limit = sheet.rows if dim == "ROWS" else sheet.cols
    start = int(dr.get("startIndex", 0) or 0)
    end = int(dr["endIndex"]) if dr.get("endIndex") is not None else limit
    if start < 0 or end < start:
        raise bad_request(f"{where}Invalid dimension range: startIndex must be less than endIndex.")
    return sheet, dim, start, end


@handler("updateDimensionProperties")
def update_dimension_properties(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    dr = req.get("range") or req.get("dataSourceSheetRange") or {}
    sheet, dim, start, end = _dim_range(ss, dr, where)
    limit = sheet.rows if dim == "ROWS" else sheet.cols
    if end > limit:
        raise bad_request(f"{where}Invalid dimension range: endIndex {end} is beyond the grid size {limit}.")
    tree = _mask(req.get("fields"), where)
    meta = sheet.row_meta if dim == "ROWS" else sheet.col_meta
    for i in range(start, end):
        entry = meta.setdefault(i, {})
        _assign(entry, req.get("properties") or {}, tree)
        if not entry:
            del meta[i]
    return {}


# Arial advance widths (1/1000 em) for ASCII; other characters use the fallbacks below.
_ARIAL = dict(zip(
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, *[556] * 10, 278, 278, 584,
     584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722,
     667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556,
     222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584],
    strict=True))
# Pixels per 1/1000 em at the default 10pt font and the cell's horizontal padding, fitted to Google's
# answer for autoResize over 1024 'A's (8691 px).
_PX_PER_UNIT = 0.012716
_PADDING_PX = 6


def _text_width(value: str) -> int:
    """The width Sheets' autoResize gives a column holding this text (Arial 10, single line)."""
    widest = 0.0
    for line in value.split("\n"):
        units = sum(_ARIAL.get(ch, 1000 if ord(ch) > 0x2E80 else 556) for ch in line)
        widest = max(widest, units)
    return round(widest * _PX_PER_UNIT) + _PADDING_PX


@handler("autoResizeDimensions")
def auto_resize_dimensions(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    dr = req.get("dimensions") or {}
    sheet, dim, start, end = _dim_range(ss, dr, where)
    axis = 0 if dim == "ROWS" else 1
    meta = sheet.row_meta if axis == 0 else sheet.col_meta
    for i in range(start, end):
        texts = [ss.render(sheet, r, c, "FORMATTED_VALUE", "SERIAL_NUMBER")
                 for (r, c) in sheet.cells if (r, c)[axis] == i]
        texts = [t for t in texts if t]
        if axis == 1:
            size = max(_text_width(str(t)) for t in texts) if texts else DEFAULT_COL_PX
        else:
            size = max((21 * (str(t).count("\n") + 1) for t in texts), default=21)
        meta.setdefault(i, {})["pixelSize"] = size
    return {}


@handler("appendDimension")
def append_dimension(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    sheet = ss.sheet_by_id(req.get("sheetId"), where)
    length = int(req.get("length", 0) or 0)
    if length <= 0:
        raise bad_request(f"{where}length must be greater than 0.")
    key = "rowCount" if req.get("dimension") == "ROWS" else "columnCount"
    sheet.grid[key] = int(sheet.grid.get(key, 0)) + length
    return {}


@handler("insertDimension")
def insert_dimension(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    sheet, dim, start, end = _dim_range(ss, req.get("range") or {}, where)
    limit = sheet.rows if dim == "ROWS" else sheet.cols
    if start > limit:
        raise bad_request(f"{where}Invalid dimension range: startIndex {start} is beyond the grid size {limit}.")
    if req.get("inheritFromBefore") and start == 0:
        raise bad_request(f"{where}Cannot inherit from before the first row or column.")
    ss.insert_dimension(sheet, dim, start, end)
    return {}


@handler("deleteDimension")
def delete_dimension(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    sheet, dim, start, end = _dim_range(ss, req.get("range") or {}, where)
    limit = sheet.rows if dim == "ROWS" else sheet.cols
    if end > limit:
        raise bad_request(f"{where}Invalid dimension range: endIndex {end} is beyond the grid size {limit}.")
    if end - start >= limit:
        raise bad_request(f"{where}You can't delete all the {dim.lower()} on the sheet.")
    ss.delete_dimension(sheet, dim, start, end)
    return {}


@handler("moveDimension")
def move_dimension(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    sheet, dim, start, end = _dim_range(ss, req.get("source") or {}, where)
    dest = int(req.get("destinationIndex", 0))
    axis = 0 if dim == "ROWS" else 1
    order = list(range(sheet.rows if axis == 0 else sheet.cols))
    moved = order[start:end]
    rest = order[:start] + order[end:]
    insert_at = dest if dest <= start else dest - (end - start)
    new_order = rest[:insert_at] + moved + rest[insert_at:]
    position = {old: new for new, old in enumerate(new_order)}
    sheet.cells = {((position[k[0]], k[1]) if axis == 0 else (k[0], position[k[1]])): v for k, v in sheet.cells.items()}
    return {}


@handler("addDimensionGroup")
def add_dimension_group(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    sheet, dim, start, end = _dim_range(ss, req.get("range") or {}, where)
    groups = sheet.row_groups if dim == "ROWS" else sheet.column_groups
    depth = 1 + sum(1 for g in groups if g["range"]["startIndex"] <= start and end <= g["range"]["endIndex"])
    rng = {"sheetId": sheet.sheet_id, "dimension": dim, "startIndex": start, "endIndex": end}
    groups.append({"range": rng, "depth": depth})
    # Google switches the +/- control to after the group the first time a group is added.
    sheet.grid.setdefault("rowGroupControlAfter" if dim == "ROWS" else "columnGroupControlAfter", True)
    groups.sort(key=lambda g: (g["depth"], g["range"]["startIndex"]))
    return {"addDimensionGroup": {"dimensionGroups": [_group_reply(g) for g in groups]}}


def _group_reply(g: JSON) -> JSON:
    rng = {k: v for k, v in g["range"].items() if not (k == "sheetId" and not v)}
    out = {"range": rng, "depth": g["depth"]}
    if g.get("collapsed"):
        out["collapsed"] = True
    return out


@handler("deleteDimensionGroup")
def delete_dimension_group(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    sheet, dim, start, end = _dim_range(ss, req.get("range") or {}, where)
    groups = sheet.row_groups if dim == "ROWS" else sheet.column_groups
    match = [g for g in groups if g["range"]["startIndex"] == start and g["range"]["endIndex"] == end]
    if not match:
        raise bad_request(f"{where}No dimension group in the specified range.")
    deepest = max(match, key=lambda g: g["depth"])
    groups.remove(deepest)
    return {"deleteDimensionGroup": {"dimensionGroups": [_group_reply(g) for g in groups]} if groups else {}}


# -- merges, filters, protection, named ranges ------------------------------------------------


def _overlaps(a: JSON, b: JSON) -> bool:
    return not (a["endRowIndex"] <= b["startRowIndex"] or b["endRowIndex"] <= a["startRowIndex"]
                or a["endColumnIndex"] <= b["startColumnIndex"] or b["endColumnIndex"] <= a["startColumnIndex"])


def _closed(b: Bounds) -> JSON:
    return {"sheetId": b.sheet.sheet_id, "startRowIndex": b.sr, "endRowIndex": b.er,
            "startColumnIndex": b.sc, "endColumnIndex": b.ec}


@handler("mergeCells")
def merge_cells(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    b = ss.grid_range(req.get("range") or {}, where)
    kind = req.get("mergeType", "MERGE_ALL")
    pieces: list[JSON] = []
    if kind == "MERGE_ALL":
        pieces.append(_closed(b))
    elif kind == "MERGE_ROWS":
        pieces.extend({**_closed(b), "startRowIndex": r, "endRowIndex": r + 1} for r in range(b.sr, b.er))
    elif kind == "MERGE_COLUMNS":
        pieces.extend({**_closed(b), "startColumnIndex": c, "endColumnIndex": c + 1} for c in range(b.sc, b.ec))
    else:
        raise bad_request(f"{where}Invalid mergeType: {kind}")
    pieces = [p for p in pieces if (p["endRowIndex"] - p["startRowIndex"]) * (p["endColumnIndex"] - p["startColumnIndex"]) > 1]
    if not pieces:
        raise bad_request(f"{where}Must merge at least two cells.")
    for p in pieces:
        for m in b.sheet.merges:
            if _overlaps(m, p) and not _inside(m, p):
                raise bad_request(f"{where}You can't merge cells that are already merged with other cells. "
                                  "Please unmerge them first.")
    b.sheet.merges = [m for m in b.sheet.merges if not any(_overlaps(m, p) for p in pieces)]
    for p in pieces:
        for (r, c) in list(b.sheet.cells):
            if p["startRowIndex"] <= r < p["endRowIndex"] and p["startColumnIndex"] <= c < p["endColumnIndex"] \
                    and (r, c) != (p["startRowIndex"], p["startColumnIndex"]):
                b.sheet.cell(r, c).pop("userEnteredValue", None)
                b.sheet.prune(r, c)
        b.sheet.merges.append(p)
    return {}


def _inside(inner: JSON, outer: JSON) -> bool:
    return (outer["startRowIndex"] <= inner["startRowIndex"] and inner["endRowIndex"] <= outer["endRowIndex"]
            and outer["startColumnIndex"] <= inner["startColumnIndex"] and inner["endColumnIndex"] <= outer["endColumnIndex"])


@handler("unmergeCells")
def unmerge_cells(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    b = ss.grid_range(req.get("range") or {}, where)
    target = _closed(b)
    for m in b.sheet.merges:
        if _overlaps(m, target) and not _inside(m, target):
            raise bad_request(f"{where}You must select all cells in a merged range to merge or unmerge them.")
    b.sheet.merges = [m for m in b.sheet.merges if not _inside(m, target)]
    return {}


@handler("setBasicFilter")
def set_basic_filter(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    flt = copy.deepcopy(req.get("filter") or {})
    b = ss.grid_range(flt.get("range") or {}, where)
    flt["range"] = _closed(b)
    b.sheet.basic_filter = flt
    return {}


@handler("clearBasicFilter")
def clear_basic_filter(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    ss.sheet_by_id(req.get("sheetId"), where).basic_filter = None
    return {}


@handler("addProtectedRange")
def add_protected_range(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    pr = copy.deepcopy(req.get("protectedRange") or {})
    if "range" not in pr:
        raise bad_request(f"{where}A range must be specified.")
    b = ss.grid_range(pr["range"], where)
    pr["range"] = {k: v for k, v in pr["range"].items() if v is not None}
    pr["range"].setdefault("sheetId", b.sheet.sheet_id)
    pr["protectedRangeId"] = pr.get("protectedRangeId") or ss.new_id()
    pr["requestingUserCanEdit"] = True
    if not pr.get("warningOnly"):
        pr.pop("warningOnly", None)
    given = pr.pop("editors", None) or {}
    ordered = {"protectedRangeId": pr.pop("protectedRangeId"), "range": pr.pop("range")}
    ordered.update(pr)
    # The reply shows no editors; the stored range lists the caller (its owner) first, as Google does.
    reply = copy.deepcopy(ordered)
    reply["range"] = out_range(reply["range"])
    reply["editors"] = {}
    users = [u for u in [ss.actor, *(given.get("users") or [])] if u]
    editors: JSON = {"users": list(dict.fromkeys(users))} if users else {}
    if given.get("groups"):
        editors["groups"] = list(given["groups"])
    if given.get("domainUsersCanEdit"):
        editors["domainUsersCanEdit"] = True
    ordered["editors"] = editors
    b.sheet.protected_ranges.append(ordered)
    return {"addProtectedRange": {"protectedRange": reply}}


@handler("deleteProtectedRange")
def delete_protected_range(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    pid = req.get("protectedRangeId")
    for s in ss.sheets:
        for p in s.protected_ranges:
            if p["protectedRangeId"] == pid:
                s.protected_ranges.remove(p)
                return {}
    raise bad_request(f"{where}No protected range with id: {pid}")


@handler("updateProtectedRange")
def update_protected_range(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    pr = req.get("protectedRange") or {}
    tree = _mask(req.get("fields"), where)
    for s in ss.sheets:
        for p in s.protected_ranges:
            if p["protectedRangeId"] == pr.get("protectedRangeId"):
                _assign(p, pr, tree)
                p["protectedRangeId"] = pr["protectedRangeId"]
                return {}
    raise bad_request(f"{where}No protected range with id: {pr.get('protectedRangeId')}")


@handler("addNamedRange")
def add_named_range(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    nr = copy.deepcopy(req.get("namedRange") or {})
    name = nr.get("name", "")
    if any(n["name"].lower() == str(name).lower() for n in ss.named_ranges):
        raise bad_request(f"{where}A named range with the name \"{name}\" already exists.")
    b = ss.grid_range(nr.get("range") or {}, where)
    rng = {k: v for k, v in (nr.get("range") or {}).items() if v is not None}
    rng.setdefault("sheetId", b.sheet.sheet_id)
    entry = {"namedRangeId": str(nr.get("namedRangeId") or ss.new_id()), "name": name, "range": rng}
    ss.named_ranges.append(entry)
    return {"addNamedRange": {"namedRange": {**entry, "range": out_range(rng)}}}


@handler("updateNamedRange")
def update_named_range(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    nr = req.get("namedRange") or {}
    tree = _mask(req.get("fields"), where)
    for n in ss.named_ranges:
        if n["namedRangeId"] == nr.get("namedRangeId"):
            src = copy.deepcopy(nr)
            if "range" in src:
                src["range"] = {k: v for k, v in src["range"].items() if v is not None}
                src["range"].setdefault("sheetId", 0)
            _assign(n, src, tree)
            n["namedRangeId"] = nr["namedRangeId"]
            return {}
    raise bad_request(f"{where}No named range with id: {nr.get('namedRangeId')}")


@handler("deleteNamedRange")
def delete_named_range(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    nid = req.get("namedRangeId")
    before = len(ss.named_ranges)
    ss.named_ranges = [n for n in ss.named_ranges if n["namedRangeId"] != nid]
    if len(ss.named_ranges) == before:
        raise bad_request(f"{where}No named range with id: {nid}")
    return {}


# -- copy, cut, sort ---------------------------------------------------------------------------

_PASTE_FIELDS = {
    "PASTE_NORMAL": None,
    "PASTE_VALUES": ("userEnteredValue",),
    "PASTE_FORMAT": ("userEnteredFormat",),
    "PASTE_NO_BORDERS": None,
    "PASTE_FORMULA": ("userEnteredValue",),
    "PASTE_DATA_VALIDATION": ("dataValidation",),
    "PASTE_CONDITIONAL_FORMATTING": (),
}


def _paste(dest_sheet: Sheet, r: int, c: int, src: JSON, paste_type: str) -> None:
    keys = _PASTE_FIELDS.get(paste_type)
    cell = dest_sheet.cell(r, c)
    if keys is None:
        cell.clear()
        cell.update(copy.deepcopy(src))
    else:
        for k in keys:
            if k in src:
                cell[k] = copy.deepcopy(src[k])
            else:
                cell.pop(k, None)
    dest_sheet.prune(r, c)


@handler("copyPaste")
def copy_paste(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    src = ss.grid_range(req.get("source") or {}, where)
    dst = ss.grid_range(req.get("destination") or {}, where)
    paste_type = req.get("pasteType", "PASTE_NORMAL")
    h, w = src.er - src.sr, src.ec - src.sc
    snapshot = {(r - src.sr, c - src.sc): copy.deepcopy(src.sheet.cells.get((r, c), {}))
                for r in range(src.sr, src.er) for c in range(src.sc, src.ec)}
    transpose = req.get("pasteOrientation") == "TRANSPOSE"
    rows = max(dst.er - dst.sr, w if transpose else h)
    cols = max(dst.ec - dst.sc, h if transpose else w)
    for i in range(rows):
        for j in range(cols):
            r, c = dst.sr + i, dst.sc + j
            if r >= dst.sheet.rows or c >= dst.sheet.cols:
                continue
            key = (j % h, i % w) if transpose else (i % h, j % w)
            _paste(dst.sheet, r, c, snapshot[key], paste_type)
    return {}


@handler("cutPaste")
def cut_paste(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    src = ss.grid_range(req.get("source") or {}, where)
    dest = req.get("destination") or {}
    dst_sheet = ss.sheet_by_id(dest.get("sheetId"), where)
    paste_type = req.get("pasteType", "PASTE_NORMAL")
    snapshot = {(r - src.sr, c - src.sc): src.sheet.cells.pop((r, c), {})
                for r in range(src.sr, src.er) for c in range(src.sc, src.ec)}
    r0, c0 = int(dest.get("rowIndex", 0)), int(dest.get("columnIndex", 0))
    for (i, j), cell in snapshot.items():
        if r0 + i < dst_sheet.rows and c0 + j < dst_sheet.cols:
            _paste(dst_sheet, r0 + i, c0 + j, cell, paste_type)
    return {}


def _sort_key(value: Any, descending: bool) -> tuple[int, Any]:
    # Sheets orders numbers < text < booleans, blanks always last.
    if value is None or value == "":
        return (3, 0)
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, float):
        return (0, value)
    return (1, str(value).lower())


@handler("sortRange")
def sort_range(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    b = ss.grid_range(req.get("range") or {}, where)
    specs = req.get("sortSpecs") or []
    rows = [{c: b.sheet.cells.pop((r, c)) for c in range(b.sc, b.ec) if (r, c) in b.sheet.cells} for r in range(b.sr, b.er)]
    for spec in reversed(specs):
        col = int(spec.get("dimensionIndex", 0))
        desc = spec.get("sortOrder") == "DESCENDING"

        def value_of(row: JSON, col: int = col) -> Any:
            cell = row.get(col)
            if not cell or "userEnteredValue" not in cell:
                return None
            uev = cell["userEnteredValue"]
            for k in ("numberValue", "stringValue", "boolValue"):
                if k in uev:
                    return float(uev[k]) if k == "numberValue" else uev[k]
            return None

        blanks = [r for r in rows if value_of(r) is None]
        filled = [r for r in rows if value_of(r) is not None]
        filled.sort(key=lambda r, f=value_of: _sort_key(f(r), desc), reverse=desc)
        rows = filled + blanks
    for i, row in enumerate(rows):
        for c, cell in row.items():
            b.sheet.cells[(b.sr + i, c)] = cell
    return {}


@handler("findReplace")
def find_replace(ss: Spreadsheet, req: JSON, where: str) -> JSON:
    find = req.get("find", "")
    if not find:
        raise bad_request(f"{where}find must not be empty.")
    replacement = req.get("replacement", "")
    if req.get("sheetId") is not None:
        targets = [ss.sheet_by_id(req["sheetId"], where)]
    elif req.get("range"):
        targets = [ss.grid_range(req["range"], where).sheet]
    else:
        targets = list(ss.sheets)
    changed = 0
    sheets_changed = 0
    match_case = bool(req.get("matchCase"))
    for sheet in targets:
        hit = False
        for key, stored in list(sheet.cells.items()):
            text = (stored.get("userEnteredValue") or {}).get("stringValue")
            if text is None:
                continue
            uev = sheet.cell(*key)["userEnteredValue"]
            hay, needle = (text, find) if match_case else (text.lower(), find.lower())
            if (req.get("matchEntireCell") and hay == needle) or (not req.get("matchEntireCell") and needle in hay):
                if req.get("matchEntireCell"):
                    uev["stringValue"] = replacement
                else:
                    uev["stringValue"] = re.sub(re.escape(find), replacement, text, flags=0 if match_case else re.I)
                changed += 1
                hit = True
        sheets_changed += hit
    reply: JSON = {}
    if changed:
        reply = {"valuesChanged": changed, "occurrencesChanged": changed, "rowsChanged": changed,
                 "sheetsChanged": sheets_changed}
    return {"findReplace": reply}


def supported() -> list[str]:
    """The batchUpdate request kinds this emulator implements."""
    return sorted(HANDLERS)


__all__ = ["ApiError", "apply", "supported"]
