"""The part-level Excel writer on real workbooks: owned columns, owned tabs, charts, styles, macros.

Results are read back with independent readers (python-calamine, openpyxl, zipfile), never
with the writer's own code.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from addon.backends.safe_file import WorkbookUnreadable
from addon.backends.xlsx_package import update_workbook
from addon.model import ChartSpec, ColumnsPatch, StyledCell, TabSpec, Validation, WriteSet
from tests.conftest import CORPUS
from tests.helpers.xlsx_build import handmade_xlsx, sheet_xml
from tests.helpers.xlsx_check import cell, part_bytes, parts, raw_records, sheets

HEADERS = ["客户编号", "客户名称", "负责人", "创建日期"]


def customers_book(path: Path, rows: int = 8) -> Path:
    """A user's Customers tab as Excel-like software writes it (shared strings, date formats, a formula)."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("客户")
    other = book.add_worksheet("Notes")
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    day = book.add_format({"num_format": "yyyy/m/d"})
    sheet.write_row(0, 0, HEADERS, bold)
    for r in range(1, rows + 1):
        sheet.write_string(r, 0, f"C{r:03d}")
        sheet.write_string(r, 1, f"客户{r}")
        sheet.write_string(r, 2, "张伟" if r % 2 else "王芳")
        sheet.write_datetime(r, 3, datetime(2025, 1, r), day)
    sheet.write_formula(rows + 2, 0, f'=COUNTA(A2:A{rows + 1})', None, rows)
    sheet.set_column(0, 1, 14)
    other.write_string(0, 0, "keep me")
    book.close()
    return path


def owned(cells: dict[int, list[object]], cols: tuple[int, ...] = (5, 6, 7), header_row: int = 1) -> ColumnsPatch:
    return ColumnsPatch("客户", header_row, list(cols), ["最近跟进", "跟进次数", "跟进状态"][: len(cols)], cells, [12, 9, 12][: len(cols)])  # type: ignore[arg-type]


def sheet_text(path: Path, part: str = "xl/worksheets/sheet1.xml") -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(part).decode("utf-8")


# --- owned columns ---------------------------------------------------------------------------------


def test_owned_columns_are_written_with_types_and_styles(tmp_path: Path) -> None:
    path = customers_book(tmp_path / "book.xlsx")
    cells = {
        2: [StyledCell(date(2025, 3, 1), "date"), 3, StyledCell("逾期", "overdue")],
        3: [None, 0, StyledCell("正常", "ok")],
        4: [datetime(2025, 3, 2, 14, 30), 2.5, "=HYPERLINK(\"x\")"],
    }
    report = update_workbook(path, WriteSet(owned(cells), []), backup_dir=tmp_path / "bk")
    assert report.changed and not report.added
    rows = sheets(path)["客户"]
    assert rows[0][:7] == [*HEADERS, "最近跟进", "跟进次数", "跟进状态"]
    assert rows[1][4:7] == [date(2025, 3, 1), 3.0, "逾期"]
    assert rows[2][4:7] == ["", 0.0, "正常"]
    assert rows[3][4] == datetime(2025, 3, 2, 14, 30) and rows[3][5:7] == [2.5, '=HYPERLINK("x")']
    # an independent reader sees the formats and colours of STYLES, and text that looks like a formula is text
    ws = openpyxl.load_workbook(path)["客户"]
    assert ws["E2"].number_format == "yyyy-mm-dd"
    assert ws["G2"].fill.fgColor.rgb == "FFFFC7CE" and ws["G2"].font.color.rgb == "FF9C0006"
    assert ws["G3"].fill.fgColor.rgb == "FFC6EFCE"
    assert ws["G4"].data_type == "s" and ws["G4"].value == '=HYPERLINK("x")'
    assert ws.column_dimensions["G"].width == 12
    assert ws["E1"].font.b, "owned headers take the style of the user's header cells"
    # the user's cells are exactly as before, byte for byte
    assert re.search(r'<c r="D2" s="\d+"><v>45658</v></c>', sheet_text(path))


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    path = customers_book(tmp_path / "book.xlsx")
    texts = ["=1+1", "+86 138 0000 0000", "-5", "@all", "=cmd|' /c calc'!A0", " padded ", "a_x0041_b", "tab\tand\nnewline", "ctrl\x01char"]
    cells = {r: [None, None, t] for r, t in enumerate(texts, start=2)}
    update_workbook(path, WriteSet(owned(cells), []), keep_backups=0)
    rows = sheets(path)["客户"]
    assert [rows[r - 1][6] for r in cells] == texts[:-1] + ["ctrl\x01char"]
    ws = openpyxl.load_workbook(path)["客户"]
    assert all(ws.cell(r, 7).data_type == "s" for r in cells)
    assert not re.search(r'<c r="G\d+"[^>]*>(?:(?!</c>).)*<f', sheet_text(path))


