"""Live Excel through xlwings: the backend, the button functions and the Settings tab, on the in-memory engine.

The engine (tests/xlwings_memory_engine.py) is registered with xlwings, so every call here goes through
xlwings' own Book/Sheet/Range classes and conversion pipeline; it stores values the way Excel does
when they are assigned (text that looks like a formula, number or date is parsed), which is what
makes the text-protection checks meaningful.
"""

from __future__ import annotations

import email
from datetime import date, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
import xlwings as xw

from addon import pipeline, xl
from addon.backends.excel import ExcelBackend
from addon.backends.xlsx_new import write_new_workbook
from addon.backends.xlwings_live import XlwingsBackend, addresses, excel_value, rectangles
from addon.config import ConfigError, load_config
from addon.core.fields import OWNED_COLUMNS, OWNED_TABS
from addon.model import ColumnsPatch, StyledCell, TabSpec, WriteSet
from addon.templates import template_tabs
from addon.xl_settings import parse_settings, workbook_config
from tests import xlwings_memory_engine as mem
from tests.conftest import AS_OF

TRICKY = {
    "formula_name": '=HYPERLINK("http://x")',
    "phone": "+86 138-0013-8004",
    "id": "00123",
    "at": "@展会",
    "minus": "-急单",
    "date_text": "2025-01-02",
}


@pytest.fixture(scope="module")
def engine() -> mem.Engine:
    return mem.install()


@pytest.fixture
def app(engine: mem.Engine):
    app = engine.new_app()
    yield app
    app.quit()
    if hasattr(xw.Book, "_mock_caller"):
        del xw.Book._mock_caller


def plain(rows: list[list[Any]]) -> list[list[Any]]:
    return [[c.value if isinstance(c, StyledCell) else c for c in row] for row in rows]


def scenario(lang: str = "zh", extra_customers: int = 0) -> list[TabSpec]:
    """The template's example rows plus rows a careless writer would corrupt."""
    tabs = template_tabs(lang)
    customers, followups, team = tabs
    owner = team.rows[1][0]
    customers.rows.append([TRICKY["id"], TRICKY["formula_name"], owner, "B", None, date(2026, 9, 1), None, 5000,
                           "N", TRICKY["minus"], TRICKY["phone"], "bad@", TRICKY["at"], TRICKY["date_text"]])
    customers.rows.append(["C0005", None, owner, "Z", None, date(2026, 10, 1)])  # no name (error), unknown tier
    customers.rows.append([1001, "Numbers Ltd", owner, "A", None, datetime(2026, 8, 3, 14, 30), None, 12.5, None, None,
                           13800138005])  # numeric id and phone, a datetime: Excel hands back floats and datetimes
    followups.rows.append([TRICKY["id"], TRICKY["formula_name"], date(2026, 11, 2), owner, "电话" if lang == "zh" else "Phone",
                           None, TRICKY["at"], date(2026, 11, 20), None])
    for i in range(extra_customers):
        customers.rows.append([f"X{i:05d}", f"Customer {i}", owner, "ABC"[i % 3], None, date(2026, 1, 1) + timedelta(days=i % 300)])
    return tabs


def open_scenario(app: mem.App, folder: Path, tabs: list[TabSpec], name: str = "book.xlsm") -> xw.Book:
    folder.mkdir(parents=True, exist_ok=True)
    return app.open_book(str(folder / name), {t.name: plain(t.rows) for t in tabs})


def sheet_impl(book: xw.Book, name: str) -> mem.Sheet:
    return book.sheets[name].impl


def norm(value: Any) -> Any:
    """One vocabulary for values read from Excel (floats, datetimes) and from a file (ints, dates)."""
    if value is None or value == "":
        return None
    if isinstance(value, mem.CellError):
        return value.text
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return value.date() if value == datetime(value.year, value.month, value.day) else value
    return value


def norm_rows(rows: list[list[Any]]) -> list[list[Any]]:
    out = [[norm(v) for v in row] for row in rows]
    width = max((i + 1 for row in out for i, v in enumerate(row) if v is not None), default=0)
    out = [(row + [None] * width)[:width] for row in out]
    while out and all(v is None for v in out[-1]):
        out.pop()
    return out


