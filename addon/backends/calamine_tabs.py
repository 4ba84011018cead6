"""Read several tabs of a workbook side by side with python-calamine.

python-calamine parses a sheet without holding the GIL, so tabs read in threads load in
parallel on a multi-core machine, and Python work can go on while the largest one loads.
A CalamineWorkbook serves one reader at a time, so every tab gets its own handle.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import python_calamine

Rows = list[list[object]]


def read_rows(path: Path, name: str) -> Rows:
    """One tab as calamine displays it ('' for blank cells), from row 1 and column A."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        return book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    finally:
        book.close()


def start_reading(path: Path, names: Iterable[str]) -> dict[str, Future[Rows]]:
    """Start reading each named tab in its own thread; each future gives the rows or raises calamine's error."""
    wanted = list(dict.fromkeys(names))
    pool = ThreadPoolExecutor(max_workers=max(1, len(wanted)), thread_name_prefix="read-tab")
    try:
        return {name: pool.submit(read_rows, path, name) for name in wanted}
    finally:
        pool.shutdown(wait=False)  # the threads end as their tab is read
