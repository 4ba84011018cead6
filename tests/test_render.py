"""Where the owned columns go: found where our block already is, never in a team's own column of the same name."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
import python_calamine

from addon import pipeline
from addon.config import load_config
from addon.core.fields import OWNED_COLUMNS
from addon.core.render import owned_block, owned_column_positions

EN = [pair[1] for pair in OWNED_COLUMNS.values()]  # Last contact, Follow-ups, Next due, Days overdue, Status, Rule
ZH = [pair[0] for pair in OWNED_COLUMNS.values()]


def test_our_block_is_found_where_it_is() -> None:
    assert owned_column_positions(["ID", "Name", *EN], 2) == [3, 4, 5, 6, 7, 8]
    assert owned_column_positions(["客户编号", *ZH, "备注"], 8) == [2, 3, 4, 5, 6, 7]  # moved as a whole: followed


def test_a_teams_own_status_or_last_contact_column_is_never_claimed() -> None:
    header = ["ID", "Name", "Status", "Last contact", "Notes"]
    assert owned_block(header) == {}
    assert owned_column_positions(header, 5) == [6, 7, 8, 9, 10, 11]
    # Beside our block, on either side, theirs stays theirs.
    assert owned_column_positions(["ID", "Status", *EN], 8) == [3, 4, 5, 6, 7, 8]
    assert owned_column_positions(["ID", *EN, "Status", "Rule"], 10) == [2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize(("header", "expected"), [
    (["ID", *EN[:3], "Extra", *EN[3:]], [2, 3, 4, 6, 7, 8]),  # a column inserted inside our block
    (["ID", *EN[:5], "Notes"], [2, 3, 4, 5, 6, 8]),  # our Rule column deleted: a new one after the last used column
])
def test_a_block_with_a_column_inserted_or_deleted_is_still_ours(header: list[str], expected: list[int]) -> None:
    assert owned_column_positions(header, len(header)) == expected


def test_too_few_of_ours_in_a_row_are_not_a_block() -> None:
    assert owned_block(["ID", "Next due", "Days overdue", "Status"]) == {}  # three: could be a hand-kept tracker
    assert owned_block(["ID", *EN[:4]]) == {"last_contact": 2, "followups": 3, "next_due": 4, "days_overdue": 5}


def test_a_run_leaves_a_teams_own_status_and_last_contact_columns_alone(tmp_path: Path) -> None:
    path = tmp_path / "sales.xlsx"
    book = openpyxl.Workbook()
    customers = book.active
    customers.title = "Customers"
    for row in (["Customer ID", "Name", "Owner", "Status", "Last contact", "Notes"],
                ["C1", "Acme", "Ann", "Active", date(2026, 10, 1), "kept by hand"],
                ["C2", "Beta", "Ann", "Prospect", None, None]):
        customers.append(row)
    log = book.create_sheet("FollowUps")
    for row in (["Customer ID", "Date", "Owner"], ["C1", date(2026, 11, 20), "Ann"]):
        log.append(row)
    team = book.create_sheet("Team")
    for row in (["Name", "Email"], ["Ann", "ann@example.com"]):
        team.append(row)
    book.save(path)
    config = load_config(None, overrides={"source": {"excel": str(path)}, "state_dir": str(tmp_path / "state"), "excel": {"backups": 0}})
    for _ in range(2):
        assert pipeline.run(config, as_of=date(2026, 11, 23), send=False).written
        rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Customers").to_python()
        assert rows[0] == ["Customer ID", "Name", "Owner", "Status", "Last contact", "Notes", *EN]
        assert [r[3:6] for r in rows[1:]] == [["Active", date(2026, 10, 1), "kept by hand"], ["Prospect", "", ""]]
        assert [r[6] for r in rows[1:]] == [date(2026, 11, 20), ""]  # ours: the last contact in the log


def _english_book(path: Path, extra: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    customers = book.active
    customers.title = "Customers"
    for row in (["Customer ID", "Name", "Owner"], ["C1", "Acme", "Ann"]):
        customers.append(row)
    log = book.create_sheet("FollowUps")
    for row in (["Customer ID", "Date", "Owner"], ["C1", date(2026, 11, 20), "Ann"]):
        log.append(row)
    for name, rows in extra.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_a_teams_own_tab_with_one_of_our_names_is_never_replaced_or_deleted(tmp_path: Path) -> None:
    """Their "KPI" dashboard and a "待跟进" list of their own (in an English workbook, where a tab of that
    name would otherwise be taken for ours in the other language and deleted) stay as they are."""
    theirs = {"KPI": [["Monthly KPI"], ["Calls", 120], ["Deals", 4]], "待跟进": [["客户", "备注"], ["Acme", "周五回电"]], "Issues": []}
    path = _english_book(tmp_path / "sales.xlsx", theirs)
    config = load_config(None, overrides={"source": {"excel": str(path)}, "state_dir": str(tmp_path / "state"), "excel": {"backups": 0}})
    for _ in range(2):
        result = pipeline.run(config, as_of=date(2026, 11, 23), send=False)
        assert result.written
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        assert book.get_sheet_by_name("KPI").to_python() == [["Monthly KPI", ""], ["Calls", 120.0], ["Deals", 4.0]]
        assert book.get_sheet_by_name("待跟进").to_python() == [["客户", "备注"], ["Acme", "周五回电"]]
        assert {"Overdue", "Run log"} <= set(book.sheet_names) and "KPI汇总" not in book.sheet_names
        assert book.get_sheet_by_name("Issues").to_python()[0][0].startswith("Data issues")  # an empty tab is ours to fill
        not_ours = [i for i in result.dataset.issues if i.code == "tab.not_ours"]
        assert [(i.tab, i.severity) for i in not_ours] == [("KPI", "warning")]  # 待跟进 is in the way of nothing we write
        assert not_ours[0].message == "A tab named 'KPI' exists that the add-on did not make: it was left as it is, and the KPI summary was not written"
    assert result.kpis is not None  # computed all the same (`kpi`, --json)


def test_our_own_tabs_are_rewritten_after_a_change_of_language(tmp_path: Path) -> None:
    path = _english_book(tmp_path / "sales.xlsx", {})
    english = load_config(None, overrides={"source": {"excel": str(path)}, "state_dir": str(tmp_path / "state"), "excel": {"backups": 0}})
    pipeline.run(english, as_of=date(2026, 11, 23), send=False)
    chinese = english.model_copy(update={"locale": "zh-CN"})
    result = pipeline.run(chinese, as_of=date(2026, 11, 23), send=False)
    names = python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names
    assert {"KPI汇总", "待跟进", "数据问题", "运行记录"} <= set(names) and not {"KPI", "Overdue", "Issues", "Run log"} & set(names)
    assert not [i for i in result.dataset.issues if i.code == "tab.not_ours"]