def test_second_run_with_same_styles_does_not_grow_styles_and_is_a_no_op(tmp_path: Path) -> None:
    path = customers_book(tmp_path / "book.xlsx")
    first = {r: [StyledCell(date(2025, 1, r), "date"), r, StyledCell("逾期", "overdue")] for r in range(2, 10)}
    update_workbook(path, WriteSet(owned(first), []), keep_backups=0)
    styles = part_bytes(path)["xl/styles.xml"]
    second = {r: [StyledCell(date(2025, 2, r), "date"), r * 2, StyledCell("升级", "overdue")] for r in range(2, 10)}
    report = update_workbook(path, WriteSet(owned(second), []), keep_backups=0)
    assert report.changed == ["xl/worksheets/sheet1.xml"]
    assert part_bytes(path)["xl/styles.xml"] == styles
    again = update_workbook(path, WriteSet(owned(second), []), keep_backups=0)
    assert again.changed == [] and again.notes == ["nothing to change"]


def test_rows_that_disappeared_lose_owned_cells_and_new_rows_are_added_in_order(tmp_path: Path) -> None:
    path = customers_book(tmp_path / "book.xlsx")
    update_workbook(path, WriteSet(owned({r: [None, r, "x"] for r in range(2, 10)}), []), keep_backups=0)
    update_workbook(path, WriteSet(owned({2: [None, 1, "a"], 5: [None, 2, "b"], 15: [None, 3, "c"], 13: [None, 4, "d"]}), []), keep_backups=0)
    rows = sheets(path)["客户"]
    assert [r[5:7] for r in rows[1:9]] == [[1.0, "a"], ["", ""], ["", ""], [2.0, "b"], ["", ""], ["", ""], ["", ""], ["", ""]]
    assert rows[10][0] == 8.0  # the user's formula (cached value) is still there
    assert rows[12][5:7] == [4.0, "d"] and rows[14][5:7] == [3.0, "c"]
    text = sheet_text(path)
    numbers = [int(n) for n in re.findall(r'<row r="(\d+)"', text)]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers))
    assert '<dimension ref="A1:G15"/>' in text
    for row in re.findall(r"<row [^>]*>(.*?)</row>", text):
        cols = [c for c in re.findall(r'<c r="([A-Z]+)\d+"', row)]
        assert cols == sorted(cols, key=lambda c: (len(c), c)), "cells within a row stay in column order"


def test_owned_column_between_user_columns_keeps_the_neighbours(tmp_path: Path) -> None:
    path = customers_book(tmp_path / "book.xlsx")
    before = sheets(path)
    update_workbook(path, WriteSet(owned({r: ["mine"] for r in range(2, 12)}, cols=(3,)), []), keep_backups=0)
    after = sheets(path)
    assert [r[2] for r in after["客户"][1:9]] == ["mine"] * 8
    for r, row in enumerate(before["客户"]):
        assert after["客户"][r][:2] == row[:2] and after["客户"][r][3:4] == row[3:4]
    assert after["Notes"] == before["Notes"]


