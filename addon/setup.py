"""`init`: give a new or existing workbook the template tabs, never touching what is already there."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from addon.backends.base import SourceUnavailable
from addon.backends.excel import EXCEL_SUFFIXES, check_readable
from addon.config import Config
from addon.core.fields import find_tab
from addon.model import WriteSet


def init_excel(path: Path, lang: str = "zh") -> str:
    """Create the workbook from the template, or add only the missing template tabs to an existing one."""
    from addon.templates import template_tabs

    zh = lang == "zh"
    if path.suffix.lower() not in EXCEL_SUFFIXES:
        raise SourceUnavailable(f"{path.name}: init creates .xlsx or .xlsm workbooks; name the file e.g. sales.xlsx",
                                zh=f"{path.name}：init 只能创建 .xlsx 或 .xlsm 工作簿；请使用如 sales.xlsx 这样的文件名")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".xlsm":
            _copy_new(macro_template(lang), path)  # the buttons and their VBA come with the template
        else:
            from addon.backends.xlsx_new import write_new_workbook

            write_new_workbook(path, template_tabs(lang))
        return f"已创建 {path}" if zh else f"Created {path}"
    check_readable(path)
    import python_calamine

    names = python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names
    missing = [tab for tab in template_tabs(lang, examples=False) if find_tab(names, tab.role) is None]
    if not missing:
        return f"{path} 已包含客户、跟进记录和团队工作表，未做改动" if zh else f"{path} already has Customers, FollowUps and Team tabs; nothing changed"
    from addon.backends.xlsx_package import update_workbook

    update_workbook(path, WriteSet(columns=None, tabs=missing), add_only=True)
    added = ", ".join(t.name for t in missing)
    return f"已向 {path} 添加工作表：{added}" if zh else f"Added to {path}: {added}"


MACRO_TEMPLATES = {"zh": "跟进助手模板.xlsm", "en": "followup_template_en.xlsm"}


def template_dirs() -> list[Path]:
    """Where the shipped workbooks are: a checkout's sheet_templates/, else where pip installed them."""
    return [Path(__file__).resolve().parents[1] / "sheet_templates", Path(sys.prefix) / "share" / "followup-addon" / "sheet_templates"]


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


def init_google(sheet: str, lang: str = "zh", config: Config | None = None) -> str:
    from addon.backends.google import init_google_sheet

    return init_google_sheet(sheet, lang=lang, config=config)