# --- the engine behaves like Excel where the backend relies on it ---------------------------------

def test_engine_parses_assigned_text_like_excel(app: mem.App, tmp_path: Path) -> None:
    book = app.open_book(str(tmp_path / "e.xlsx"), {"S": []})
    sheet = book.sheets["S"]
    sheet.range("A1").value = [["=1+1", "'=1+1", "00123", "+86 138", "2025-01-02", "TRUE", "50%", "text"]]
    stored = sheet.impl.cells_
    assert stored[(1, 1)].formula == "=1+1" and stored[(1, 1)].value == mem.NAME_ERROR
    assert stored[(1, 2)].value == "=1+1" and stored[(1, 2)].prefix
    assert stored[(1, 3)].value == 123.0
    assert stored[(1, 4)].formula is not None
    assert stored[(1, 5)].value == datetime(2025, 1, 2)
    assert stored[(1, 6)].value is True
    assert stored[(1, 7)].value == 0.5
    assert sheet.range("A1:H1").value[7] == "text"
    assert sheet.range("A1").expand("right").shape == (1, 8)


# --- reading ----------------------------------------------------------------------------------

def test_read_gives_rows_from_a1_in_one_block_per_tab(app: mem.App, tmp_path: Path) -> None:
    book = app.open_book(str(tmp_path / "r.xlsx"), {"Data": [[], [], [None, "ID", "When"], [None, "007", date(2026, 1, 2)], [None, 3, None]]})
    backend = XlwingsBackend(book)
    reads = app.calls["read"]
    table = backend.read(["Data"])["Data"]
    assert app.calls["read"] - reads == 1
    assert table.first_row == 1
    assert table.rows == [[None, None, None], [None, None, None], [None, "ID", "When"],
                          [None, "007", datetime(2026, 1, 2)], [None, 3.0, None]]
    assert backend.sheet_names() == ["Data"]


def test_read_of_an_empty_tab_and_an_error_cell(app: mem.App, tmp_path: Path) -> None:
    book = app.open_book(str(tmp_path / "r.xlsx"), {"Empty": [], "Err": [["a", "b"]]})
    book.sheets["Err"].range("B1").value = "=1/0"  # Excel shows an error value; we read what the user sees
    tables = XlwingsBackend(book).read(["Empty", "Err"])
    assert tables["Empty"].rows == []
    assert tables["Err"].rows == [["a", "#NAME?"]]


# --- writing ----------------------------------------------------------------------------------

def _patch(tab: str) -> ColumnsPatch:
    return ColumnsPatch(
        tab=tab, header_row=1, columns=[3, 4], headers=["Status", "Rule"],
        cells={2: [StyledCell("Overdue", "overdue"), "=not a formula"], 4: [StyledCell("OK", "ok"), "+1 day"]},
        widths=[12, 40],
    )


def test_owned_columns_are_one_block_with_stale_cells_cleared(app: mem.App, tmp_path: Path) -> None:
    rows = [["Name", "Owner"], ["a", "x"], ["b", "y"], ["c", "z"], ["d", "w"]]
    book = app.open_book(str(tmp_path / "c.xlsx"), {"Customers": rows})
    sheet = book.sheets["Customers"]
    sheet.range("A1:B1").color = "#D9E1F2"
    sheet.range("A1:B1").font.bold = True
    sheet.range("C5").value = "left over from last run"
    sheet.range("C5").color = "#FF0000"
    before = {k: v for k, v in sheet.impl.cells_.items() if k[1] <= 2}
    writes = app.calls["write"]
    XlwingsBackend(book).write(WriteSet(columns=_patch("Customers"), tabs=[]))
    assert app.calls["write"] - writes == 1  # both columns, all rows: one array
    assert sheet.range("C1:D5").value == [["Status", "Rule"], ["Overdue", "=not a formula"], [None, None],
                                          ["OK", "+1 day"], [None, None]]
    cells = sheet.impl.cells_
    assert cells[(2, 4)].prefix and cells[(2, 4)].formula is None  # stored as text, not a formula
    assert cells[(2, 3)].fill == (0xFF, 0xC7, 0xCE) and cells[(2, 3)].font_color == (0x9C, 0x00, 0x06)
    assert cells[(4, 3)].fill == (0xC6, 0xEF, 0xCE)
    assert (5, 3) not in cells  # stale value and its colour are gone
    assert cells[(1, 3)].fill == (0xD9, 0xE1, 0xF2) and cells[(1, 4)].bold  # header looks like the user's header
    assert {k: v for k, v in sheet.impl.cells_.items() if k[1] <= 2} == before  # user columns untouched
    assert sheet.impl.widths[3] == 12 and sheet.impl.widths[4] == 40


