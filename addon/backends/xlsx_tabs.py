"""An owned tab (TabSpec) as a worksheet part, plus its charts as drawing and chart parts.

The worksheet XML is small and regular, so it is written directly (inline strings, our
own cell formats from StyleBook). Chart and drawing XML are intricate and strictly ordered;
they come from XlsxWriter, which writes charts that Excel and LibreOffice open: a throwaway
in-memory workbook holds the chart's source cells (for the caches) and the chart, and its
chart/drawing parts are transplanted into the user's package.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

import xlsxwriter

from addon.backends.xlsx_cells import CellRenderer
from addon.backends.xlsx_styles import StyleBook
from addon.backends.xlsx_xml import (
    NS_MAIN,
    NS_REL,
    cell_xml,
    col_letters,
    escape_attr,
    escape_text,
    number_text,
)
from addon.model import Cell, ChartSpec, OutCell, StyledCell, TabSpec

INVALID_NAME_CHARS = set("[]:*?/\\")


def check_sheet_name(name: str) -> None:
    """Excel's rules for tab names, as a clear error instead of a workbook Excel must repair."""
    if not name or not name.strip():
        raise ValueError("a tab name cannot be empty")
    if len(name) > 31:
        raise ValueError(f"tab name {name!r} is longer than Excel's 31 characters")
    bad = sorted(INVALID_NAME_CHARS & set(name))
    if bad:
        raise ValueError(f"tab name {name!r} contains {' '.join(bad)}, which Excel does not allow")
    if name.startswith("'") or name.endswith("'"):
        raise ValueError(f"tab name {name!r} cannot begin or end with an apostrophe")
    if name.casefold() == "history":
        raise ValueError("Excel reserves the tab name 'History'")


def quoted(name: str) -> str:
    """A sheet name as it appears in a formula: always quoted, apostrophes doubled (valid everywhere)."""
    return "'" + name.replace("'", "''") + "'"


@dataclass
class RenderedTab:
    sheet_xml: bytes
    drawing_xml: bytes | None = None
    charts: list[bytes] = field(default_factory=list)  # in the order of the drawing's rId1, rId2, …
    drawing_rid: str = "rId1"


def _split(cell: OutCell) -> tuple[Cell, str | None]:
    if isinstance(cell, StyledCell):
        return cell.value, cell.style
    return cell, None


def _list_formula(options: list[str]) -> str | None:
    """Excel's inline list ("a,b,c"), or None when the options cannot be written inline."""
    if any("," in o for o in options):
        return None
    text = ",".join(o.replace('"', '""') for o in options)
    return f'"{text}"' if len(text) <= 255 else None


def render_tab(spec: TabSpec, styles: StyleBook, date1904: bool, *, main_ns: str = NS_MAIN, rel_ns: str = NS_REL) -> RenderedTab:
    """The worksheet part for an owned tab; charts rendered separately by XlsxWriter."""
    check_sheet_name(spec.name)
    rows: list[str] = []
    max_col = 0
    renderer = CellRenderer(styles, date1904)
    width = max((len(r) for r in spec.rows), default=0)
    all_cols = list(range(1, width + 1))
    col_styles = [spec.column_styles.get(c) for c in range(width)] if spec.column_styles else None
    for r, row in enumerate(spec.rows, start=1):
        cells, _, last = renderer.row(r, all_cols[: len(row)], row, None, col_styles[: len(row)] if col_styles else None)
        if cells:
            rows.append(f'<row r="{r}">{cells}</row>')
            if last > max_col:
                max_col = last

    # dropdown lists; lists too long for Excel's inline form go in a hidden column on the right
    validations: list[str] = []
    hidden_cols: dict[int, float] = {}
    extra_cells: dict[int, list[str]] = {}
    list_col = max(max_col, max((v.col + 1 for v in spec.validations), default=0)) + 2
    for v in spec.validations:
        sqref = f"{col_letters(v.col + 1)}{v.first_row + 1}:{col_letters(v.col + 1)}{max(v.first_row, v.last_row) + 1}"
        formula = v.source_range.removeprefix("=") if v.source_range else _list_formula(v.options)
        if formula is None and not v.options:
            continue
        if formula is None:
            letters = col_letters(list_col)
            for i, option in enumerate(v.options, start=1):
                extra_cells.setdefault(i, []).append(cell_xml(f"{letters}{i}", option, None, date1904))
            formula = f"${letters}$1:${letters}${max(1, len(v.options))}"
            hidden_cols[list_col] = 0
            list_col += 1
        validations.append(
            f'<dataValidation type="list" errorStyle="warning" allowBlank="1" showInputMessage="1" showErrorMessage="1" sqref="{sqref}">'
            f"<formula1>{escape_text(formula)}</formula1></dataValidation>"
        )
    if extra_cells:
        rows = _merge_extra(rows, extra_cells)
        max_col = max(max_col, list_col - 1)

    n_rows = max(len(spec.rows), max(extra_cells, default=0))
    dimension = f"A1:{col_letters(max(max_col, 1))}{max(n_rows, 1)}" if rows else "A1"
    views = '<sheetView workbookViewId="0"/>'
    if spec.freeze_rows > 0:
        top = f"A{spec.freeze_rows + 1}"
        views = (
            f'<sheetView workbookViewId="0"><pane ySplit="{spec.freeze_rows}" topLeftCell="{top}" activePane="bottomLeft" state="frozen"/>'
            f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/></sheetView>'
        )
    cols_xml = _cols_xml(spec, styles, hidden_cols)
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f'<worksheet xmlns="{main_ns}" xmlns:r="{rel_ns}">',
        f'<dimension ref="{dimension}"/>',
        f"<sheetViews>{views}</sheetViews>",
        '<sheetFormatPr defaultRowHeight="15"/>',
        f"<cols>{cols_xml}</cols>" if cols_xml else "",
        f"<sheetData>{''.join(rows)}</sheetData>",
        f'<dataValidations count="{len(validations)}">{"".join(validations)}</dataValidations>' if validations else "",
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>',
    ]
    if rows:  # digits written as text are the add-on's choice, not a user error: no green triangles
        parts.append(f'<ignoredErrors><ignoredError sqref="{dimension}" numberStoredAsText="1"/></ignoredErrors>')
    rendered = RenderedTab(sheet_xml=b"")
    if spec.charts:
        rendered.drawing_xml, rendered.charts = render_charts(spec)
        parts.append(f'<drawing r:id="{rendered.drawing_rid}"/>')
    parts.append("</worksheet>")
    rendered.sheet_xml = "".join(parts).encode("utf-8")
    return rendered


