"""The benchmark stays runnable with one command (its figures are the README's, not asserted here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_runs_and_prints_its_table(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "200:1000", "--no-openpyxl", "--cache", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("| 200 / 1,000 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    read, run, ratio = (float(cells[i].removesuffix(" s")) for i in (2, 3, 4))
    assert 0 < run and 0 < ratio
    assert abs(read * ratio - run) <= 0.006 * ratio + 0.01  # the ratio is run ÷ read (read is shown rounded to 0.01 s)
    assert re.fullmatch(r"\d+ MB", cells[5])
    assert (tmp_path / "bench_200_1000.xlsx").is_file()  # the workbook went to the cache asked for
