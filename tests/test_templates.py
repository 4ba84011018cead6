"""Templates and the new-workbook renderer, checked on real .xlsx files (calamine values, sheet XML)."""

from __future__ import annotations

import importlib.util
import re
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from addon.backends.xlsx_new import LISTS_TAB, write_new_workbook
from addon.core.fields import FIELDS, VALUE_LABELS, find_tab, header_aliases, match_headers
from addon.model import ChartSpec, StyledCell, TabSpec, Validation
from addon.templates import owner_range, tab_name, template_tabs

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "sheet_templates"
NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _build_module():
    spec = importlib.util.spec_from_file_location("sheet_templates_build", TEMPLATES / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _build_module()
FILES = {lang: TEMPLATES / name for lang, name in BUILD.TEMPLATES.items()}


def values(path: Path) -> dict[str, list[list[object]]]:
    book = CalamineWorkbook.from_path(str(path))
    try:
        return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}
    finally:
        book.close()


def sheet_xml(path: Path) -> dict[str, ElementTree.Element]:
    """Tab name -> parsed worksheet XML, resolved through workbook.xml and its relationships."""
    with zipfile.ZipFile(path) as archive:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", NS)}
        out = {}
        for sheet in book.findall("m:sheets/m:sheet", NS):
            target = targets[sheet.get(f"{{{NS['r']}}}id")].lstrip("/")
            part = target if target.startswith("xl/") else f"xl/{target}"
            out[sheet.get("name")] = ElementTree.fromstring(archive.read(part))
        return out


def dropdowns(sheet: ElementTree.Element) -> dict[str, str]:
    """sqref -> formula1 of each list validation."""
    found = {}
    for item in sheet.findall("m:dataValidations/m:dataValidation", NS):
        assert item.get("type") == "list"
        found[item.get("sqref")] = item.findtext("m:formula1", namespaces=NS)
    return found


# --- the committed template files --------------------------------------------------------------

def test_committed_templates_match_a_fresh_build(tmp_path: Path) -> None:
    built = BUILD.build(tmp_path)
    assert [p.name for p in built] == [FILES["zh"].name, FILES["en"].name]
    for committed in FILES.values():
        assert committed.exists(), f"{committed} missing: run python sheet_templates/build.py"
        assert values(tmp_path / committed.name) == values(committed), f"{committed.name} is stale: rebuild it"


def test_rebuild_is_byte_for_byte_reproducible(tmp_path: Path) -> None:
    first = BUILD.build(tmp_path / "a")
    second = BUILD.build(tmp_path / "b")
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() == two.read_bytes()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_headers_are_exactly_what_the_engine_expects(lang: str) -> None:
    tabs = values(FILES[lang])
    for role in ("customers", "followups", "team"):
        name = find_tab(tabs, role)
        assert name == tab_name(role, lang)
        header = tabs[name][0]
        mapped = match_headers(header, header_aliases(role))
        assert mapped == {f.key: index for index, f in enumerate(FIELDS[role])}
        assert header == [(f.zh, f.en)[0 if lang == "zh" else 1] for f in FIELDS[role]]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dropdowns_and_frozen_header(lang: str) -> None:
    i = 0 if lang == "zh" else 1
    stages = ",".join(pair[i] for pair in VALUE_LABELS["stage"].values())
    channels = ",".join(pair[i] for pair in VALUE_LABELS["channel"].values())
    team = owner_range(lang)
    xml = sheet_xml(FILES[lang])
    customers = dropdowns(xml[tab_name("customers", lang)])
    assert set(customers.values()) == {team, '"A,B,C"', f'"{stages}"', '"Y,N"'}
    assert customers["C2:C10000"] == team and customers["D2:D10000"] == '"A,B,C"'
    assert customers["E2:E10000"] == f'"{stages}"' and customers["I2:I10000"] == '"Y,N"'
    followups = dropdowns(xml[tab_name("followups", lang)])
    assert followups == {"D2:D50000": team, "E2:E50000": f'"{channels}"', "I2:I50000": f'"{stages}"'}
    assert dropdowns(xml[tab_name("team", lang)]) == {"E2:E500": '"Y,N"'}
    for sheet in xml.values():
        pane = sheet.find("m:sheetViews/m:sheetView/m:pane", NS)
        assert pane is not None and pane.get("state") == "frozen" and pane.get("ySplit") == "1"
        assert pane.get("topLeftCell") == "A2"
        for item in sheet.findall("m:dataValidations/m:dataValidation", NS):
            assert item.get("errorStyle") == "warning"  # synonyms typed by hand stay possible