def test_owned_columns_between_user_columns_are_written_per_run(app: mem.App, tmp_path: Path) -> None:
    book = app.open_book(str(tmp_path / "c.xlsx"), {"C": [["Name", "Status", "Notes", "Rule"], ["a", None, "keep", None]]})
    patch = ColumnsPatch(tab="C", header_row=1, columns=[2, 4], headers=["Status", "Rule"], cells={2: ["OK", "why"]})
    XlwingsBackend(book).write(WriteSet(columns=patch, tabs=[]))
    assert book.sheets["C"].range("A1:D2").value == [["Name", "Status", "Notes", "Rule"], ["a", "OK", "keep", "why"]]


def _tab(name: str, rows: list[list[Any]], **kw: Any) -> TabSpec:
    return TabSpec(name=name, rows=rows, **kw)


def test_owned_tab_is_cleared_and_written_as_one_array(app: mem.App, tmp_path: Path) -> None:
    book = app.open_book(str(tmp_path / "t.xlsx"), {"Customers": [["Name"]], "KPI": [["old"] * 5] * 30})
    old = book.sheets["KPI"]
    old.charts.add(source=old.range("A1:B3"))
    rows = [[StyledCell("Title", "title")], [StyledCell("Week", "header"), StyledCell("Count", "header")],
            ["W1", 3], ["W2", 5], [StyledCell(date(2026, 1, 5), "date"), StyledCell(0.25, "percent")],
            [TRICKY["formula_name"], TRICKY["phone"], TRICKY["id"], TRICKY["at"], TRICKY["minus"], TRICKY["date_text"]]]
    from addon.model import ChartSpec

    chart = ChartSpec(kind="line", title="Trend", header_row=1, category_col=0, value_cols=[1], data_rows=2,
                      anchor_row=0, anchor_col=8)
    writes = app.calls["write"]
    XlwingsBackend(book).write(WriteSet(columns=None, tabs=[_tab("KPI", rows, widths={0: 30}, charts=[chart])]))
    assert app.calls["write"] - writes == 1
    sheet = book.sheets["KPI"]
    assert sheet.used_range.address == "$A$1:$F$6"
    values = sheet.range("A1:F6").value
    assert values[5] == [TRICKY[k] for k in ("formula_name", "phone", "id", "at", "minus", "date_text")]
    cells = sheet.impl.cells_
    assert all(cells[(6, c)].formula is None for c in range(1, 7))
    assert cells[(1, 1)].bold and cells[(1, 1)].size == 14
    assert cells[(5, 1)].number_format == "yyyy-mm-dd" and cells[(5, 2)].number_format == "0.0%"
    assert cells[(2, 1)].fill == (0xD9, 0xE1, 0xF2) and cells[(2, 2)].fill == (0xD9, 0xE1, 0xF2)
    assert sheet.impl.widths[1] == 30
    charts = list(sheet.charts)
    assert [(c.chart_type, c.impl.source, c.impl.title) for c in charts] == [("line", "$A$2:$B$4", "Trend")]


def test_new_tabs_are_added_at_the_end_and_stale_ones_deleted_quietly(app: mem.App, tmp_path: Path) -> None:
    book = app.open_book(str(tmp_path / "t.xlsx"), {"Customers": [["Name"]], "Issues": [["old english tab"]]})
    book.sheets["Customers"].activate()
    XlwingsBackend(book).write(WriteSet(columns=None, tabs=[_tab("数据问题", [["新"]])], stale_tabs=["Issues"]))
    assert book.sheet_names == ["Customers", "数据问题"]
    assert book.sheets.active.name == "Customers"  # the user stays where they were
    assert app.display_alerts is True