def test_column_widths_split_an_existing_column_range(tmp_path: Path) -> None:
    sheet = sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>', before='<cols><col min="1" max="10" width="20" style="1" customWidth="1"/></cols>')
    path = handmade_xlsx(tmp_path / "cols.xlsx", [("客户", sheet)])
    update_workbook(path, WriteSet(ColumnsPatch("客户", 1, [5], ["Status"], {2: ["ok"]}, [33]), []), keep_backups=0)
    cols = re.findall(r"<col [^>]*/>", sheet_text(path))
    assert [re.search(r'min="(\d+)" max="(\d+)"', c).groups() for c in cols] == [("1", "4"), ("5", "5"), ("6", "10")]  # type: ignore[union-attr]
    assert 'width="33"' in cols[1] and 'style="1"' in cols[0] and 'style="1"' in cols[2] and 'width="20"' in cols[2]


def test_user_formula_in_an_owned_column_is_replaced_and_calc_chain_dropped(tmp_path: Path) -> None:
    data = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>n</t></is></c><c r="B1" t="inlineStr"><is><t>old</t></is></c></row>'
        '<row r="2"><c r="A2"><v>1</v></c><c r="B2"><f>A2*2</f><v>2</v></c></row>'
    )
    path = handmade_xlsx(tmp_path / "calc.xlsx", [("客户", sheet_xml(data))], calc_chain='<c r="B2" i="1"/>')
    report = update_workbook(path, WriteSet(ColumnsPatch("客户", 1, [2], ["new"], {2: ["v"]}), []), keep_backups=0)
    assert "xl/calcChain.xml" in report.removed
    files = parts(path)
    assert "xl/calcChain.xml" not in files
    assert "calcChain" not in part_bytes(path)["[Content_Types].xml"].decode() + part_bytes(path)["xl/_rels/workbook.xml.rels"].decode()
    assert sheets(path)["客户"] == [["n", "new"], [1.0, "v"]]


def test_shared_formula_started_in_an_owned_column_is_kept_for_the_other_cells(tmp_path: Path) -> None:
    data = (
        '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>10</v></c><c r="C1"><v>100</v></c></row>'
        '<row r="2"><c r="A2"><f t="shared" ref="A2:C2" si="0">A1*2</f><v>2</v></c><c r="B2"><f t="shared" si="0"/><v>20</v></c>'
        '<c r="C2"><f t="shared" si="0"/><v>200</v></c></row>'
    )
    path = handmade_xlsx(tmp_path / "shared.xlsx", [("客户", sheet_xml(data))])
    report = update_workbook(path, WriteSet(ColumnsPatch("客户", 1, [1], ["mine"], {2: ["x"]}), []), keep_backups=0)
    text = sheet_text(path)
    assert '<c r="B2"><f>B1*2</f><v>20</v></c>' in text and '<c r="C2"><f>C1*2</f><v>200</v></c>' in text
    assert any("shared formula" in note for note in report.notes)
    ws = openpyxl.load_workbook(path)["客户"]
    assert ws["B2"].value == "=B1*2" and ws["C2"].value == "=C1*2"


def test_array_formula_reaching_an_owned_column_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    path = tmp_path / "array.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("客户")
    sheet.write_row(0, 0, ["a", "b", "c"])
    sheet.write_row(1, 0, [1, 2, 3])
    sheet.write_array_formula("B3:C3", "{=A2:B2*2}")
    book.close()
    before = path.read_bytes()
    with pytest.raises(ValueError, match="array formula"):
        update_workbook(path, WriteSet(ColumnsPatch("客户", 1, [3], ["mine"], {2: ["x"]}), []))
    assert path.read_bytes() == before


def test_owned_header_renames_the_table_column_it_sits_in(tmp_path: Path) -> None:
    path = tmp_path / "table.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("客户")
    sheet.add_table("A1:C4", {"columns": [{"header": "ID"}, {"header": "Name"}, {"header": "Status"}], "data": [[1, "a", ""], [2, "b", ""], [3, "c", ""]]})
    book.close()
    update_workbook(path, WriteSet(ColumnsPatch("客户", 1, [3], ["跟进状态"], {2: ["ok"], 3: ["due"]}), []), keep_backups=0)
    table = part_bytes(path)["xl/tables/table1.xml"].decode()
    assert 'name="跟进状态"' in table and 'name="ID"' in table
    ws = openpyxl.load_workbook(path)["客户"]
    assert [c.name for c in ws.tables["Table1"].tableColumns] == ["ID", "Name", "跟进状态"]


