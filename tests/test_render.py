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
