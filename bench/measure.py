"""One measurement in its own process, so peak memory (ru_maxrss) belongs to that task alone.

    python bench/measure.py calamine|run|openpyxl WORKBOOK
prints one JSON line: {"task", "seconds", "peak_mb"}.
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

AS_OF = date(2026, 11, 23)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing


def calamine_read(path: Path) -> None:
    """The floor: python-calamine reading every value of every tab."""
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def full_run(path: Path) -> None:
    """Our full pass: read, validate, cadence, KPIs, write owned columns and tabs; no sending."""
    from addon import pipeline
    from addon.config import load_config

    state = Path(tempfile.mkdtemp(prefix="bench-state-"))
    config = load_config(None, overrides={"source": {"excel": str(path)}, "state_dir": str(state), "excel": {"backups": 1, "backup_dir": str(state / "backups")}})
    pipeline.run(config, as_of=AS_OF, send=False)
    shutil.rmtree(state, ignore_errors=True)


def openpyxl_roundtrip(path: Path) -> None:
    """The naive baseline: load the workbook with openpyxl and save it again."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    out = path.with_name(path.stem + ".openpyxl.xlsx")
    book.save(out)
    out.unlink()


TASKS = {"calamine": calamine_read, "run": full_run, "openpyxl": openpyxl_roundtrip}

if __name__ == "__main__":
    task, workbook = sys.argv[1], Path(sys.argv[2])
    started = time.perf_counter()
    TASKS[task](workbook)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"task": task, "seconds": round(seconds, 3), "peak_mb": round(peak_kb / 1024, 1)}))
