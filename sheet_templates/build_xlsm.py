"""Build the macro workbooks with buttons from reviewable sources: `python sheet_templates/build_xlsm.py`.

Inputs, all in this folder:
- vba/*.bas — our VBA (the FollowUp module: one Sub per button, each a RunPython call);
- vendor/xlwings/quickstart_standalone.xlsm — xlwings' own standalone quickstart, byte for byte
  as shipped in the xlwings 0.37.8 wheel (BSD 3-clause, vendor/xlwings/LICENSE.txt). Its VBA
  project carries the xlwings module (RunPython, version constant XLWINGS_VERSION) and the
  Dictionary class it needs on macOS, so the workbook needs no add-in (standalone mode);
- addon.templates / addon.xl_settings — the Customers/FollowUps/Team and Settings tabs.

Steps: copy the quickstart's VBA project, drop its sample Module1, add our modules and one
document module per extra sheet with pyOpenVBA (MIT; saving drops the compiled p-code cache,
so Excel recompiles from source on first open), take its vbaProject.bin, and write the
workbook with XlsxWriter: the Actions / 操作 tab with form buttons bound to the macros, the
template tabs, Settings / 设置, and `_xlwings.conf` (xlwings' interpreter settings, inactive
until renamed, exactly as in xlwings' quickstart). Document properties are fixed, so a rebuild
gives the same workbook; tests/test_xlsm_template.py checks the committed files against it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

import xlsxwriter  # noqa: E402
from pyopenvba import ExcelFile  # noqa: E402
from pyopenvba._new_project import document_header  # noqa: E402
from pyopenvba.vba import VBAModuleKind  # noqa: E402

from addon.backends.xlsx_new import render_tabs  # noqa: E402
from addon.config import load_config  # noqa: E402
from addon.model import StyledCell, TabSpec  # noqa: E402
from addon.setup import MACRO_TEMPLATES  # noqa: E402
from addon.templates import lang_of, template_tabs  # noqa: E402
from addon.xl_settings import settings_tab_name, settings_tab_rows  # noqa: E402

VBA_DIR = HERE / "vba"
VENDOR = HERE / "vendor" / "xlwings"
QUICKSTART = VENDOR / "quickstart_standalone.xlsm"
XLWINGS_VERSION = "0.37.8"  # the version whose VBA module the vendored quickstart carries (pinned in pyproject)

TEMPLATES: dict[str, str] = MACRO_TEMPLATES  # the names `init --excel NEW.xlsm` copies from
CREATED = datetime(2025, 1, 1, 0, 0, 0)
PROPERTIES: dict[str, dict[str, object]] = {
    "zh": {"title": "跟进助手模板（带按钮）", "subject": "客户跟进记录", "author": "跟进助手",
           "comments": "“操作”表的按钮通过 xlwings 调用跟进助手；设置方法见 docs/excel-buttons.md。"},
    "en": {"title": "Follow-up Add-on template with buttons", "subject": "Customer follow-up log", "author": "Follow-up Add-on",
           "comments": "The buttons on the Actions tab run the add-on through xlwings; see docs/excel-buttons.md."},
}

_WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"  # VB_Base of a worksheet's document module
XLWINGS_CONF = "_xlwings.conf"  # xlwings reads "xlwings.conf"; the underscore keeps it inactive until filled in

# (macro, zh caption, en caption, zh help, en help): one button per row of the Actions tab.
BUTTONS: tuple[tuple[str, str, str, str, str], ...] = (
    ("CheckNow", "立即检查", "Check now",
     "校验数据、按跟进规则计算每位客户的状态，更新客户表右侧的跟进列以及“待跟进”“数据问题”“KPI汇总”“运行记录”表。不发送邮件。",
     "Checks the data, applies the follow-up rules, and updates the follow-up columns on the right of Customers and the "
     "Overdue, Issues, KPI and Run log tabs. Sends nothing."),
    ("RefreshKpis", "刷新 KPI", "Refresh KPIs",
     "只重新计算“KPI汇总”表（跟进及时率、转化率、漏斗、排行榜、趋势）。",
     "Recomputes only the KPI tab (on-time rate, conversion, funnel, leaderboard, trend)."),
    ("SendReminders", "发送提醒", "Send reminders",
     "准备今天的提醒邮件（每位销售的待跟进清单、给上级的升级提醒），确认后发送。默认只写入 outbox 文件夹。",
     "Prepares today's reminders (each rep's digest, escalations to managers) and sends them after you confirm. "
     "By default they are only written to the outbox folder."),
    ("OpenSettings", "设置", "Settings",
     "打开“设置”表：跟进间隔、语言、提醒方式等。此表优先于同一文件夹中的 config.yaml。",
     "Opens the Settings tab: intervals, language, how reminders are sent. It wins over config.yaml in the same folder."),
)

_ACTIONS_TEXT = {
    "tab": ("操作", "Actions"),
    "title": ("跟进助手 · 操作", "Follow-up Add-on · Actions"),
    "intro": ("点击按钮即可运行，无需打开命令行。进度显示在 Excel 底部状态栏，出现问题时会弹出提示。",
              "Click a button to run; no terminal needed. Progress shows in Excel's status bar, problems in a message box."),
    "setup": ("首次使用", "First time"),
    "steps": (
        ("1. 安装 Python 3.11+，然后在命令行运行：pip install followup-addon（会一并安装 xlwings " + XLWINGS_VERSION + "）",
         "1. Install Python 3.11+, then run: pip install followup-addon (this installs xlwings " + XLWINGS_VERSION + ")"),
        ("2. 启用宏：文件 ▸ 属性 ▸ 解除锁定，或把工作簿放在受信任位置；打开后点“启用内容”。",
         "2. Allow macros: unblock the file (Properties ▸ Unblock) or keep it in a trusted location; click Enable Content."),
        ("3. 若 Python 不在 PATH 中（或在 Mac 上）：在“_xlwings.conf”表填写解释器路径，并把表名改为 xlwings.conf。",
         "3. If Python is not on PATH (or on a Mac): put the interpreter's path in the _xlwings.conf tab and rename it to xlwings.conf."),
        ("4. Mac 还需运行一次：xlwings runpython install",
         "4. On a Mac, also run once: xlwings runpython install"),
        ("详细说明与常见错误：docs/excel-buttons.md", "Full guide and common errors: docs/excel-buttons.md"),
    ),
}

_CONF_ROWS: tuple[tuple[str, object, str, str], ...] = (
    ("Interpreter_Win", "python", r"例如 C:\Users\you\AppData\Local\Programs\Python\Python311\python.exe",
     r"e.g. C:\Users\you\AppData\Local\Programs\Python\Python311\python.exe"),
    ("Interpreter_Mac", "", "例如 /Users/you/followup/.venv/bin/python", "e.g. /Users/you/followup/.venv/bin/python"),
    ("PYTHONPATH", "", "通常留空（跟进助手已用 pip 安装）", "usually blank (the add-on is installed with pip)"),
    ("Conda Path", "", "用 Anaconda 时填写，例如 C:\\Users\\you\\anaconda3", "with Anaconda, e.g. C:\\Users\\you\\anaconda3"),
    ("Conda Env", "", "用 Anaconda 时填写环境名，例如 base", "with Anaconda, the environment, e.g. base"),
    ("Show Console", False, "TRUE = 运行时显示命令行窗口（排查问题用）", "TRUE = show a console while running (for troubleshooting)"),
)
_CONF_HELP = (
    ("把此表改名为 xlwings.conf（去掉开头的下划线）即可启用；设置必须从 A1 开始、中间不能有空行。",
     'Rename this tab to "xlwings.conf" (remove the leading underscore) to activate it; settings start in A1 with no blank rows.'),
    ("启用后，这里的设置优先于用户目录和工作簿所在文件夹中的 xlwings.conf 文件；不需要的行请整行删除。",
     "Once active, these settings win over xlwings.conf files in your user folder and beside this workbook; delete rows you do not use."),
    ("这些是 xlwings 的设置（用哪个 Python 运行）；跟进助手本身的设置在“设置”表。",
     "These are xlwings' settings (which Python runs the buttons); the add-on's own settings are on the Settings tab."),
)

BUTTON_ROW0 = 3  # 0-based row of the first button
BUTTON_SIZE = (150, 36)  # pixels
ROW_HEIGHT = 36  # points, for button rows


def vba_modules() -> dict[str, str]:
    """Our VBA sources by module name (from each file's Attribute VB_Name)."""
    modules: dict[str, str] = {}
    for path in sorted(VBA_DIR.glob("*.bas")):
        source = path.read_text(encoding="ascii")  # the project's code page is Western; keep sources ASCII
        match = re.search(r'^Attribute VB_Name = "([^"]+)"', source, re.M)
        if not match:
            raise ValueError(f"{path.name}: the first line must be Attribute VB_Name = \"<module>\"")
        modules[match.group(1)] = source.replace("\r\n", "\n").replace("\n", "\r\n")
    return modules


def vba_project_bin(sheet_count: int) -> bytes:
    """The quickstart's VBA project with our modules and a document module for each of sheet_count sheets."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "project.xlsm"
        shutil.copyfile(QUICKSTART, work)
        with ExcelFile(work) as book:
            project = book.vba_project()
            names = {m.name.casefold() for m in project.modules}
            if "module1" in names:
                project.delete_module("Module1")  # xlwings' sample macro
            for name, source in vba_modules().items():
                if name.casefold() in names:
                    raise ValueError(f"module {name} would replace one of xlwings' own modules")
                project.add_module(name, source, kind=VBAModuleKind.standard)
            for i in range(1, sheet_count + 1):
                code = f"Sheet{i}"
                if code.casefold() not in names:
                    project.add_module(code, document_header(code, _WORKSHEET_BASE), kind=VBAModuleKind.other)
            book.save()
        with ExcelFile(work) as book:
            problems = book.validate()
            if problems:
                raise RuntimeError(f"VBA project does not validate: {problems}")
        with zipfile.ZipFile(work) as package:
            return package.read("xl/vbaProject.bin")


def actions_tab(lang: str) -> TabSpec:
    i = lang_of(lang)
    t = {k: v[i] for k, v in _ACTIONS_TEXT.items() if k != "steps"}
    rows: list[list[object]] = [
        [StyledCell(t["title"], "title")],
        [StyledCell(t["intro"], "subtle")],
        [],
    ]
    for _macro, _zh, _en, help_zh, help_en in BUTTONS:
        rows.append([None, None, (help_zh, help_en)[i]])
    rows += [[], [StyledCell(t["setup"], "header")]]
    rows += [[step[i]] for step in _ACTIONS_TEXT["steps"]]
    return TabSpec(name=t["tab"], rows=rows, widths={0: 2, 1: 23, 2: 110}, freeze_rows=0, role="actions")  # type: ignore[arg-type]


def settings_tab(lang: str) -> TabSpec:
    locale = "zh-CN" if lang_of(lang) == 0 else "en"
    rows: list[list[object]] = [list(r) for r in settings_tab_rows(load_config(None, overrides={"locale": locale}), locale)]
    rows[0] = [StyledCell(rows[0][0], "subtle")]
    rows[1] = [StyledCell(c, "header") for c in rows[1]]
    return TabSpec(name=settings_tab_name(locale), rows=rows, widths={0: 30, 1: 24, 2: 24, 3: 64}, freeze_rows=2,  # type: ignore[arg-type]
                   role="settings")


def xlwings_conf_tab(lang: str) -> TabSpec:
    i = lang_of(lang)
    rows: list[list[object]] = [[key, value, None, (zh, en)[i]] for key, value, zh, en in _CONF_ROWS]
    rows += [[], [], [StyledCell(("说明：", "Instructions:")[i], "bold")]]
    rows += [[text[i]] for text in _CONF_HELP]
    return TabSpec(name=XLWINGS_CONF, rows=rows, widths={0: 18, 1: 40, 2: 2, 3: 70}, freeze_rows=0, role="xlwings_conf")  # type: ignore[arg-type]


def workbook_tabs(lang: str) -> list[TabSpec]:
    return [actions_tab(lang), *template_tabs(lang), settings_tab(lang), xlwings_conf_tab(lang)]


def build_one(target: Path, lang: str) -> Path:
    tabs = workbook_tabs(lang)
    project = vba_project_bin(len(tabs))
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        fresh = Path(scratch) / target.name
        book = xlsxwriter.Workbook(str(fresh), {
            "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False, "remove_timezone": True,
        })
        try:
            book.set_properties({**PROPERTIES[lang], "created": CREATED})
            book.set_vba_name("ThisWorkbook")
            render_tabs(book, tabs)
            for index, tab in enumerate(tabs, start=1):
                sheet = book.get_worksheet_by_name(tab.name)
                sheet.set_vba_name(f"Sheet{index}")
            actions = book.get_worksheet_by_name(tabs[0].name)
            actions.activate()
            i = lang_of(lang)
            for n, (macro, zh, en, _hz, _he) in enumerate(BUTTONS):
                row = BUTTON_ROW0 + n
                actions.set_row(row, ROW_HEIGHT)
                actions.insert_button(row, 1, {
                    "macro": macro, "caption": (zh, en)[i], "width": BUTTON_SIZE[0], "height": BUTTON_SIZE[1],
                    "x_offset": 2, "y_offset": 4,
                })
            book.add_vba_project(io.BytesIO(project), is_stream=True)
        finally:
            book.close()
        os.replace(fresh, target)
    return target


def build(out_dir: Path = HERE) -> list[Path]:
    """Write both macro templates into out_dir; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [build_one(out_dir / name, lang) for lang, name in TEMPLATES.items()]


def main(argv: list[str] | None = None) -> int:
    from sheet_templates.build import run_cli

    return run_cli(build, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
