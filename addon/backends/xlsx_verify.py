"""Check a freshly written workbook before it replaces the original.

Two independent checks, both cheap:
1. Container: every part we did not own is byte-identical to the original's stored bytes
   (so its values cannot have changed), every part we wrote decompresses (CRC) to exactly
   what we meant, and no part appeared or vanished unplanned.
2. Values, read back with python-calamine (a different parser from ours): the tab list is
   as planned; on the patched tab every cell outside the owned columns equals the
   original's, and every owned cell reads back as written; owned tabs read back as written.
Any difference raises WriteFailed, and the temp file is discarded (the original is intact).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import Future, wait
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import python_calamine

from addon.backends.calamine_tabs import Rows, start_reading
from addon.backends.safe_file import WorkbookUnreadable, WriteFailed
from addon.backends.xlsx_xml import col_letters, excel_serial
from addon.backends.xlsx_zip import ZipSource
from addon.model import Cell, OutCell, StyledCell, WriteSet

if TYPE_CHECKING:
    from addon.backends.xlsx_package import Plan

_MAX_REPORTED = 5


def _plain(cell: OutCell) -> Cell:
    return cell.value if isinstance(cell, StyledCell) else cell


def expected(cell: OutCell, date1904: bool) -> object:
    """What calamine should read for a value we wrote, normalised for comparison."""
    value = _plain(cell)
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else str(value)
    if isinstance(value, (date, time)):
        if not isinstance(value, time) and excel_serial(value, date1904) is None:
            return value.isoformat()
        return normal(value)
    return str(value)


def normal(value: object) -> object:
    """Calamine's view of a cell in a comparable form (dates at midnight = dates, times in seconds)."""
    if isinstance(value, bool) or value is None:
        return value if value is not None else ""
    if isinstance(value, int):
        return float(value)
    if isinstance(value, datetime):
        value = value.replace(microsecond=0, tzinfo=None) if value.microsecond < 500_000 else (value + timedelta(seconds=1)).replace(microsecond=0, tzinfo=None)
        return value.date() if value.time() == time(0) else value
    if isinstance(value, time):
        return ("time", round(value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6))
    if isinstance(value, timedelta):
        return ("time", round(value.total_seconds()))
    return value


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


def verify_written(
    source: ZipSource, tmp: Path, original: Path, plan: Plan, writes: WriteSet, original_rows: Mapping[str, Rows] | None = None
) -> None:
    """Raise WriteFailed if the temp file differs from the original anywhere we do not own.

    `original_rows`: tabs of the original as python-calamine read them (to_python, skip_empty_area=False),
    when the caller has just read them from this same file; otherwise they are read here."""
    problems: list[str] = []
    known = original_rows or {}
    patched = plan.patched_tab if writes.columns is not None else None
    # The tabs to read back load side by side (calamine frees the GIL) while the container is checked.
    new_tabs = start_reading(tmp, ([patched] if patched is not None else []) + list(plan.owned_tabs))
    old_tabs = start_reading(original, [patched]) if patched is not None and patched not in known else {}
    try:
        _check_container(source, tmp, plan, problems)
        if not problems:
            _check_values(tmp, original, plan, writes, patched, problems, known, new_tabs, old_tabs)
    finally:
        wait([*new_tabs.values(), *old_tabs.values()])  # no reader still holds the temp file when it is removed
    if problems:
        shown = "; ".join(problems[:_MAX_REPORTED]) + (f"; and {len(problems) - _MAX_REPORTED} more" if len(problems) > _MAX_REPORTED else "")
        raise WriteFailed(
            f"the add-on's check of the new {original.name} found a difference it did not intend ({shown}); "
            f"nothing was replaced and the original file is intact - please report this",
            zh=f"跟进助手核对新写入的 {original.name} 时发现了意外的差异（{shown}）；没有替换任何内容，原文件完好无损——请报告此问题",
        )


def _check_container(source: ZipSource, tmp: Path, plan: Plan, problems: list[str]) -> None:
    pkg = plan.pkg
    try:
        new = ZipSource(tmp)
    except Exception as error:  # noqa: BLE001 - any failure to reopen is a failed write
        problems.append(f"the new file is not a valid zip ({error})")
        return
    with new:
        expected_keys = {e.key for e in source.entries if e.key not in pkg.removed} | set(pkg.added)
        got = {e.key for e in new.entries}
        if got != expected_keys:
            problems.append(f"parts differ: missing {sorted(expected_keys - got)[:3]}, unexpected {sorted(got - expected_keys)[:3]}")
            return
        by_name = {e.name: e for e in new.entries}
        for entry in source.entries:
            key = entry.key
            if key in pkg.removed:
                continue
            if key in pkg.changed:
                if new.read(key) != pkg.changed[key]:
                    problems.append(f"part {entry.name} was not written as planned")
            elif entry.name not in by_name or new.raw(by_name[entry.name]) != source.raw(entry):
                problems.append(f"part {entry.name} is not byte-identical to the original")
        for key, data in pkg.added.items():
            if new.read(key) != data:
                problems.append(f"new part {pkg.names[key]} was not written as planned")


