"""`init`: give a new or existing workbook the template tabs, never touching what is already there."""

from __future__ import annotations

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
        raise SourceUnavailable(f"{path.name}: init creates .xlsx or .xlsm workbooks")
    if not path.exists():
        from addon.backends.xlsx_new import write_new_workbook

        path.parent.mkdir(parents=True, exist_ok=True)
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


def init_google(sheet: str, lang: str = "zh", config: Config | None = None) -> str:
    from addon.backends.google import init_google_sheet

    return init_google_sheet(sheet, lang=lang, config=config)