def test_app_state_is_quiet_during_writes_and_restored_after(app: mem.App, tmp_path: Path) -> None:
    book = app.open_book(str(tmp_path / "s.xlsx"), {"Customers": [["Name"], ["a"]]})
    app.calculation = "semiautomatic"
    XlwingsBackend(book).write(WriteSet(columns=None, tabs=[_tab("A", [["x"]]), _tab("B", [["y"]])]))
    assert set(app.write_states) == {(False, "manual", False)}
    assert (app.screen_updating, app.calculation, app.enable_events, app.display_alerts) == (True, "semiautomatic", True, True)


def test_a_failing_write_still_restores_the_app(app: mem.App, tmp_path: Path) -> None:
    book = app.open_book(str(tmp_path / "s.xlsx"), {"Customers": [["Name"], ["a"]]})
    with pytest.raises(mem.MemoryExcelError):
        XlwingsBackend(book).write(WriteSet(columns=None, tabs=[_tab("bad/name", [["x"]])]))
    assert (app.screen_updating, app.calculation, app.enable_events, app.display_alerts) == (True, "automatic", True, True)


def test_a_malformed_writeset_changes_nothing(app: mem.App, tmp_path: Path) -> None:
    book = app.open_book(str(tmp_path / "s.xlsx"), {"Customers": [["Name"], ["a"]]})
    bad = ColumnsPatch(tab="Customers", header_row=2, columns=[2], headers=["Status"], cells={2: ["on the header row"]})
    with pytest.raises(ValueError):
        XlwingsBackend(book).write(WriteSet(columns=bad, tabs=[_tab("New", [["x"]])]))
    assert book.sheet_names == ["Customers"] and app.calls["write"] == 0


def test_rectangles_and_addresses_cover_exactly_the_cells() -> None:
    cells = {(r, c) for r in range(2, 40) for c in (5, 6)} | {(50, 1), (51, 1), (50, 3)}
    areas = rectangles(cells)
    assert areas == [(2, 5, 39, 6), (50, 1, 51, 1), (50, 3, 50, 3)]
    scattered = [(r, 5) for r in range(1, 400, 2)]
    joined = list(addresses(rectangles(scattered), multi_area=True))
    assert all(len(a) <= 255 for a in joined) and len(joined) < 10
    covered = {(r, 5) for a in joined for part in a.split(",") for r in [int(part[1:])]}
    assert covered == set(scattered)
    assert len(list(addresses(rectangles(scattered), multi_area=False))) == 200


def test_excel_value_protects_every_string() -> None:
    assert excel_value("=x") == "'=x"
    assert excel_value("plain") == "'plain"
    assert excel_value("") is None and excel_value(None) is None
    assert excel_value(float("nan")) == "'nan" and excel_value(3) == 3
    assert excel_value("x" * 40_000) == "'" + "x" * 32_767


# --- the same run through Excel and through the file gives the same workbook ---------------------

def _file_sheets(path: Path) -> dict[str, list[list[Any]]]:
    backend = ExcelBackend(path)
    names = backend.sheet_names()
    tables = backend.read(names)
    backend.close()
    return {n: norm_rows(t.rows) for n, t in tables.items()}


def _live_sheets(book: xw.Book) -> dict[str, list[list[Any]]]:
    return {s.name: norm_rows(s.impl.values()) for s in book.sheets}


