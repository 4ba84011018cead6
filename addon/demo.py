"""`demo`: a realistic workbook, then everything the add-on does, on built-in defaults (mail goes to an outbox)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from addon import pipeline
from addon.config import Config, load_config
from addon.core.clock import today
from addon.i18n import locale_for_lang

DEMO_FILES = {"zh": "跟进助手演示.xlsx", "en": "followup_demo.xlsx"}
DEMO_CONFIGS = {"zh": "跟进助手演示.yaml", "en": "followup_demo.yaml"}


def demo_config_text(lang: str = "zh") -> str:
    """The demo's settings as a config file beside its workbook, so `run --config` can repeat the demo
    in either language (the project's config.yaml points at the Chinese one)."""
    return (
        f"# Written by `demo --lang {lang}`; run it again with: python3 runner.py run --config <this file>\n"
        f"source: {{excel: {DEMO_FILES[lang]}}}\n"
        f"locale: {locale_for_lang(lang)}\n"
        "state_dir: .followup\n"
        "reminders: {transport: outbox, outbox: outbox, send_on: every_day, admin: admin@example.com}\n"
    )


def write_demo_config(folder: Path, lang: str = "zh") -> Config:
    """Write the demo's config file into the demo folder and load it: the built-in defaults pointed at
    the demo workbook, mail to the outbox on any day of the week."""
    path = folder.resolve() / DEMO_CONFIGS[lang]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(demo_config_text(lang), encoding="utf-8")  # the demo's own file, rewritten each time
    return load_config(path)


def run_demo(folder: Path, *, lang: str = "zh", as_of: date | None = None, progress: pipeline.Progress = pipeline._quiet) -> pipeline.RunResult:
    from addon.demo_data import write_demo_workbook

    config = write_demo_config(folder, lang)
    as_of = as_of or today(config)
    path = config.path(config.source.excel)  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()  # the demo workbook is ours: start fresh each time
    progress(f"writing demo workbook {path}")
    write_demo_workbook(path, as_of, lang=lang)
    return pipeline.run(config, as_of=as_of, mode="demo", progress=progress)