def test_dates_follow_the_1904_date_system(tmp_path: Path) -> None:
    path = tmp_path / "date_1904.xlsx"
    shutil.copy(CORPUS / "date_1904.xlsx", path)
    update_workbook(path, WriteSet(ColumnsPatch("Sheet1", 1, [5], ["due"], {2: [date(2025, 1, 3)], 3: [time(12, 0)]}), []), keep_backups=0)
    assert re.search(r'<c r="E2" s="\d+"><v>44198</v></c>', sheet_text(path))  # 2025-01-03 counted from 1904-01-01
    rows = sheets(path)["Sheet1"]
    assert rows[1][4] == date(2025, 1, 3) and rows[0][0] == date(2021, 1, 1)


def test_add_only_fills_empty_owned_cells_and_keeps_existing_tabs(tmp_path: Path) -> None:
    path = customers_book(tmp_path / "book.xlsx")
    update_workbook(path, WriteSet(owned({2: ["keep", 1, "keep"]}), []), keep_backups=0)
    kept = TabSpec("Notes", [["would replace"]])
    new = TabSpec("团队", [["姓名", "邮箱"], ["张伟", "zw@example.com"]])
    report = update_workbook(path, WriteSet(owned({2: ["new", 2, "new"], 3: ["new", 3, "new"]}), [kept, new]), add_only=True, keep_backups=0)
    assert report.tabs_kept == ["Notes"] and report.tabs_written == ["团队"]
    data = sheets(path)
    assert data["Notes"] == [["keep me"]]
    assert data["客户"][1][4:7] == ["keep", 1.0, "keep"] and data["客户"][2][4:7] == ["new", 3.0, "new"]
    assert data["团队"] == [["姓名", "邮箱"], ["张伟", "zw@example.com"]]


# --- owned tabs ------------------------------------------------------------------------------------


def kpi_tab(run: int, name: str = "KPI汇总") -> TabSpec:
    return TabSpec(
        name,
        [[StyledCell("周", "header"), StyledCell("跟进", "header"), StyledCell("成交", "header")]] + [[f"W{w}", w * run, w] for w in range(1, 6)],
        widths={0: 12, 1: 10},
        freeze_rows=1,
        charts=[ChartSpec("column", "每周跟进", 0, 0, [1, 2], 5, 1, 4), ChartSpec("line", "趋势", 0, 0, [1], 5, 18, 4)],
    )


def test_owned_tab_is_created_then_replaced_without_accumulating_chart_parts(tmp_path: Path) -> None:
    path = customers_book(tmp_path / "book.xlsx")
    for run in (1, 2, 3):
        update_workbook(path, WriteSet(None, [kpi_tab(run)]), keep_backups=0)
        names = set(parts(path))
        assert len([n for n in names if n.startswith("xl/charts/chart")]) == 2
        assert len([n for n in names if re.fullmatch(r"xl/drawings/drawing\d+\.xml", n)]) == 1
        assert sheets(path)["KPI汇总"][2] == ["W2", 2.0 * run, 2.0]
    files = part_bytes(path)
    types = files["[Content_Types].xml"].decode()
    overrides = re.findall(r'PartName="/([^"]+)"', types)
    assert all(name in files for name in overrides), "no content type for a part that is gone"
    assert all(f"/{n}" in types for n in files if n.startswith(("xl/charts/", "xl/drawings/drawing", "xl/worksheets/sheet")))
    chart = next(files[n].decode() for n in files if n.startswith("xl/charts/chart"))
    assert "<c:f>'KPI汇总'!$B$2:$B$6</c:f>" in chart or "<c:f>'KPI汇总'!$B$1</c:f>" in chart
    app = files["docProps/app.xml"].decode()
    assert "<vt:lpstr>KPI汇总</vt:lpstr>" in app and "<vt:i4>3</vt:i4>" in app
    ws = openpyxl.load_workbook(path)["KPI汇总"]
    assert ws.freeze_panes == "A2" and ws.column_dimensions["A"].width == 12