def _drop_run_clock(rows: list[list[Any]]) -> list[list[Any]]:
    """The run log's start time and duration differ between two runs; everything else must not."""
    return [[None if i in (0, 9) else v for i, v in enumerate(r)] if k >= 2 else r for k, r in enumerate(rows)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_contract_live_excel_and_file_backend_write_the_same(app: mem.App, tmp_path: Path, lang: str) -> None:
    tabs = scenario(lang)
    path = tmp_path / "file" / "book.xlsx"
    write_new_workbook(path, tabs)
    book = open_scenario(app, tmp_path / "live", tabs)
    config = load_config(None, overrides={"locale": "zh-CN" if lang == "zh" else "en", "source": {"excel": str(path)}})

    file_result = pipeline.run(config, as_of=AS_OF, send=False, backend=ExcelBackend(path))
    live_result = pipeline.run(config, as_of=AS_OF, send=False, backend=XlwingsBackend(book))
    assert [s.status for s in file_result.statuses] == [s.status for s in live_result.statuses]
    assert file_result.dataset.issues == live_result.dataset.issues

    on_file, live = _file_sheets(path), _live_sheets(book)
    assert set(on_file) == set(live)
    i = 0 if lang == "zh" else 1
    customers = tabs[0].name
    assert live[customers] == on_file[customers]  # user columns and the six owned columns
    assert [h for h in live[customers][0] if h][-len(OWNED_COLUMNS):] == [p[i] for p in OWNED_COLUMNS.values()]
    for role, names in OWNED_TABS.items():
        name = names[i]
        left, right = live[name], on_file[name]
        if role == "runlog":
            left, right = _drop_run_clock(left), _drop_run_clock(right)
        assert left == right, role
    overdue = live[OWNED_TABS["overdue"][i]]
    assert any(row[4] == TRICKY["formula_name"] and row[9] == TRICKY["phone"] for row in overdue)


# --- the buttons --------------------------------------------------------------------------------

def _owned_status_column(book: xw.Book, tab: str, lang: int) -> list[Any]:
    rows = book.sheets[tab].used_range.value
    col = rows[0].index(OWNED_COLUMNS["status"][lang])
    return [r[col] for r in rows[1:]]


def test_check_now_on_the_calling_book(app: mem.App, tmp_path: Path) -> None:
    book = open_scenario(app, tmp_path, scenario("zh"))
    book.set_mock_caller()
    result = xl.check_now()
    assert result is not None and result.written
    assert app.alerts == []
    statuses = _owned_status_column(book, "客户", 0)
    assert statuses[:3] and all(statuses[:3]) and "数据有误" in statuses
    assert {"KPI汇总", "待跟进", "数据问题", "运行记录"} <= set(book.sheet_names)
    final = app.status_bar
    assert isinstance(final, str) and final.startswith("跟进助手：检查完成") and "数据问题" in final
    shown = [str(s) for s in app.status_history]
    for step in ("正在读取工作簿", "正在校验数据", "正在计算跟进状态和 KPI", "正在写入结果"):  # every pipeline step, in its words
        assert any(step in s for s in shown), (step, shown)
    assert (app.screen_updating, app.calculation) == (True, "automatic")


def test_check_now_speaks_english_in_an_english_workbook(app: mem.App, tmp_path: Path) -> None:
    book = open_scenario(app, tmp_path, scenario("en"))
    xl.check_now(book)
    assert {"KPI", "Overdue", "Issues", "Run log"} <= set(book.sheet_names)
    assert str(app.status_bar).startswith("Follow-up: Check done")
    assert "Data error" in _owned_status_column(book, "Customers", 1)


def test_check_now_in_a_book_of_sheet1_and_sheet2_speaks_its_headers_language(
    app: mem.App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Excel's default tab names say nothing; the Chinese headers do, on an English machine too, and the
    buttons agree with a run and with init (pipeline.spoken_locale)."""
    from tests.helpers.user_books import NAMELESS_HEADERS

    monkeypatch.setenv("LANG", "en_US.UTF-8")
    customers, log = NAMELESS_HEADERS["zh"]
    book = app.open_book(str(tmp_path / "book.xlsm"), {
        "Sheet1": [customers, ["Acme", "Ann", "A", "谈判"]],
        "Sheet2": [log, ["Acme", datetime(2026, 11, 20), "Ann", "电话"]],
    })
    xl.check_now(book)
    assert {"KPI汇总", "待跟进", "数据问题", "运行记录"} <= set(book.sheet_names)
    assert str(app.status_bar).startswith("跟进助手：检查完成")
    assert OWNED_COLUMNS["status"][0] in book.sheets["Sheet1"].used_range.value[0]


def test_a_tab_excel_cannot_read_does_not_stop_recognising_a_log_by_its_headers(app: mem.App, tmp_path: Path) -> None:
    """Live Excel reads every candidate tab at once; a chart sheet among them fails that read. The
    candidates are then read one by one, so the follow-up log called "Calls" is still found."""
    book = app.open_book(str(tmp_path / "book.xlsm"), {
        "Accounts": [["Company", "Sales Rep", "Level"], ["Acme", "Ann", "A"]],
        "Chart1": [],
        "Calls": [["Company", "Contact date", "By", "Type"], ["Acme", datetime(2026, 11, 20), "Ann", "phone"]],
    })
    book.sheets["Chart1"].impl.unreadable = True
    config = load_config(None, overrides={"source": {"excel": str(tmp_path / "book.xlsm")}, "state_dir": str(tmp_path / "state")})
    result = pipeline.check(config, as_of=AS_OF, backend=XlwingsBackend(book))
    assert result.dataset.tabs["followups"] == "Calls" and len(result.dataset.followups) == 1
    assert not result.blocked and [i.tab for i in result.dataset.issues if i.code == "tab.guessed"] == ["Calls"]


def test_writes_stay_bulk_whatever_the_size(app: mem.App, tmp_path: Path) -> None:
    small = open_scenario(app, tmp_path / "a", scenario("zh", extra_customers=20))
    xl.check_now(small)
    small_writes = app.calls["write"]
    big = open_scenario(app, tmp_path / "b", scenario("zh", extra_customers=2000))
    xl.check_now(big)
    assert app.calls["write"] - small_writes == small_writes  # one array per block, not per row or cell
    assert app.alerts == []


def test_refresh_kpis_writes_only_the_kpi_tab(app: mem.App, tmp_path: Path) -> None:
    book = open_scenario(app, tmp_path, scenario("zh"))
    before = {s.name: dict(s.impl.cells_) for s in book.sheets}
    xl.refresh_kpis(book)
    assert book.sheet_names == [*before, "KPI汇总"]
    assert all(book.sheets[n].impl.cells_ == cells for n, cells in before.items())
    assert book.sheets["KPI汇总"].range("A1").value
    assert str(app.status_bar).startswith("跟进助手：KPI 已更新")


def test_refresh_kpis_leaves_a_kpi_tab_of_the_teams_own_alone(app: mem.App, tmp_path: Path) -> None:
    tabs = scenario("zh")
    book = open_scenario(app, tmp_path, [*tabs, TabSpec(name="KPI汇总", rows=[["本月目标"], ["拜访", 40]])])
    before = {s.name: dict(s.impl.cells_) for s in book.sheets}
    xl.refresh_kpis(book)
    assert book.sheet_names == list(before) and all(book.sheets[n].impl.cells_ == cells for n, cells in before.items())
    assert app.alerts and "不是跟进助手生成的" in str(app.alerts[-1]) and "改名" in str(app.alerts[-1])
    xl.check_now(book)  # the full run leaves it too, and writes everything else
    assert book.sheets["KPI汇总"].impl.cells_ == before["KPI汇总"] and {"待跟进", "数据问题", "运行记录"} <= set(book.sheet_names)


def _reminder_config(folder: Path, transport: str = "outbox") -> None:
    (folder / "config.yaml").write_text(
        "reminders:\n"
        f"  transport: {transport}\n"
        "  outbox: outbox\n"
        "  send_on: every_day\n"
        "  admin: admin@example.com\n",
        encoding="utf-8",
    )


def test_send_reminders_asks_then_writes_the_outbox(app: mem.App, tmp_path: Path) -> None:
    book = open_scenario(app, tmp_path, scenario("zh"))
    _reminder_config(tmp_path)
    book.set_mock_caller()
    app.answers = ["yes"]
    xl.send_reminders()
    confirm, done = app.alerts
    assert confirm["buttons"] == "yes_no" and "li.na@example.com" in confirm["prompt"]
    assert str(tmp_path / "outbox") in confirm["prompt"]
    sent = sorted((tmp_path / "outbox").rglob("*.eml"))
    assert sent and f"已发送 {len(sent)} 封提醒" in done["prompt"]
    message = email.message_from_bytes(sent[0].read_bytes(), policy=policy.default)
    assert message["To"]
    app.answers = []
    xl.send_reminders()  # the ledger remembers today's messages
    assert "今天没有需要发送的提醒" in app.alerts[-1]["prompt"] and "已发送过" in app.alerts[-1]["prompt"]
    assert sorted((tmp_path / "outbox").rglob("*.eml")) == sent


def test_send_reminders_cancelled_sends_nothing(app: mem.App, tmp_path: Path) -> None:
    book = open_scenario(app, tmp_path, scenario("en"))
    _reminder_config(tmp_path)
    app.answers = ["no"]
    xl.send_reminders(book)
    assert len(app.alerts) == 1 and app.alerts[0]["prompt"].startswith("Send ")
    assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").rglob("*.eml"))
    assert app.status_bar == "Follow-up: Cancelled; no reminders were sent."


def test_send_reminders_on_a_weekend_says_why(app: mem.App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from addon import pipeline

    book = open_scenario(app, tmp_path, scenario("en"))
    (tmp_path / "config.yaml").write_text("reminders: {transport: outbox, outbox: outbox, send_on: working_days}\n", encoding="utf-8")
    monkeypatch.setattr(pipeline, "today", lambda config: date(2026, 11, 21))  # a Saturday where the team works
    xl.send_reminders(book)
    (alert,) = app.alerts
    assert alert["prompt"].startswith("Today is not a working day") and "every_day" in alert["prompt"]
    assert not (tmp_path / "outbox").exists()


def test_broken_config_yaml_is_a_message_not_a_traceback(app: mem.App, tmp_path: Path) -> None:
    book = open_scenario(app, tmp_path, scenario("zh"))
    (tmp_path / "config.yaml").write_text("cadence:\n  by_tier: {A: soon}\n", encoding="utf-8")
    assert xl.check_now(book) is None
    (alert,) = app.alerts
    assert alert["mode"] == "critical" and alert["prompt"].startswith("设置有误")
    assert "cadence.by_tier.A" in alert["prompt"] and "Traceback" not in alert["prompt"]
    assert "跟进状态" not in book.sheets["客户"].range("A1").expand("right").value  # nothing written


def test_broken_settings_row_is_named_in_the_message(app: mem.App, tmp_path: Path) -> None:
    tabs = scenario("en")
    book = open_scenario(app, tmp_path, tabs)
    settings = book.sheets.add("Settings", after=book.sheets[-1])
    settings.range("A1").value = [["Key", "Value"], ["cadence.by_tier.A", "often"], ["cadense.due_soon", "1d"]]
    xl.check_now(book)
    (alert,) = app.alerts
    assert "row 3: unknown setting 'cadense.due_soon'; did you mean cadence.due_soon?" in alert["prompt"]
    settings.range("A3").value = "cadence.due_soon"
    xl.check_now(book)
    assert "Settings row 2: cadence.by_tier.A = 'often'" in app.alerts[-1]["prompt"]  # the row, without a config.yaml too


def test_an_unexpected_failure_names_the_log_file(app: mem.App, tmp_path: Path) -> None:
    book = open_scenario(app, tmp_path, scenario("en"))
    _reminder_config(tmp_path)
    (tmp_path / ".followup").write_text("a file where the state folder should be", encoding="utf-8")
    app.answers = ["yes"]
    assert xl.send_reminders(book) is None
    alert = app.alerts[-1]
    assert alert["prompt"].startswith("Something went wrong") and alert["mode"] == "critical"
    log_path = Path(alert["prompt"].split("Details are in: ", 1)[1].split("\n", 1)[0])
    assert "Traceback" in log_path.read_text(encoding="utf-8")
    assert app.status_bar == "Follow-up: failed; see the message box."


def test_open_settings_makes_the_tab_and_its_values_win(app: mem.App, tmp_path: Path) -> None:
    book = open_scenario(app, tmp_path, scenario("zh"))
    (tmp_path / "config.yaml").write_text("cadence:\n  by_tier: {A: 10d, B: 14d, C: 30d}\n", encoding="utf-8")
    assert xl.open_settings(book) == "设置"
    assert book.sheets.active.name == "设置"
    rows = book.sheets["设置"].used_range.value
    keys = [r[0] for r in rows]
    assert "cadence.by_tier.A" in keys and "reminders.transport" in keys
    row_a = keys.index("cadence.by_tier.A")
    assert rows[row_a][1] is None and rows[row_a][2] == "10d"  # value column empty; column C shows what applies
    assert xl.load_book_config(book).cadence.by_tier["A"] == timedelta(days=10)  # config.yaml over defaults
    book.sheets["设置"].range((row_a + 1, 2)).value = 3  # a bare number of days, as a user types it
    assert xl.load_book_config(book).cadence.by_tier["A"] == timedelta(days=3)  # the tab over config.yaml
    xl.open_settings(book)  # a second press only goes there
    assert len([n for n in book.sheet_names if n == "设置"]) == 1


def test_open_settings_works_when_the_settings_are_broken(app: mem.App, tmp_path: Path) -> None:
    book = open_scenario(app, tmp_path, scenario("en"))
    (tmp_path / "config.yaml").write_text("locale: klingon\n", encoding="utf-8")
    xl.open_settings(book)
    assert "Settings" in book.sheet_names
    assert app.alerts and "locale" in app.alerts[-1]["prompt"]


def test_config_source_is_always_the_calling_workbook(app: mem.App, tmp_path: Path) -> None:
    book = open_scenario(app, tmp_path, scenario("zh"))
    (tmp_path / "config.yaml").write_text("source:\n  google: some-sheet-id\nstate_dir: state\n", encoding="utf-8")
    config = xl.load_book_config(book)
    assert config.source.excel == tmp_path / "book.xlsm" and config.source.google is None
    assert config.state_path == tmp_path / "state"
    assert config.locale == "zh-CN"


# --- settings parsing ---------------------------------------------------------------------------

def test_settings_values_are_converted_as_excel_hands_them_over(tmp_path: Path) -> None:
    rows = [["# notes"], ["Key", "Value"], ["cadence.by_tier.A", 3.0], ["cadence.working_days", "是"],
            ["cadence.after_won", "3d，7d, 30d"], ["reminders.smtp.port", 587.0], ["defaults.tier", "C"],
            ["kpi.trend_weeks", 8.0], ["tabs.customers", "客户列表"], ["reminders.smtp.password", "${SMTP_PASSWORD}"],
            ["cadence.by_tier.C", None], [None, "ignored"]]
    tree, where = parse_settings(rows, "设置")
    assert where["cadence.by_tier.A"] == 3
    config = workbook_config(fullname=str(tmp_path / "b.xlsx"), folder=tmp_path, sheet_names=["客户"],
                             settings_rows=rows, settings_tab="设置", fallback_dir=tmp_path)
    assert config.cadence.by_tier["A"] == timedelta(days=3)
    assert config.cadence.by_tier["C"] == timedelta(days=30)  # blank = default
    assert config.cadence.working_days is True
    assert config.cadence.after_won == [timedelta(days=3), timedelta(days=7), timedelta(days=30)]
    assert config.reminders.smtp.port == 587 and config.kpi.trend_weeks == 8
    assert config.defaults.tier == "C" and config.tabs.customers == "客户列表"


def test_settings_refuse_source_and_typed_passwords() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings([["source.excel", "other.xlsx"], ["reminders.smtp.password", "hunter2"]], "Settings")
    text = str(caught.value)
    assert "row 1: source.excel" in text and "row 2: reminders.smtp.password" in text and "hunter2" not in text


def test_check_now_reads_a_follow_up_log_with_a_name_of_its_own(app: mem.App, tmp_path: Path) -> None:
    """The same recognition by headers as a file run (pipeline.find_roles), through the live backend."""
    accounts = TabSpec(name="Accounts", rows=[["Company", "Sales Rep", "Level"], ["Acme", "Ann", "A"]])
    calls = TabSpec(name="Calls", rows=[["Company", "Contact date", "By"], ["Acme", date(2026, 11, 20), "Ann"]])
    book = open_scenario(app, tmp_path, [accounts, calls])
    result = xl.check_now(book)
    assert result is not None and len(result.dataset.followups) == 1 and result.dataset.tabs["followups"] == "Calls"
    issues = [row for row in book.sheets["Issues"].used_range.value if row and "'Calls' is read as the FollowUps tab" in str(row)]
    assert len(issues) == 1
    assert set(book.sheet_names) >= {"Accounts", "Calls", "Issues"} and "FollowUps" not in book.sheet_names
