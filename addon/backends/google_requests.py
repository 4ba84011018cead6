"""Pure translation between our data and Sheets API v4 JSON: cells read, and batchUpdate requests written.

Kept apart from the HTTP code so it can be tested without a server and reused by `init --google`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from addon.backends.base import STATUS_STYLE, STYLES
from addon.i18n import STATUS_LABELS
from addon.model import Cell, ChartSpec, ColumnsPatch, OutCell, StyledCell, TabSpec, Validation

EPOCH = datetime(1899, 12, 30)  # Sheets serial numbers count days from here
_LOOKS_LIKE_DATE = re.compile(r"^\s*(\d{1,4}[/\-.年]\d{1,2}([/\-.月]\d{1,4})?|\d{1,2}:\d{2})")
_PLAIN_NUMBER = re.compile(r"^\s*[-+]?[\d,]*\.?\d+(E[-+]?\d+)?\s*$", re.I)

Json = dict[str, Any]


# --- reading ----------------------------------------------------------------------------------------


def serial_to_datetime(serial: float) -> date | datetime:
    moment = EPOCH + timedelta(days=serial)
    if serial == int(serial):
        return moment.date()
    return moment.replace(microsecond=0)


def merge_cell(raw: Any, shown: Any) -> Cell:
    """One cell from the UNFORMATTED and FORMATTED renderings: what the user sees, typed where it matters.

    Text stays text (leading zeros kept); a number shown as a date becomes a date; a number shown with
    leading zeros or as a long digit string (IDs, phones) becomes exactly the shown text.
    """
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or isinstance(raw, str):
        return raw
    if isinstance(raw, int | float):
        text = shown if isinstance(shown, str) else ""
        if text and _LOOKS_LIKE_DATE.match(text) and not _PLAIN_NUMBER.match(text):
            return serial_to_datetime(float(raw))
        if text.isdigit() and ((len(text) > 1 and text.startswith("0")) or len(text) > 15):
            return text
        return raw
    return str(raw)


def merge_rows(raw_rows: Sequence[Sequence[Any]], shown_rows: Sequence[Sequence[Any]]) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for index, raw_row in enumerate(raw_rows):
        shown_row = shown_rows[index] if index < len(shown_rows) else []
        rows.append([merge_cell(v, shown_row[i] if i < len(shown_row) else None) for i, v in enumerate(raw_row)])
    return rows


# --- writing ----------------------------------------------------------------------------------------


def _colour(hex_rgb: str) -> Json:
    return {"red": int(hex_rgb[0:2], 16) / 255, "green": int(hex_rgb[2:4], 16) / 255, "blue": int(hex_rgb[4:6], 16) / 255}


def style_format(name: str | None) -> Json:
    """A named style (addon.backends.base.STYLES) as a Sheets CellFormat."""
    spec = STYLES.get(name or "", {})
    fmt: Json = {}
    text: Json = {}
    if spec.get("bold"):
        text["bold"] = True
    if spec.get("italic"):
        text["italic"] = True
    if "size" in spec:
        text["fontSize"] = spec["size"]
    if "font" in spec:
        text["foregroundColor"] = _colour(str(spec["font"]))
    if text:
        fmt["textFormat"] = text
    if "fill" in spec:
        fmt["backgroundColor"] = _colour(str(spec["fill"]))
    pattern = spec.get("num_format")
    if pattern:
        kind = "TEXT" if pattern == "@" else "PERCENT" if "%" in str(pattern) else "DATE_TIME" if "hh" in str(pattern) else "DATE" if "yy" in str(pattern) else "NUMBER"
        fmt["numberFormat"] = {"type": kind, "pattern": str(pattern)}
    return fmt


def cell_data(cell: OutCell) -> Json:
    """CellData for one value. Strings are stringValue: never parsed, so '=…' stays text (like RAW)."""
    style = None
    if isinstance(cell, StyledCell):
        style, cell = cell.style, cell.value
    fmt = style_format(style)
    value: Json | None
    if cell is None or cell == "":
        value = None
    elif isinstance(cell, bool):
        value = {"boolValue": cell}
    elif isinstance(cell, int | float):
        value = {"numberValue": cell}
    elif isinstance(cell, datetime):
        value = {"numberValue": (cell - EPOCH).total_seconds() / 86400}
        fmt.setdefault("numberFormat", style_format("datetime")["numberFormat"])
    elif isinstance(cell, date):
        value = {"numberValue": float((cell - EPOCH.date()).days)}
        fmt.setdefault("numberFormat", style_format("date")["numberFormat"])
    elif isinstance(cell, time):
        value = {"stringValue": cell.isoformat()}
    else:
        value = {"stringValue": str(cell)}
    data: Json = {}
    if value is not None:
        data["userEnteredValue"] = value
    if fmt:
        data["userEnteredFormat"] = fmt
    return data


def grid_range(sheet_id: int, row0: int, row1: int, col0: int, col1: int) -> Json:
    return {"sheetId": sheet_id, "startRowIndex": row0, "endRowIndex": row1, "startColumnIndex": col0, "endColumnIndex": col1}


def rows_request(sheet_id: int, row0: int, col0: int, rows: Sequence[Sequence[OutCell]]) -> Json:
    """updateCells for a block: values and formats replace what was there."""
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": row0, "columnIndex": col0},
            "rows": [{"values": [cell_data(c) for c in row]} for row in rows],
            "fields": "userEnteredValue,userEnteredFormat",
        }
    }


def width_requests(sheet_id: int, widths: dict[int, float]) -> list[Json]:
    return [
        {
            "updateDimensionProperties": {
                "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": col, "endIndex": col + 1},
                "properties": {"pixelSize": int(width * 7 + 10)},
                "fields": "pixelSize",
            }
        }
        for col, width in sorted(widths.items())
    ]


def validation_request(sheet_id: int, rule: Validation) -> Json:
    if rule.source_range:
        condition: Json = {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": "=" + rule.source_range.replace("$", "")}]}
    else:
        condition = {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": o} for o in rule.options]}
    return {
        "setDataValidation": {
            "range": grid_range(sheet_id, rule.first_row, rule.last_row + 1, rule.col, rule.col + 1),
            "rule": {"condition": condition, "showCustomUi": True, "strict": False},
        }
    }


def chart_request(sheet_id: int, chart: ChartSpec) -> Json:
    """A native basic chart over a block of the same tab."""
    first, last = chart.header_row, chart.header_row + chart.data_rows + 1

    def source(col: int) -> Json:
        return {"sourceRange": {"sources": [grid_range(sheet_id, first, last, col, col + 1)]}}

    kind = {"bar": "BAR", "line": "LINE", "column": "COLUMN"}[chart.kind]
    return {
        "addChart": {
            "chart": {
                "spec": {
                    "title": chart.title,
                    "basicChart": {
                        "chartType": kind,
                        "legendPosition": "BOTTOM_LEGEND",
                        "headerCount": 1,
                        "domains": [{"domain": source(chart.category_col)}],
                        "series": [{"series": source(col), "targetAxis": "BOTTOM_AXIS" if kind == "BAR" else "LEFT_AXIS"} for col in chart.value_cols],
                    },
                },
                "position": {
                    "overlayPosition": {
                        "anchorCell": {"sheetId": sheet_id, "rowIndex": chart.anchor_row, "columnIndex": chart.anchor_col},
                        "widthPixels": 560,
                        "heightPixels": 300,
                    }
                },
            }
        }
    }


def tab_requests(sheet_id: int, tab: TabSpec, old_charts: Sequence[int] = (), clear: bool = True) -> list[Json]:
    """Replace a whole owned tab in place: clear, write, size, freeze, validate, chart."""
    requests: list[Json] = [{"deleteEmbeddedObject": {"objectId": chart_id}} for chart_id in old_charts]
    if clear:
        requests.append({"updateCells": {"range": {"sheetId": sheet_id}, "fields": "userEnteredValue,userEnteredFormat"}})
    for col, style in sorted(tab.column_styles.items()):
        # Whole-column formats, so values typed later look right (IDs as text, dates as dates).
        fmt = style_format(style)
        if fmt:
            requests.append({
                "repeatCell": {
                    "range": {"sheetId": sheet_id, "startRowIndex": tab.freeze_rows, "startColumnIndex": col, "endColumnIndex": col + 1},
                    "cell": {"userEnteredFormat": fmt},
                    "fields": "userEnteredFormat",
                }
            })
    if tab.rows:
        requests.append(rows_request(sheet_id, 0, 0, tab.rows))
    requests.append(
        {
            "updateSheetProperties": {
                "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": tab.freeze_rows}},
                "fields": "gridProperties.frozenRowCount",
            }
        }
    )
    requests += width_requests(sheet_id, tab.widths)
    requests += [validation_request(sheet_id, rule) for rule in tab.validations]
    requests += [chart_request(sheet_id, chart) for chart in tab.charts]
    return requests


def tab_size(tab: TabSpec) -> tuple[int, int]:
    rows = len(tab.rows) + 20
    cols = max([len(r) for r in tab.rows] + [max(tab.widths, default=0) + 1, 8]) + 2
    for rule in tab.validations:
        rows = max(rows, rule.last_row + 1)
        cols = max(cols, rule.col + 1)
    for chart in tab.charts:
        rows = max(rows, chart.anchor_row + 20)
        cols = max(cols, chart.anchor_col + 10)
    return rows, cols


def column_requests(sheet_id: int, patch: ColumnsPatch, current: dict[tuple[int, int], Cell]) -> list[Json]:
    """updateCells only for owned cells whose value changed (`current` is what the sheet holds now)."""
    requests: list[Json] = []
    targets: dict[int, list[OutCell]] = {patch.header_row: [StyledCell(h, "header") for h in patch.headers]}
    targets.update(patch.cells)
    for row, values in sorted(targets.items()):
        for col, value in zip(patch.columns, values, strict=False):
            plain = value.value if isinstance(value, StyledCell) else value
            if _same(current.get((row, col)), plain):
                continue
            requests.append(rows_request(sheet_id, row - 1, col - 1, [[value]]))
    # Owned cells on rows that no longer hold a customer are cleared.
    for (row, col), old in current.items():
        if row > patch.header_row and row not in targets and col in patch.columns and old not in (None, ""):
            requests.append(rows_request(sheet_id, row - 1, col - 1, [[None]]))
    return _coalesce(requests)


def _same(old: Cell, new: Cell) -> bool:
    if old in (None, "") and new in (None, ""):
        return True
    if isinstance(new, datetime | date) or isinstance(old, datetime | date):
        return old == new
    if isinstance(new, int | float) and isinstance(old, int | float) and not isinstance(new, bool):
        return float(old) == float(new)
    return old == new


def _coalesce(requests: list[Json]) -> list[Json]:
    """Merge single-cell updates that sit side by side in one row into one request (fewer, larger requests)."""
    merged: list[Json] = []
    for request in requests:
        start = request["updateCells"]["start"]
        if merged:
            last = merged[-1]["updateCells"]
            last_start = last["start"]
            width = len(last["rows"][0]["values"])
            if (
                len(last["rows"]) == 1
                and last_start["rowIndex"] == start["rowIndex"]
                and last_start["columnIndex"] + width == start["columnIndex"]
            ):
                last["rows"][0]["values"] += request["updateCells"]["rows"][0]["values"]
                continue
        merged.append(request)
    return merged


def status_rules(sheet_id: int, column: int, header_row: int, locale: str) -> list[Json]:
    """Conditional-format rules colouring the Status column by its text, one per status."""
    from addon.core.fields import lang_index

    rules = []
    for status, style in STATUS_STYLE.items():
        label = STATUS_LABELS[status][lang_index(locale)]
        fmt = style_format(style)
        fmt.pop("numberFormat", None)
        rules.append(
            {
                "addConditionalFormatRule": {
                    "index": 0,
                    "rule": {
                        "ranges": [{"sheetId": sheet_id, "startRowIndex": header_row, "startColumnIndex": column - 1, "endColumnIndex": column}],
                        "booleanRule": {"condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": label}]}, "format": fmt},
                    },
                }
            }
        )
    return rules


def is_status_rule(rule: Json) -> bool:
    """One of ours: a TEXT_EQ rule on a status label in either language."""
    labels = {label for pair in STATUS_LABELS.values() for label in pair}
    condition = rule.get("booleanRule", {}).get("condition", {})
    values = condition.get("values") or []
    return condition.get("type") == "TEXT_EQ" and len(values) == 1 and values[0].get("userEnteredValue") in labels