def _cols_xml(spec: TabSpec, styles: StyleBook, hidden: dict[int, float]) -> str:
    """<col> elements: widths, whole-column formats (column_styles) and hidden list columns."""
    out = []
    for c in sorted(set(spec.widths) | set(spec.column_styles) | {h - 1 for h in hidden}):
        width = spec.widths.get(c)
        style = spec.column_styles.get(c)
        attrs = f'min="{c + 1}" max="{c + 1}"'
        attrs += f' width="{number_text(round(width, 4))}" customWidth="1"' if width and width > 0 else ' width="9.140625"'
        if style:
            attrs += f' style="{styles.xf(style, "")}"'
        if c + 1 in hidden:
            attrs += ' hidden="1"'
        out.append(f"<col {attrs}/>")
    return "".join(out)


def _merge_extra(rows: list[str], extra: dict[int, list[str]]) -> list[str]:
    """Add the hidden list cells (rightmost) into the rendered rows."""
    by_row = {int(re.match(r'<row r="(\d+)"', row).group(1)): row for row in rows}  # type: ignore[union-attr]
    for r, cells in extra.items():
        row = by_row.get(r)
        by_row[r] = row[: -len("</row>")] + "".join(cells) + "</row>" if row else f'<row r="{r}">{"".join(cells)}</row>'
    return [by_row[r] for r in sorted(by_row)]


def _write_source(sheet: xlsxwriter.worksheet.Worksheet, r: int, c: int, value: Cell) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(r, c, value)
    elif isinstance(value, (int, float)):
        sheet.write_number(r, c, value)
    elif isinstance(value, (date, time)):
        sheet.write_string(r, c, value.isoformat() if not isinstance(value, datetime) else value.strftime("%Y-%m-%d %H:%M"))
    else:
        sheet.write_string(r, c, str(value))


def render_charts(spec: TabSpec) -> tuple[bytes, list[bytes]]:
    """Drawing XML and chart XMLs for the tab's charts, produced by XlsxWriter."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False})
    sheet = book.add_worksheet(spec.name)
    for c, w in spec.widths.items():
        if w and w > 0:
            sheet.set_column(c, c, w)
    needed: set[tuple[int, int]] = set()
    for chart_spec in spec.charts:
        _check_chart(spec, chart_spec)
        first, last = chart_spec.header_row + 1, chart_spec.header_row + chart_spec.data_rows
        for col in [chart_spec.category_col, *chart_spec.value_cols]:
            needed.add((chart_spec.header_row, col))
            needed.update((r, col) for r in range(first, last + 1))
    for r, c in sorted(needed):
        row = spec.rows[r] if r < len(spec.rows) else []
        _write_source(sheet, r, c, _split(row[c])[0] if c < len(row) else None)
    name = quoted(spec.name)
    for chart_spec in spec.charts:
        chart = book.add_chart({"type": chart_spec.kind})
        assert chart is not None
        first, last = chart_spec.header_row + 2, chart_spec.header_row + 1 + chart_spec.data_rows
        cat = col_letters(chart_spec.category_col + 1)
        for col in chart_spec.value_cols:
            letters = col_letters(col + 1)
            chart.add_series(
                {
                    "name": f"={name}!${letters}${chart_spec.header_row + 1}",
                    "categories": f"={name}!${cat}${first}:${cat}${last}",
                    "values": f"={name}!${letters}${first}:${letters}${last}",
                }
            )
        chart.set_title({"name": chart_spec.title})
        if len(chart_spec.value_cols) == 1:
            chart.set_legend({"none": True})
        sheet.insert_chart(chart_spec.anchor_row, chart_spec.anchor_col, chart)
    book.close()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        drawing = z.read("xl/drawings/drawing1.xml")
        rels = z.read("xl/drawings/_rels/drawing1.xml.rels").decode("utf-8")
        order = {rid: target for rid, target in re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels)}
        charts = [z.read("xl/" + order[f"rId{i}"].removeprefix("../")) for i in range(1, len(order) + 1)]
    return drawing, charts


def _check_chart(spec: TabSpec, chart: ChartSpec) -> None:
    if chart.kind not in ("bar", "line", "column"):
        raise ValueError(f"tab {spec.name!r}: chart kind {chart.kind!r} is not bar, line or column")
    if not chart.value_cols:
        raise ValueError(f"tab {spec.name!r}: chart {chart.title!r} has no value columns")
    if chart.data_rows < 1:
        raise ValueError(f"tab {spec.name!r}: chart {chart.title!r} has no data rows")
    if min(chart.header_row, chart.category_col, chart.anchor_row, chart.anchor_col, *chart.value_cols) < 0:
        raise ValueError(f"tab {spec.name!r}: chart {chart.title!r} has a negative position")


def escape_name(name: str) -> str:
    return escape_attr(name)