def test_owner_dropdown_points_at_the_team_names() -> None:
    assert owner_range("zh") == "'团队'!$A$2:$A$500"
    assert owner_range("en") == "'Team'!$A$2:$A$500"
    book = openpyxl.load_workbook(FILES["zh"])
    team = [row[0] for row in book["团队"].iter_rows(min_row=2, values_only=True)]
    spec = template_tabs("zh")[0].validations[0]
    assert spec.options == team and spec.source_range == owner_range("zh")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_example_rows_are_typed_and_styled(lang: str) -> None:
    tabs = values(FILES[lang])
    customers = tabs[tab_name("customers", lang)]
    assert isinstance(customers[1][5], date)  # created
    assert customers[1][7] == 380000  # value, a number
    assert {"上海云启科技有限公司", "Acme Trading Ltd."} <= {row[1] for row in customers[1:]}
    followups = tabs[tab_name("followups", lang)]
    assert all(isinstance(row[2], date) and isinstance(row[7], date) for row in followups[1:])
    book = openpyxl.load_workbook(FILES[lang])
    sheet = book[tab_name("customers", lang)]
    assert sheet["A1"].font.b and sheet["A1"].fill.fgColor.rgb.endswith("D9E1F2")
    assert sheet["F2"].number_format == "yyyy-mm-dd"
    assert sheet.column_dimensions["A"].number_format == "@"  # IDs typed later keep leading zeros
    assert sheet.column_dimensions["B"].width > 20


def test_template_tabs_languages_and_examples() -> None:
    assert [t.name for t in template_tabs("zh-CN")] == ["客户", "跟进记录", "团队"]
    assert [t.role for t in template_tabs("en")] == ["customers", "followups", "team"]
    bare = template_tabs("en", examples=False)
    assert all(len(t.rows) == 1 for t in bare)
    assert all(isinstance(c, StyledCell) and c.style == "header" for t in bare for c in t.rows[0])
    with pytest.raises(ValueError, match="fr"):
        template_tabs("fr")


# --- write_new_workbook --------------------------------------------------------------------------

TRICKY = ['=HYPERLINK("http://x","click")', "+86 138-0013-8000", "-5", "@sum", "00123", " padded ", "a\x01b"]


def tricky_tab() -> TabSpec:
    rows = [
        [StyledCell("Title", "title")],
        [StyledCell(h, "header") for h in ("text", "number", "date", "when", "flag", "styled")],
        [TRICKY[0], 1.5, date(2025, 1, 2), datetime(2025, 1, 2, 13, 45), True, StyledCell(None, "overdue")],
        [TRICKY[1], 10**12, StyledCell(date(2025, 3, 4), "escalated"), time(9, 30), False, StyledCell("x", "ok")],
        [],
        [TRICKY[2], TRICKY[3], TRICKY[4], TRICKY[5], TRICKY[6], "中文"],
    ]
    chart = ChartSpec("column", "Numbers", header_row=1, category_col=0, value_cols=[1], data_rows=2, anchor_row=8, anchor_col=0)
    long_list = [f"选项{n:03d}" for n in range(80)]  # > 255 characters: cannot be inline
    return TabSpec("Tricky 测试", rows, {0: 30}, freeze_rows=2, charts=[chart], column_styles={2: "date"},
                   validations=[Validation(4, ["Y", "N"], 2, 100), Validation(5, long_list, 2, 100)])


