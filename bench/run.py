"""Benchmark: our full run against a raw calamine read and an openpyxl round-trip of the same file.

    python bench/run.py                       # 1k/10k, 10k/100k and 50k/500k customers/follow-ups
    python bench/run.py --sizes 1000:10000    # just one size
    python bench/run.py --no-openpyxl         # skip the slow baseline
    python bench/run.py --repeat 3            # best of three per task (the tasks take turns)

Every figure is measured in this run, each task in a fresh process (peak memory is that process's),
so the ratios compare like with like on a noisy machine. Workbooks are cached in bench/out/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
AS_OF = date(2026, 11, 23)
DEFAULT_SIZES = ["1000:10000", "10000:100000", "50000:500000"]


def workbook(customers: int, followups: int, out: Path = OUT) -> Path:
    sys.path.insert(0, str(ROOT))
    from addon.demo_data import write_demo_workbook

    path = out / f"bench_{customers}_{followups}.xlsx"
    if not path.exists():
        out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        write_demo_workbook(path, AS_OF, lang="zh", customers=customers, followups=followups, reps=max(8, customers // 500), constant_memory=True)
        print(f"  generated {path.name} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def measure_once(task: str, path: Path) -> dict:
    """One run of one task in a fresh interpreter on a fresh copy of the file."""
    copy = path.with_name(path.stem + f".{task}.xlsx")
    copy.write_bytes(path.read_bytes())
    try:
        output = subprocess.run([sys.executable, str(HERE / "measure.py"), task, str(copy)], check=True, capture_output=True, text=True, cwd=ROOT)
    finally:
        copy.unlink(missing_ok=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def measure(tasks: list[str], path: Path, repeat: int) -> dict[str, dict]:
    """Best of `repeat` runs per task, the tasks taking turns so a slow spell of the machine
    affects them alike rather than one of them only."""
    best: dict[str, dict] = {}
    for _ in range(repeat):
        for task in tasks:
            result = measure_once(task, path)
            if task not in best or result["seconds"] < best[task]["seconds"]:
                best[task] = result
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=DEFAULT_SIZES, help="customers:followups pairs")
    parser.add_argument("--repeat", type=int, default=1, help="runs per task (best is kept)")
    parser.add_argument("--no-openpyxl", action="store_true", help="skip the openpyxl baseline")
    parser.add_argument("--cache", type=Path, default=OUT, help="folder for the generated workbooks (default: bench/out)")
    args = parser.parse_args()

    rows = []
    for size in args.sizes:
        customers, followups = (int(x) for x in size.split(":"))
        print(f"{customers:,} customers / {followups:,} follow-ups", flush=True)
        path = workbook(customers, followups, args.cache)
        best = measure(["calamine", "run"], path, args.repeat)
        read, run = best["calamine"], best["run"]
        base = None if args.no_openpyxl else measure_once("openpyxl", path)
        rows.append((customers, followups, path.stat().st_size / 1e6, read, run, base))
        print(f"  calamine read {read['seconds']:.2f} s ({read['peak_mb']:.0f} MB) · run {run['seconds']:.2f} s ({run['peak_mb']:.0f} MB)"
              + (f" · openpyxl {base['seconds']:.2f} s ({base['peak_mb']:.0f} MB)" if base else ""), flush=True)

    print("\n| customers / follow-ups | file | calamine read | full run | run ÷ read | peak RSS (run) | openpyxl load+save | openpyxl ÷ run |")
    print("|---|---|---|---|---|---|---|---|")
    for customers, followups, mb, read, run, base in rows:
        ratio = run["seconds"] / read["seconds"]
        baseline = f"{base['seconds']:.1f} s ({base['peak_mb']:.0f} MB)" if base else "—"
        speedup = f"{base['seconds'] / run['seconds']:.1f}×" if base else "—"
        print(f"| {customers:,} / {followups:,} | {mb:.1f} MB | {read['seconds']:.2f} s | {run['seconds']:.2f} s | {ratio:.2f} | {run['peak_mb']:.0f} MB | {baseline} | {speedup} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
