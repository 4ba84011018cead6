"""The macro templates (sheet_templates/*.xlsm): VBA, buttons, tabs, and what LibreOffice makes of them.

No Excel here, so each claim is checked by an independent reader: oletools' olevba for the VBA
project, the VML drawing for the buttons' macro bindings, LibreOffice for whether a binding
resolves to a Sub that exists (it keeps only those), calamine for the cells.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
import python_calamine
import xlwings
from oletools.olevba import VBA_Parser
from pyopenvba import ExcelFile

import addon.xl
from addon import pipeline
from addon.config import load_config
from addon.core.fields import FIELDS, find_tab, header_aliases, normalize
from addon.xl_settings import find_settings_tab, parse_settings
from sheet_templates import build_xlsm

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = {lang: ROOT / "sheet_templates" / name for lang, name in build_xlsm.TEMPLATES.items()}
PUBLIC_BUTTONS = {"check_now", "refresh_kpis", "send_reminders", "open_settings"}


def vba_modules(path: Path) -> dict[str, str]:
    parser = VBA_Parser(str(path))
    try:
        return {name.rsplit(".", 1)[0]: code.replace("\r\n", "\n") for _f, _s, name, code in parser.extract_all_macros()}
    finally:
        parser.close()


def subs(code: str) -> set[str]:
    return set(re.findall(r"^\s*(?:Public\s+)?Sub\s+(\w+)\s*\(", code, re.M | re.I))


def button_bindings(path: Path) -> list[tuple[str, str]]:
    """(caption, macro) of every form button, from the VML drawings."""
    out = []
    with zipfile.ZipFile(path) as package:
        for name in sorted(n for n in package.namelist() if n.startswith("xl/drawings/vmlDrawing")):
            vml = package.read(name).decode("utf-8")
            for shape in re.findall(r"<v:shape\b.*?</v:shape>", vml, re.S):
                macro = re.search(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", shape)
                caption = re.search(r"<font[^>]*>([^<]*)</font>", shape)
                if macro:
                    out.append((caption.group(1) if caption else "", macro.group(1)))
    return out


def cells(path: Path) -> dict[str, list[list[object]]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


@pytest.mark.parametrize("lang", sorted(TEMPLATES))
def test_olevba_reads_back_our_module_and_xlwings(lang: str) -> None:
    modules = vba_modules(TEMPLATES[lang])
    assert {"FollowUp", "xlwings", "Dictionary", "ThisWorkbook"} <= set(modules)
    assert {f"Sheet{i}" for i in range(1, len(build_xlsm.workbook_tabs(lang)) + 1)} <= set(modules)
    assert "Module1" not in modules  # xlwings' sample macro is dropped
    source = (ROOT / "sheet_templates" / "vba" / "FollowUp.bas").read_text(encoding="ascii")
    assert modules["FollowUp"].strip() == source.replace("\r\n", "\n").strip()
    assert "Function RunPython(" in modules["xlwings"]


def test_vba_sources_are_ascii_and_name_their_module() -> None:
    for path in (ROOT / "sheet_templates" / "vba").glob("*.bas"):
        data = path.read_bytes()
        data.decode("ascii")  # the project's code page is Western: CJK text would turn into ????
        assert data.startswith(f'Attribute VB_Name = "{path.stem}"'.encode())


@pytest.mark.parametrize("lang", sorted(TEMPLATES))
def test_every_runpython_command_calls_a_function_of_addon_xl(lang: str) -> None:
    code = vba_modules(TEMPLATES[lang])["FollowUp"]
    commands = re.findall(r'RunPython\s+"([^"]+)"', code)
    called = set()
    for command in commands:
        tree = ast.parse(command)
        assert isinstance(tree.body[0], ast.Import) and tree.body[0].names[0].name == "addon.xl"
        call = tree.body[1].value  # type: ignore[attr-defined]
        assert isinstance(call, ast.Call) and not call.args and not call.keywords
        assert ast.unparse(call.func).startswith("addon.xl.")
        name = call.func.attr  # type: ignore[attr-defined]
        assert callable(getattr(addon.xl, name)), name
        called.add(name)
    assert called == PUBLIC_BUTTONS


@pytest.mark.parametrize("lang", sorted(TEMPLATES))
def test_each_button_is_bound_to_an_existing_macro(lang: str) -> None:
    modules = vba_modules(TEMPLATES[lang])
    ours = subs(modules["FollowUp"])
    bindings = button_bindings(TEMPLATES[lang])
    i = 0 if lang == "zh" else 1
    assert bindings == [((zh, en)[i], macro) for macro, zh, en, _hz, _he in build_xlsm.BUTTONS]
    assert {macro for _c, macro in bindings} == ours
    every_sub = set().union(*(subs(code) for code in modules.values()))
    assert all(macro in every_sub for _c, macro in bindings)


@pytest.mark.libreoffice
def test_libreoffice_binds_every_button_to_its_sub(tmp_path: Path, soffice: str) -> None:
    """LibreOffice keeps a button's script binding only when the Sub exists in the VBA project."""
    for lang, path in TEMPLATES.items():
        out = tmp_path / lang
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--convert-to", "ods",
                        "--outdir", str(out), str(path)], check=True, capture_output=True, timeout=180)
        ods = out / (path.stem + ".ods")
        content = zipfile.ZipFile(ods).read("content.xml").decode("utf-8")
        buttons = re.findall(r'<form:button\b[^>]*form:label="([^"]*)"[^>]*>(.*?)</form:button>', content, re.S)
        i = 0 if lang == "zh" else 1
        expected = {(zh, en)[i]: macro for macro, zh, en, _hz, _he in build_xlsm.BUTTONS}
        bound = {}
        for label, body in buttons:
            href = re.search(r'xlink:href="([^"]*)"', body)
            bound[label] = href.group(1).replace("&amp;", "&") if href else None
        assert bound == {
            label: f"vnd.sun.star.script:VBAProject.FollowUp.{macro}?language=Basic&location=document"
            for label, macro in expected.items()
        }


