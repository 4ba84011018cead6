"""Every real-world workbook of the corpus survives two runs of the writer with nothing lost.

For each .xlsx/.xlsm that python-calamine can read: owned columns are patched on the first
tab (header row 1, right of the data, plus rows past the end) and two owned tabs are added
(one with a chart); then a second run writes different values. After each run: every part
the writer does not own is stored byte for byte as before, every tab's values are unchanged
except the owned cells, and the owned cells read back as written.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from addon.backends.safe_file import WorkbookUnreadable
from addon.backends.xlsx_package import update_workbook
from addon.model import ChartSpec, ColumnsPatch, StyledCell, TabSpec, WriteSet
from tests.conftest import CORPUS
from tests.helpers.xlsx_check import (
    cell,
    libreoffice_convert,
    ods_summary,
    raw_records,
    same_value,
    sheets,
    width,
)

WORKBOOKS = sorted(p for p in CORPUS.glob("*.xls[xm]"))
# parts a run may rewrite; everything else must be stored byte for byte as it was
OWNED_PART_NAMES = ("workbook.xml", "workbook.xml.rels", "[Content_Types].xml", "styles.xml", "app.xml")


def _readable(path: Path) -> bool:
    try:
        sheets(path)
    except Exception:  # noqa: BLE001 - the corpus holds files calamine rejects on purpose
        return False
    return True


READABLE = [p for p in WORKBOOKS if _readable(p)]


def _writes(first_tab: str, used: int, height: int, run: int) -> WriteSet:
    cols = [used + 1, used + 2, used + 3, used + 4]
    cells = {}
    for r in range(2, height + 4):
        k = r + run
        cells[r] = [
            StyledCell(date(2025, 1, 1) + timedelta(days=k), "date"),
            k * 1.5 if r % 3 else None,
            StyledCell(["=SUM(A1)", "+86 138", "-3", "@owner"][k % 4], "overdue" if k % 2 else "ok"),
            datetime(2025, 2, 3, 4, 5) + timedelta(hours=k),
        ]
    patch = ColumnsPatch(first_tab, 1, cols, ["最近跟进", "跟进次数", "跟进状态", f"run {run}"], cells, [12, 9, 12])
    kpi = TabSpec(
        "KPI汇总",
        [[StyledCell("周", "header"), StyledCell("跟进", "header")], ["W1", 3 + run], ["W2", 5], ["=W3", 7]],
        widths={0: 14},
        charts=[ChartSpec("column", "每周跟进", 0, 0, [1], 3, 5, 0)],
    )
    overdue = TabSpec("待跟进", [["客户", "逾期天数"], ["-A公司", run], ["@B", StyledCell(date(2025, 3, 1), "date")]])
    return WriteSet(columns=patch, tabs=[kpi, overdue])


def _check(original: Path, result: Path, writes: WriteSet, owned_parts: set[str]) -> None:
    before_raw, after_raw = raw_records(original), raw_records(result)
    for name, data in before_raw.items():
        if name in owned_parts or name.replace("\\", "/").rsplit("/", 1)[-1] in OWNED_PART_NAMES:
            continue
        assert name in after_raw, f"{name} disappeared"
        assert after_raw[name] == data, f"{name} is not byte-identical"
    before, after = sheets(original), sheets(result)
    patch = writes.columns
    assert patch is not None
    owned = set(patch.columns)
    assert list(after)[: len(before)] == list(before), "user tabs changed order or names"
    owned_tabs = {spec.name for spec in writes.tabs}
    for name, rows in before.items():
        if name in owned_tabs:
            continue
        new = after[name]
        for r in range(1, max(len(rows), len(new)) + 1):
            for c in range(1, max(width(rows), width(new)) + 1):
                if name == patch.tab and c in owned and r >= patch.header_row:
                    continue
                assert cell(new, r, c) == cell(rows, r, c), f"{name}!R{r}C{c} changed"
    patched = after[patch.tab]
    for c, header in zip(patch.columns, patch.headers, strict=True):
        assert cell(patched, 1, c) == header
    for r, values in patch.cells.items():
        for c, value in zip(patch.columns, values, strict=True):
            assert same_value(cell(patched, r, c), value), f"{patch.tab}!R{r}C{c}: {cell(patched, r, c)!r} is not {value!r}"
    for spec in writes.tabs:
        for r, row in enumerate(spec.rows, start=1):
            for c, value in enumerate(row, start=1):
                assert same_value(cell(after[spec.name], r, c), value), f"{spec.name}!R{r}C{c}"


@pytest.mark.parametrize("source", READABLE, ids=lambda p: p.name)
def test_corpus_workbook_survives_two_runs(source: Path, tmp_path: Path) -> None:
    work = tmp_path / source.name
    shutil.copy(source, work)
    first = sheets(source)
    tab = next(iter(first))
    used, height = width(first[tab]), len(first[tab])
    ours: set[str] = set()  # parts the writer added (owned tabs, their drawings and charts)
    for run in (1, 2):
        previous = tmp_path / f"before-run-{run}{source.suffix}"
        shutil.copy(work, previous)
        writes = _writes(tab, used, height, run)
        report = update_workbook(work, writes, backup_dir=tmp_path / "backups")
        patched = [name for name in report.changed if name not in ours and "sheet" in name.replace("\\", "/").rsplit("/", 1)[-1].lower()]
        assert len(patched) <= 1, patched
        ours |= set(report.added)
        _check(source if run == 1 else previous, work, writes, set(patched) | ours)
        assert not report.removed or all("calcChain" in n or "drawing" in n or "chart" in n for n in report.removed)
    # the same writes again change nothing at all
    again = update_workbook(work, writes, backup_dir=tmp_path / "backups")
    assert again.changed == [] and again.added == [] and again.removed == []


def test_every_corpus_file_is_accounted_for() -> None:
    """The corpus is read whole: only files python-calamine itself rejects are skipped above."""
    skipped = {p.name for p in WORKBOOKS} - {p.name for p in READABLE}
    assert skipped <= {"pass_protected.xlsx", "issue252.xlsx"}, skipped
    assert len(READABLE) >= 60


def test_password_protected_workbook_is_refused_and_untouched(tmp_path: Path) -> None:
    work = tmp_path / "pass_protected.xlsx"
    shutil.copy(CORPUS / "pass_protected.xlsx", work)
    before = work.read_bytes()
    writes = _writes("Sheet1", 1, 1, 1)
    with pytest.raises(WorkbookUnreadable, match="pass_protected.xlsx is password-protected"):
        update_workbook(work, writes)
    assert work.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pass_protected.xlsx"]


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["vba.xlsm", "pivots.xlsx", "issue438.xlsx"])  # issue_530 (backslash part names): LibreOffice cannot open even the original
def test_libreoffice_opens_written_workbooks(name: str, tmp_path: Path) -> None:
    if shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    work = tmp_path / name
    shutil.copy(CORPUS / name, work)
    first = sheets(work)
    tab = next(iter(first))
    for run in (1, 2):
        update_workbook(work, _writes(tab, width(first[tab]), len(first[tab]), run))
    ods = libreoffice_convert(work, tmp_path)
    names, series = ods_summary(ods)
    assert names[: len(first)] == list(first)
    assert "KPI汇总" in names and "待跟进" in names
    assert any("KPI汇总" in s and "B2" in s and "B4" in s for s in series), series
