"""Rebuild the ready-to-use template workbooks from addon.templates: `python sheet_templates/build.py`.

The files are committed; rebuilding gives identical values (fixed document properties and
example dates), and tests/test_templates.py checks the committed files against a fresh build.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from addon.backends.xlsx_new import write_new_workbook  # noqa: E402
from addon.templates import template_tabs  # noqa: E402

# lang -> file name
TEMPLATES: dict[str, str] = {"zh": "跟进助手模板.xlsx", "en": "followup_template_en.xlsx"}

PROPERTIES: dict[str, dict[str, object]] = {
    "zh": {"title": "跟进助手模板", "subject": "客户跟进记录", "author": "跟进助手",
           "comments": "客户、跟进记录、团队三个表；表头可改名，在 config.yaml 中映射即可。"},
    "en": {"title": "Follow-up Add-on template", "subject": "Customer follow-up log", "author": "Follow-up Add-on",
           "comments": "Customers, FollowUps and Team tabs; rename headers freely and map them in config.yaml."},
}
CREATED = datetime(2025, 1, 1, 0, 0, 0)  # fixed so rebuilds are reproducible


def build(out_dir: Path = HERE) -> list[Path]:
    """Write both templates into out_dir, replacing earlier builds there; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for lang, name in TEMPLATES.items():
        target = out_dir / name
        with tempfile.TemporaryDirectory(dir=out_dir) as scratch:
            fresh = Path(scratch) / name
            write_new_workbook(fresh, template_tabs(lang), properties={**PROPERTIES[lang], "created": CREATED})
            os.replace(fresh, target)
        written.append(target)
    return written


def run_cli(build_fn: Callable[[Path], list[Path]], description: str, argv: list[str] | None = None) -> int:
    """The command line both template builders share: `--out FOLDER`, prints what it wrote."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write into (default: sheet_templates/)")
    args = parser.parse_args(argv)
    for path in build_fn(args.out):
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(build, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