def test_chart_refs_quote_sheet_names_with_apostrophes(tmp_path: Path) -> None:
    path = customers_book(tmp_path / "book.xlsx")
    update_workbook(path, WriteSet(None, [kpi_tab(1, "Rep's KPI")]), keep_backups=0)
    chart = part_bytes(path)["xl/charts/chart1.xml"].decode()
    assert "'Rep''s KPI'!$B$2:$B$6" in chart


def test_dropdowns_inline_long_and_from_a_range(tmp_path: Path) -> None:
    path = customers_book(tmp_path / "book.xlsx")
    long_options = [f"选项{i}号，很长的名字" for i in range(40)]
    tab = TabSpec(
        "跟进记录",
        [["客户", "方式", "阶段", "负责人"]],
        validations=[
            Validation(1, ["电话", "微信", 'say "hi"'], 1, 500),
            Validation(2, [*long_options, "a,b"], 1, 500),
            Validation(3, ["fallback"], 1, 500, source_range="'团队'!$A$2:$A$100"),
        ],
        column_styles={0: "text"},
    )
    update_workbook(path, WriteSet(None, [tab]), keep_backups=0)
    ws = openpyxl.load_workbook(path)["跟进记录"]
    by_col = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
    assert by_col["B2"].formula1 == '"电话,微信,say ""hi"""'
    assert re.fullmatch(r"\$[A-Z]+\$1:\$[A-Z]+\$41", by_col["C2"].formula1)
    letters = by_col["C2"].formula1.split("$")[1]
    assert ws.column_dimensions[letters].hidden
    assert [ws[f"{letters}{i}"].value for i in range(1, 42)] == [*long_options, "a,b"]
    assert by_col["D2"].formula1 == "'团队'!$A$2:$A$100"
    assert ws["A1"].number_format == "@", "column_styles format the values written there"
    col_a = re.search(r'<col min="1" max="1"[^>]*style="(\d+)"', sheet_text(path, "xl/worksheets/sheet3.xml"))
    assert col_a is not None, "and the whole column, for values typed later"


def test_stale_tab_is_removed_with_its_names_and_views_fixed(tmp_path: Path) -> None:
    plain = sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>')
    names = (
        '<definedName name="_xlnm.Print_Area" localSheetId="1">\'Run log\'!$A$1:$B$2</definedName>'
        '<definedName name="Later" localSheetId="2">Team!$A$1</definedName>'
        '<definedName name="UsesOld">\'Run log\'!$A$1</definedName>'
        "<definedName name=\"Keep\">客户!$A$1</definedName>"
    )
    path = handmade_xlsx(tmp_path / "stale.xlsx", [("客户", plain), ("Run log", plain), ("Team", plain)], defined_names=names, active_tab=2)
    report = update_workbook(path, WriteSet(None, [TabSpec("运行记录", [["时间"]])], stale_tabs=["Run log", "Missing"]), keep_backups=0)
    assert report.tabs_removed == ["Run log"] and report.tabs_written == ["运行记录"]
    files = part_bytes(path)
    workbook = files["xl/workbook.xml"].decode()
    assert list(sheets(path)) == ["客户", "Team", "运行记录"]
    assert 'localSheetId="1">Team!$A$1' in workbook and "UsesOld" not in workbook and "Print_Area" not in workbook and 'name="Keep"' in workbook
    assert 'activeTab="1"' in workbook
    assert "xl/worksheets/sheet2.xml" not in files and "sheet2.xml" not in files["[Content_Types].xml"].decode()
    app = files["docProps/app.xml"].decode()
    assert "<vt:lpstr>客户</vt:lpstr><vt:lpstr>Team</vt:lpstr><vt:lpstr>运行记录</vt:lpstr><vt:lpstr>Total</vt:lpstr>" in app
    assert '<vt:vector size="4" baseType="lpstr">' in app and "<vt:i4>3</vt:i4>" in app
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["客户", "Team", "运行记录"] and wb.active.title == "Team"