def _unreadable_new(workbook: Path, error: object) -> WriteFailed:
    return WriteFailed(f"the new {workbook.name} could not be read back ({error}); the original file is intact",
                       zh=f"新写入的 {workbook.name} 无法读回（{error}）；原文件完好无损")


def _rows(futures: Mapping[str, Future[Rows]], name: str, workbook: Path, what: str) -> Rows:
    """A tab read in the background; `workbook` (the user's file) names it in messages."""
    try:
        return futures[name].result()
    except Exception as error:  # noqa: BLE001 - calamine raises several unrelated types
        if what == "original":
            raise WorkbookUnreadable(f"tab {name!r} of {workbook.name} cannot be read to check the write against it: {error}",
                                     zh=f"无法读取 {workbook.name} 的“{name}”工作表来核对写入：{error}") from None
        raise _unreadable_new(workbook, error) from None


def _check_values(
    tmp: Path, original: Path, plan: Plan, writes: WriteSet, patched: str | None, problems: list[str],
    known: Mapping[str, Rows], new_tabs: Mapping[str, Future[Rows]], old_tabs: Mapping[str, Future[Rows]],
) -> None:
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(tmp))
        try:
            names = list(book.sheet_names)
        finally:
            book.close()
    except Exception as error:  # noqa: BLE001 - calamine raises several unrelated types
        raise _unreadable_new(original, error) from None
    if names != plan.sheet_names:
        problems.append(f"tabs are {names}, expected {plan.sheet_names}")
        return
    if patched is not None:
        old_rows = known[patched] if patched in known else _rows(old_tabs, patched, original, "original")
        _compare_patched(old_rows, _rows(new_tabs, patched, original, "new"), plan, writes, problems)
    for name, spec in plan.owned_tabs.items():
        rows = _rows(new_tabs, name, original, "new")
        for r, row in enumerate(spec.rows):
            got_row = rows[r] if r < len(rows) else []
            plain = ["" if v is None else v.value if type(v) is StyledCell else v for v in row]
            if got_row[: len(plain)] == plain:
                continue
            for c, cell in enumerate(row):
                want = expected(cell, plan.date1904)
                got = normal(got_row[c]) if c < len(got_row) else ""
                if not _same(got, want):
                    problems.append(f"{name}!{col_letters(c + 1)}{r + 1} reads {got!r}, wrote {want!r}")
                    if len(problems) > _MAX_REPORTED:
                        return


def _compare_patched(old: Rows, new: Rows, plan: Plan, writes: WriteSet, problems: list[str]) -> None:
    """Cells outside the owned columns equal the original's; owned cells read back as written."""
    patch = writes.columns
    assert patch is not None
    tab = plan.patched_tab
    owned0 = [c - 1 for c in patch.columns]
    width = max(max(owned0) + 1, max((len(r) for r in old), default=0), max((len(r) for r in new), default=0))
    segments, start = [], 0
    for c in sorted(owned0):
        if c > start:
            segments.append((start, c))
        start = c + 1
    if start < width:
        segments.append((start, width))
    pad = [""] * width
    header = list(patch.headers)
    blank = [""] * len(owned0)
    for r in range(max(len(old), len(new))):
        a = old[r] if r < len(old) else pad
        b = new[r] if r < len(new) else pad
        if len(a) < width:
            a = a + pad[: width - len(a)]
        if len(b) < width:
            b = b + pad[: width - len(b)]
        sheet_row = r + 1
        if sheet_row < patch.header_row:
            if a != b:
                col = next(i for i in range(width) if a[i] != b[i])
                problems.append(f"{tab}!{col_letters(col + 1)}{sheet_row} changed from {a[col]!r} to {b[col]!r}")
        else:
            for s, e in segments:
                if a[s:e] != b[s:e]:
                    col = next(i for i in range(s, e) if a[i] != b[i])
                    problems.append(f"{tab}!{col_letters(col + 1)}{sheet_row} changed from {a[col]!r} to {b[col]!r}")
                    break
            if sheet_row == patch.header_row:
                want: list[object] = list(header)
            else:
                values = patch.cells.get(sheet_row)
                want = blank if values is None else ["" if v is None else v.value if type(v) is StyledCell else v for v in values]  # type: ignore[misc]
                if values is not None and any(v is None for v in want):
                    want = [("" if v is None else v) for v in want]
            if plan.add_only:
                want = [a[c] if a[c] != "" else w for c, w in zip(owned0, want, strict=True)]
            got = [b[c] for c in owned0]
            if got != want:  # cheap in the common case; exact normalised comparison only on a mismatch
                for c, g, w in zip(owned0, got, want, strict=True):
                    w_norm = w if sheet_row == patch.header_row or (plan.add_only and a[c] != "") else expected(w, plan.date1904)  # type: ignore[arg-type]
                    if not _same(normal(g), w_norm):
                        problems.append(f"{tab}!{col_letters(c + 1)}{sheet_row} reads {g!r}, wrote {w!r}")
                        break
        if len(problems) > _MAX_REPORTED:
            return
