"""`init`: give a new or existing workbook the template tabs, never touching what is already there."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from addon.backends.base import Backend, SourceUnavailable
from addon.backends.excel import EXCEL_SUFFIXES, ExcelBackend, check_readable
from addon.config import Config, load_config
from addon.core.fields import GUESSABLE, lang_index
from addon.i18n import locale_for_lang
from addon.model import TabSpec, WriteSet
from addon.pipeline import (
    Recognised,
    find_roles,
    guessed_tab_words,
    resolve_tabs,
    spoken_locale,
)


class NotAWorkbookName(SourceUnavailable):
    """`init --excel new.csv`: a wrong argument (exit 2), not a source that cannot be reached (exit 3)."""


def init_lang(names: list[str] | None, config: Config | None = None, headers: Callable[[], Sequence[object]] = tuple) -> str:
    """init's language when `--lang` is not given: the config's `locale:` when it sets one, else the one a
    run would speak (pipeline.spoken_locale: an existing workbook's tab names, else the headers of its tabs
    recognised by them, so an English workbook gets English tabs beside its own; else LANG, else zh)."""
    if config is not None and "locale" in config.model_fields_set:
        locale = config.locale
    else:
        locale = spoken_locale(names or [], headers)
    return ("zh", "en")[lang_index(locale)]


def init_excel(path: Path, lang: str | None = None, config: Config | None = None) -> str:
    """Create the workbook from the template, or add only the missing template tabs to an existing one
    (tabs and headers named in `config` count as present); then leave a starter config.yaml beside it when
    that folder has none (`write_starter_config`), naming the user's own tabs recognised by their headers."""
    said, recognised, lang = _give_template_tabs(path, lang, config)
    starter = write_starter_config(path, {role: tab for role, (tab, _) in recognised.items()})
    said += _recognised_text(recognised, lang, in_starter=starter is not None)
    if starter is None:
        return said
    return said + (f"\n已在旁边写入带注释的 {starter.name}（提醒先写入 outbox 文件夹）；运行：followup run --config {starter}" if lang == "zh"
                   else f"\nWrote a commented {starter.name} beside it (reminders go to the outbox folder until you set up mail); "
                        f"run: followup run --config {starter}")


def missing_template_tabs(backend: Backend, lang: str | None, config: Config | None = None) -> tuple[list[TabSpec], Recognised, str]:
    """The template tabs a workbook lacks, its own tabs recognised by their headers instead (a follow-up
    log called "Calls" gets no empty FollowUps tab beside it: the runs would read the empty one), and the
    language of the tabs to add (`lang`, else init_lang)."""
    from addon.templates import template_tabs

    config = config or load_config(None)
    names = backend.sheet_names()
    roles, guessed, headers = resolve_tabs(names, config), {}, tuple
    if any(roles[role] is None for role in GUESSABLE):  # else no tab needs reading
        found = find_roles(backend, config, names)
        roles, guessed, headers = found.tabs, found.guessed, lambda: found.headers(config)
    lang = lang or init_lang(names, config, headers)
    return [tab for tab in template_tabs(lang, examples=False) if roles.get(tab.role) is None], guessed, lang


def _recognised_text(recognised: Recognised, lang: str, *, in_starter: bool) -> str:
    """One line per tab recognised by its headers, and how to make that explicit."""
    lines = []
    for role, (tab, headers) in recognised.items():
        message, fix = guessed_tab_words(role, tab, headers, locale_for_lang(lang))
        if in_starter:
            fix = f"已写入 config.yaml：tabs: {role}: {tab}" if lang == "zh" else f"config.yaml says so: `tabs: {role}: {tab}`"
        lines.append(f"\n{message}{'；' if lang == 'zh' else '. '}{fix}")
    return "".join(lines)


def _give_template_tabs(path: Path, lang: str | None, config: Config | None) -> tuple[str, Recognised, str]:
    """What init does to the workbook itself, the sentence that says so, the user's tabs recognised by their
    headers, and the language it spoke (`lang`, else `init_lang`: the workbook is opened once for both)."""
    from addon.templates import template_tabs

    if path.suffix.lower() not in EXCEL_SUFFIXES:
        raise NotAWorkbookName(f"{path.name}: init creates .xlsx or .xlsm workbooks; name the file e.g. sales.xlsx",
                               zh=f"{path.name}：init 只能创建 .xlsx 或 .xlsm 工作簿；请使用如 sales.xlsx 这样的文件名")
    if not path.exists():
        lang = lang or init_lang(None, config)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".xlsm":
            _copy_new(macro_template(lang), path)  # the buttons and their VBA come with the template
        else:
            from addon.backends.xlsx_new import write_new_workbook
            from addon.core.clock import today

            # Examples dated from today: due soon, overdue and escalated on the first run, not a year late.
            write_new_workbook(path, template_tabs(lang, as_of=today(config or load_config(None))))
        return (f"已创建 {path}" if lang == "zh" else f"Created {path}"), {}, lang
    check_readable(path)
    backend = ExcelBackend(path)
    try:
        missing, recognised, lang = missing_template_tabs(backend, lang, config)
    finally:
        backend.close()
    zh = lang == "zh"
    if not missing:
        return (f"{path} 已包含客户、跟进记录和团队工作表，未做改动" if zh else f"{path} already has Customers, FollowUps and Team tabs; nothing changed"), recognised, lang
    from addon.backends.xlsx_package import update_workbook

    update_workbook(path, WriteSet(columns=None, tabs=missing), add_only=True)
    added = ", ".join(t.name for t in missing)
    return (f"已向 {path} 添加工作表：{added}" if zh else f"Added to {path}: {added}"), recognised, lang