@pytest.mark.parametrize("stream", [False, True])
def test_text_stays_text_and_types_survive(tmp_path: Path, stream: bool) -> None:
    path = tmp_path / "tricky.xlsx"
    write_new_workbook(path, [tricky_tab()], constant_memory=stream)
    rows = values(path)["Tricky 测试"]
    assert rows[2][:5] == [TRICKY[0], 1.5, date(2025, 1, 2), datetime(2025, 1, 2, 13, 45), True]
    assert rows[3][:5] == [TRICKY[1], 10**12, date(2025, 3, 4), time(9, 30), False]
    assert rows[4] == [""] * 6
    assert rows[5] == [*TRICKY[2:6], "a\x01b", "中文"]
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert all("<f>" not in archive.read(n).decode() for n in sheets)  # no formula anywhere
        chart = archive.read("xl/charts/chart1.xml").decode()
    assert "<c:barChart>" in chart and "<c:barDir val=\"col\"/>" in chart
    assert "'Tricky 测试'!$B$3:$B$4" in chart and "'Tricky 测试'!$A$3:$A$4" in chart
    xml = sheet_xml(path)
    assert LISTS_TAB in xml  # the long list moved to a hidden helper tab
    lists = dropdowns(xml["Tricky 测试"])
    assert lists["E3:E101"] == '"Y,N"' and lists["F3:F101"] == f"'{LISTS_TAB}'!$A$1:$A$80"
    book = openpyxl.load_workbook(path)
    assert book[LISTS_TAB].sheet_state == "hidden"
    sheet = book["Tricky 测试"]
    assert sheet["C3"].number_format == "yyyy-mm-dd" and sheet["D3"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["C4"].fill.fgColor.rgb.endswith("C00000") and sheet["C4"].number_format == "yyyy-mm-dd"
    assert sheet["F3"].fill.fgColor.rgb.endswith("FFC7CE")  # styled blank
    assert sheet.freeze_panes == "A3"


def test_streaming_path_matches_the_public_api(tmp_path: Path) -> None:
    plain, streamed = tmp_path / "plain.xlsx", tmp_path / "streamed.xlsx"
    write_new_workbook(plain, [tricky_tab()])
    write_new_workbook(streamed, [tricky_tab()], constant_memory=True)
    assert values(plain) == values(streamed)
    one, two = openpyxl.load_workbook(plain)["Tricky 测试"], openpyxl.load_workbook(streamed)["Tricky 测试"]
    for a, b in zip(one.iter_rows(), two.iter_rows(), strict=True):
        for x, y in zip(a, b, strict=True):
            assert (x.number_format, x.font.b, x.fill.fgColor.rgb) == (y.number_format, y.font.b, y.fill.fgColor.rgb), x.coordinate


def test_refuses_to_overwrite_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"user data")
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        write_new_workbook(path, template_tabs("en"))
    assert path.read_bytes() == b"user data"
    with pytest.raises(ValueError, match=".xlsx"):
        write_new_workbook(tmp_path / "book.xlsm", template_tabs("en"))
    with pytest.raises(Exception, match="(?i)sheet|name"):
        write_new_workbook(tmp_path / "bad.xlsx", [TabSpec("bad[name]", [["x"]])])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]
    fresh = tmp_path / "sub" / "new.xlsx"
    write_new_workbook(fresh, template_tabs("zh"))
    assert sorted(p.name for p in fresh.parent.iterdir()) == ["new.xlsx"]
    assert fresh.stat().st_mode & 0o044  # not a 0600 temp file: others on the share can read it


def test_file_opens_as_a_valid_package(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_new_workbook(path, template_tabs("zh"), properties={"created": datetime(2025, 1, 1)})
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        core = archive.read("docProps/core.xml").decode()
    assert re.search(r"<dcterms:created[^>]*>2025-01-01T00:00:00Z<", core)