@pytest.mark.parametrize("lang", sorted(TEMPLATES))
def test_the_vba_project_validates_and_carries_the_pinned_xlwings(lang: str) -> None:
    with ExcelFile(TEMPLATES[lang]) as book:
        assert book.validate() == []
    module = vba_modules(TEMPLATES[lang])["xlwings"]
    version = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', module).group(1)  # type: ignore[union-attr]
    assert version == xlwings.__version__ == build_xlsm.XLWINGS_VERSION
    assert f"xlwings64-{version}.dll" in module  # the DLL the Windows side loads matches too
    pin = re.search(r'"xlwings==([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pin is not None and pin.group(1) == version


def test_vendored_quickstart_is_xlwings_own_file_with_its_licence() -> None:
    vendored = build_xlsm.QUICKSTART.read_bytes()
    record = importlib.metadata.distribution("xlwings").read_text("RECORD") or ""
    line = next(r for r in record.splitlines() if r.startswith("xlwings/quickstart_standalone.xlsm,"))
    import base64

    digest = base64.urlsafe_b64encode(hashlib.sha256(vendored).digest()).rstrip(b"=").decode()
    assert line.split(",")[1] == f"sha256={digest}"
    licence = (build_xlsm.VENDOR / "LICENSE.txt").read_text(encoding="utf-8")
    assert "BSD 3-clause" in licence and "except\nthe pro folder" in licence


@pytest.mark.parametrize("lang", sorted(TEMPLATES))
def test_tabs_and_headers_are_what_the_engine_expects(lang: str) -> None:
    sheets = cells(TEMPLATES[lang])
    names = list(sheets)
    assert names[0] == ("操作" if lang == "zh" else "Actions")
    assert names[-1] == build_xlsm.XLWINGS_CONF
    config = load_config(None, overrides={"locale": "zh-CN" if lang == "zh" else "en"})
    roles = pipeline.resolve_tabs(names, config)
    for role in ("customers", "followups", "team"):
        tab = roles[role]
        assert tab is not None and tab == find_tab(names, role)
        aliases = header_aliases(role)
        header = [h for h in sheets[tab][0] if h]
        assert [aliases.get(normalize(h)) for h in header] == [f.key for f in FIELDS[role]]
    settings = find_settings_tab(names)
    assert settings is not None and settings not in roles.values()
    overrides, _where = parse_settings(sheets[settings], settings)
    assert overrides == {}  # the template's Settings tab starts empty: config.yaml and defaults apply


@pytest.mark.parametrize("lang", sorted(TEMPLATES))
def test_xlwings_conf_tab_reads_as_xlwings_reads_it(lang: str) -> None:
    rows = cells(TEMPLATES[lang])[build_xlsm.XLWINGS_CONF]
    keys = []
    for row in rows:  # xlwings reads A1 down to the first blank cell
        if not row or row[0] in (None, ""):
            break
        keys.append(row[0])
    assert keys == [k for k, *_ in build_xlsm._CONF_ROWS]
    assert rows[0][:2] == ["Interpreter_Win", "python"]


@pytest.mark.parametrize("lang", sorted(TEMPLATES))
def test_committed_template_matches_a_fresh_build(lang: str, tmp_path: Path) -> None:
    fresh = build_xlsm.build_one(tmp_path / build_xlsm.TEMPLATES[lang], lang)
    committed = TEMPLATES[lang]
    assert cells(fresh) == cells(committed)
    assert vba_modules(fresh) == vba_modules(committed)
    assert button_bindings(fresh) == button_bindings(committed)


@pytest.mark.parametrize("lang", sorted(TEMPLATES))
def test_the_buttons_functions_run_on_the_template(lang: str, tmp_path: Path) -> None:
    """What a rep gets on the first click: the template's own tabs, read as Excel holds them."""
    import xlwings as xw

    from tests import xlwings_memory_engine as mem

    app = mem.install().new_app()
    try:
        book = app.open_book(str(tmp_path / TEMPLATES[lang].name), cells(TEMPLATES[lang]))
        result = addon.xl.check_now(book)
        assert app.alerts == [] and result is not None and result.written
        assert result.config.locale == ("zh-CN" if lang == "zh" else "en")
        assert len(result.dataset.customers) == 3 and result.errors == 0
        addon.xl.check_now(book)  # a second press reuses the owned columns
        header = book.sheets[find_tab(book.sheet_names, "customers")].range("A1").expand("right").value
        assert len(header) == len(FIELDS["customers"]) + 6
        assert addon.xl.open_settings(book) == find_settings_tab(book.sheet_names)
        assert app.alerts == []
    finally:
        app.quit()
        if hasattr(xw.Book, "_mock_caller"):
            del xw.Book._mock_caller