def test_only_visible_tab_is_never_removed(tmp_path: Path) -> None:
    plain = sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>')
    path = handmade_xlsx(tmp_path / "one.xlsx", [("Run log", plain), ("Hidden", plain)], states={"Hidden": "hidden"})
    report = update_workbook(path, WriteSet(None, [], stale_tabs=["Run log"]), keep_backups=0)
    assert report.tabs_removed == [] and "only visible tab" in report.notes[0]
    assert list(sheets(path)) == ["Run log", "Hidden"]


# --- macros and buttons ------------------------------------------------------------------------------


def test_xlsm_with_vba_and_buttons_survives_three_runs(tmp_path: Path) -> None:
    with zipfile.ZipFile(CORPUS / "vba.xlsm") as z:
        (tmp_path / "vbaProject.bin").write_bytes(z.read("xl/vbaProject.bin"))
    path = tmp_path / "跟进.xlsm"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("客户")
    sheet.write_row(0, 0, HEADERS)
    sheet.write_row(1, 0, ["C001", "客户1", "张伟"])
    book.add_vba_project(str(tmp_path / "vbaProject.bin"))
    sheet.insert_button("F2", {"macro": "CheckNow", "caption": "立即检查", "width": 100})
    sheet.insert_button("F5", {"macro": "SendReminders", "caption": "发送提醒"})
    book.close()
    original = raw_records(path)
    keep = [n for n in original if n.endswith(("vbaProject.bin", ".vml")) or "ctrlProp" in n or n.endswith("sheet1.xml.rels")]
    assert any(n.endswith("vbaProject.bin") for n in keep) and any(n.endswith(".vml") for n in keep)
    for run in (1, 2, 3):
        report = update_workbook(path, WriteSet(owned({2: [date(2025, 1, run), run, "ok"]}), [kpi_tab(run)]), keep_backups=2, backup_dir=tmp_path / "bk")
        assert path.suffix == ".xlsm" and report.backup is not None and report.backup.suffix == ".xlsm"
        now = raw_records(path)
        assert all(now[n] == original[n] for n in keep), "macros and buttons are stored byte for byte"
    files = part_bytes(path)
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in files["[Content_Types].xml"].decode()
    assert "<legacyDrawing" in files["xl/worksheets/sheet1.xml"].decode()
    assert len(list((tmp_path / "bk").iterdir())) == 2
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert wb.vba_archive is not None and wb.sheetnames == ["客户", "KPI汇总"]


# --- refusals ------------------------------------------------------------------------------------------


def test_unknown_tab_is_a_clear_error_and_nothing_changes(tmp_path: Path) -> None:
    path = customers_book(tmp_path / "book.xlsx")
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"no tab 'Customers' \(tabs: 客户, Notes\)"):
        update_workbook(path, WriteSet(ColumnsPatch("Customers", 1, [5], ["x"], {}), []))
    with pytest.raises(ValueError, match="31 characters"):
        update_workbook(path, WriteSet(None, [TabSpec("x" * 40, [])]))
    with pytest.raises(ValueError, match="2 values for 3 owned columns"):
        update_workbook(path, WriteSet(owned({2: [1, 2]}), []))
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_files_that_are_not_workbooks_are_refused_clearly(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(WorkbookUnreadable, match="broken.xlsx is not a readable .xlsx/.xlsm file"):
        update_workbook(broken, WriteSet(None, [TabSpec("KPI", [["x"]])]))
    with pytest.raises(WorkbookUnreadable, match="workbook not found"):
        update_workbook(tmp_path / "missing.xlsx", WriteSet(None, [TabSpec("KPI", [["x"]])]))
    assert broken.read_bytes() == b"PK\x03\x04 this is not really a zip"


def test_nothing_else_of_the_workbook_changes(tmp_path: Path) -> None:
    """The untouched tab and every part we do not own are stored byte for byte."""
    path = customers_book(tmp_path / "book.xlsx")
    before = raw_records(path)
    update_workbook(path, WriteSet(owned({2: [None, 1, "x"]}), [kpi_tab(1)]), keep_backups=0)
    after = raw_records(path)
    ours = {"xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml", "docProps/app.xml"}
    assert {n for n in before if before[n] != after.get(n)} <= ours
    assert cell(sheets(path)["Notes"], 1, 1) == "keep me"