# The shipped config.yaml runs the demo; a starter config for a user's workbook changes just these lines.
_STARTER_EDITS = (
    ("# As shipped, this file runs on the demo workbook that `python runner.py demo` creates, and \"sends\"\n"
     "# reminders into an outbox folder as .eml files, so a fresh install never mails anyone.\n",
     "# Written by `init` for {name}. Reminders \"send\" into the outbox folder as .eml files until\n"
     "# you set `reminders: transport: smtp` below, so nobody is mailed before you are ready.\n"),
    ("  excel: demo/跟进助手演示.xlsx\n", "  excel: {quoted}\n"),
    ("  outbox: demo/outbox ", "  outbox: outbox      "),
    ("state_dir: demo/.followup            # ledger, status file, logs: the demo's, so its reminders are not sent twice;\n"
     "                                     # for your own workbook e.g. .followup (one state folder per workbook set)\n",
     "state_dir: .followup                 # ledger, status file, logs (one state folder per workbook set)\n"),
)


def shipped_dirs() -> list[Path]:
    """Where the files that come with the add-on are: a checkout's root, else where pip installed them
    (pyproject's data-files, under share/followup-addon)."""
    return [Path(__file__).resolve().parents[1], Path(sys.prefix) / "share" / "followup-addon"]


def shipped_config() -> Path | None:
    """The commented config.yaml that comes with the add-on."""
    return next((d / "config.yaml" for d in shipped_dirs() if (d / "config.yaml").is_file()), None)


_STARTER_TABS = "tabs:\n  customers:\n  followups:\n  team:\n"


def write_starter_config(workbook: Path, tabs: Mapping[str, str] | None = None) -> Path | None:
    """A commented config.yaml beside the workbook, pointed at it (and at `tabs`: role -> the user's tab),
    when that folder has none yet (never overwritten); None when there already is one or the shipped file
    cannot be found or adapted."""
    target, shipped = workbook.parent / "config.yaml", shipped_config()
    if target.exists() or shipped is None:
        return None
    body = shipped.read_text(encoding="utf-8")
    edits = [(old, new.replace("{name}", workbook.name).replace("{quoted}", _yaml_text(workbook.name))) for old, new in _STARTER_EDITS]
    if tabs:
        lines = [f"  {role}: {_yaml_text(tabs[role])}" if role in tabs else f"  {role}:" for role in ("customers", "followups", "team")]
        edits.append((_STARTER_TABS, "\n".join(["tabs:", *lines, ""])))
    for old, new in edits:
        if old not in body:
            return None  # the shipped file changed shape: better no starter than a wrong one
        body = body.replace(old, new)
    try:
        with target.open("x", encoding="utf-8") as out:
            out.write(body)
    except OSError:
        return None  # appeared meanwhile, or the folder is read-only: init itself succeeded
    return target


def _yaml_text(value: str) -> str:
    """A YAML scalar that reads back as exactly `value` (a JSON string is valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


MACRO_TEMPLATES = {"zh": "跟进助手模板.xlsm", "en": "followup_template_en.xlsm"}


def template_dirs() -> list[Path]:
    """Where the shipped workbooks are (sheet_templates/ of `shipped_dirs`)."""
    return [folder / "sheet_templates" for folder in shipped_dirs()]


def macro_template(lang: str) -> Path:
    """The .xlsm template with the buttons (Check now, Refresh KPIs, Send reminders, Settings)."""
    name = MACRO_TEMPLATES["zh" if lang == "zh" else "en"]
    for folder in template_dirs():
        if (folder / name).is_file():
            return folder / name
    looked = ", ".join(str(d) for d in template_dirs())
    raise SourceUnavailable(f"the macro template {name} is not installed (looked in {looked}); reinstall the add-on, or create an .xlsx instead")


def _copy_new(template: Path, path: Path) -> None:
    """Copy without ever overwriting: a file that appeared meanwhile is left alone."""
    try:
        with template.open("rb") as source, path.open("xb") as target:
            shutil.copyfileobj(source, target)
    except FileExistsError:
        raise SourceUnavailable(f"{path} appeared while it was being created; nothing was changed, run init again") from None
    except OSError as error:
        path.unlink(missing_ok=True)
        raise SourceUnavailable(f"cannot create {path}: {error.strerror or error}") from None


def init_google(sheet: str, lang: str | None = None, config: Config | None = None) -> str:
    """Add the template tabs (headers, dropdowns, frozen rows) the sheet lacks; other tabs untouched."""
    from addon.backends.google import open_sheet

    backend = open_sheet(sheet, config)
    missing, recognised, lang = missing_template_tabs(backend, lang, config)
    zh = lang == "zh"
    if missing:
        backend.write(WriteSet(columns=None, tabs=missing))
        added = ", ".join(t.name for t in missing)
        said = f"已添加工作表：{added}" if zh else f"Added tabs: {added}"
    else:
        said = "表格已包含客户、跟进记录和团队工作表，未做改动" if zh else "The sheet already has Customers, FollowUps and Team tabs; nothing changed"
    return said + _recognised_text(recognised, lang, in_starter=False)
