"""`init --excel` on a path that does not exist yet: .xlsx built from the templates, .xlsm copied
from the macro template (its buttons and VBA cannot be generated), and both shipped with the add-on."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest

from addon import pipeline, setup
from addon.backends import SourceUnavailable
from addon.cli import main
from addon.config import load_config
from addon.core.fields import OWNED_COLUMNS, OWNED_TABS
from tests.helpers.user_books import nameless_workbook, own_names_workbook

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_new_xlsm_is_the_macro_template_and_runs(lang: str, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "team.xlsm"
    assert main(["init", "--excel", str(path), "--lang", lang]) == 0
    template = ROOT / "sheet_templates" / setup.MACRO_TEMPLATES[lang]
    assert path.read_bytes() == template.read_bytes()
    config = load_config(None, overrides={"locale": "zh-CN" if lang == "zh" else "en", "source": {"excel": str(path)},
                                          "state_dir": str(tmp_path / "state"), "excel": {"backups": 0}})
    assert pipeline.run(config, as_of=date(2026, 11, 23), send=False).written
    with zipfile.ZipFile(path) as new, zipfile.ZipFile(template) as old:
        assert new.read("xl/vbaProject.bin") == old.read("xl/vbaProject.bin")  # the buttons' macros survive the run


def test_a_new_xlsx_is_built_from_the_template_tabs(tmp_path: Path) -> None:
    path = tmp_path / "team.xlsx"
    assert main(["init", "--excel", str(path), "--lang", "en"]) == 0
    with zipfile.ZipFile(path) as book:
        assert "xl/vbaProject.bin" not in book.namelist()
    assert "already has" in setup.init_excel(path, "en")  # a second init changes nothing


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_new_xlsx_has_examples_dated_from_today(lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first run on a new workbook shows what the add-on does (due soon, overdue, and an escalated
    customer without an owner), not three customers a year late."""
    from addon.core import clock

    day = date(2027, 3, 15)
    monkeypatch.setattr(clock, "today", lambda config, now=None: day)
    path = tmp_path / "team.xlsx"
    assert main(["init", "--excel", str(path), "--lang", lang]) == 0
    config = load_config(None, overrides={"source": {"excel": str(path)}, "state_dir": str(tmp_path / "state")})
    result = pipeline.check(config, as_of=day)
    assert not result.dataset.issues
    assert sorted(s.status for s in result.statuses) == ["due_soon", "escalated", "overdue"]
    assert max(f.at for f in result.dataset.followups).date() == day - timedelta(days=2)


def test_a_missing_macro_template_is_a_clear_refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(setup, "template_dirs", lambda: [tmp_path / "nowhere"])
    path = tmp_path / "team.xlsm"
    assert main(["init", "--excel", str(path), "--lang", "en"]) == 3
    err = capsys.readouterr().err
    assert "followup_template_en.xlsm is not installed" in err and "Traceback" not in err
    assert not path.exists()


def test_creating_never_overwrites_a_file_that_appeared(tmp_path: Path) -> None:
    target = tmp_path / "team.xlsm"
    target.write_bytes(b"the user's own file")
    with pytest.raises(SourceUnavailable, match="appeared while it was being created"):
        setup._copy_new(setup.macro_template("zh"), target)
    assert target.read_bytes() == b"the user's own file"


def test_the_wheel_ships_the_templates_where_init_looks_for_them(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "addon", source / "addon", ignore=shutil.ignore_patterns("__pycache__"))
    (source / "sheet_templates").mkdir()
    for template in [*ROOT.glob("sheet_templates/*.xlsx"), *ROOT.glob("sheet_templates/*.xlsm")]:
        shutil.copy(template, source / "sheet_templates" / template.name)
    shutil.copy(ROOT / "config.yaml", source / "config.yaml")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), str(source)],
                   check=True, capture_output=True, cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {Path(n).name for n in archive.namelist() if "/data/share/followup-addon/sheet_templates/" in n}
        configs = [n for n in archive.namelist() if n.endswith(".data/data/share/followup-addon/config.yaml")]
        assert len(configs) == 1 and archive.read(configs[0]) == (ROOT / "config.yaml").read_bytes()
    installed_dir = setup.template_dirs()[-1]
    assert installed_dir.parts[-3:] == ("share", "followup-addon", "sheet_templates")  # where pip puts them under sys.prefix
    assert set(setup.MACRO_TEMPLATES.values()) <= shipped
    assert {p.name for p in ROOT.glob("sheet_templates/*.xls[xm]")} == shipped


@pytest.mark.parametrize(("lang", "said"), [("zh", "new.csv：init 只能创建 .xlsx 或 .xlsm 工作簿"), ("en", "new.csv: init creates .xlsx or .xlsm workbooks")])
def test_init_of_a_csv_is_a_usage_error_in_the_users_language(lang: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--excel", str(tmp_path / "new.csv"), "--lang", lang]) == 2
    assert capsys.readouterr().err.startswith(said)
    assert not (tmp_path / "new.csv").exists()


def test_a_missing_config_file_points_at_the_shipped_one_not_at_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert "nope.yaml" in err and "config.yaml" in err and "init" not in err


@pytest.mark.parametrize(("lang", "said"), [("zh", "已在旁边写入带注释的 config.yaml"), ("en", "Wrote a commented config.yaml beside it")])
def test_init_leaves_a_starter_config_that_runs_the_new_workbook(lang: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "销售 2026.xlsx"
    assert main(["init", "--excel", str(path), "--lang", lang]) == 0
    assert said in capsys.readouterr().err
    starter = tmp_path / "config.yaml"
    config = load_config(starter)
    assert config.path(config.source.excel) == path
    assert config.reminders.transport == "outbox" and config.path(config.reminders.outbox) == tmp_path / "outbox"
    assert config.path(config.state_dir) == tmp_path / ".followup"
    assert "demo/" not in starter.read_text(encoding="utf-8")  # nothing of the demo's files is left
    # Every comment of the shipped file is kept: the starter is the same documentation.
    shipped = (ROOT / "config.yaml").read_text(encoding="utf-8").splitlines()
    assert len(starter.read_text(encoding="utf-8").splitlines()) == len(shipped) - 1  # the two state_dir lines become one
    assert main(["run", "--config", str(starter), "--as-of", "2026-11-23", "--quiet"]) == 0
    assert (tmp_path / "outbox").is_dir()

    # A config already in the folder is never replaced, whatever init does next.
    starter.write_text("source: {excel: other.xlsx}\n", encoding="utf-8")
    assert main(["init", "--excel", str(tmp_path / "second.xlsx"), "--lang", lang]) == 0
    assert "config.yaml" not in capsys.readouterr().err
    assert starter.read_text(encoding="utf-8") == "source: {excel: other.xlsx}\n"


def test_init_of_an_existing_workbook_also_offers_a_starter_config(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "mine.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.save(path)
    message = setup.init_excel(path, "en")
    assert message.startswith(f"Added to {path}: Customers, FollowUps, Team")
    assert "config.yaml" in message and load_config(tmp_path / "config.yaml").path(load_config(tmp_path / "config.yaml").source.excel) == path


def test_a_follow_up_log_with_a_name_of_its_own_is_read_and_init_adds_no_empty_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = own_names_workbook(tmp_path / "sales.xlsx")
    config = load_config(None, overrides={"source": {"excel": str(path)}, "state_dir": str(tmp_path / "state"), "excel": {"backups": 0}})
    result = pipeline.check(config, as_of=date(2026, 11, 23))
    assert len(result.dataset.followups) == 1 and result.dataset.tabs["followups"] == "Calls"
    guessed = [i for i in result.dataset.issues if i.code == "tab.guessed"]
    assert [(i.severity, i.tab) for i in guessed] == [("warning", "Calls")]
    assert "'Calls' is read as the FollowUps tab" in guessed[0].message and "`tabs: followups: Calls`" in guessed[0].suggestion
    assert next(s for s in result.statuses if s.key.lower() == "acme").last_contact == date(2026, 11, 20)

    assert main(["init", "--excel", str(path), "--lang", "en"]) == 0
    said = capsys.readouterr().err
    assert "Added to" in said and "Team" in said and "FollowUps" not in said.splitlines()[0]  # no empty log beside the real one
    assert "config.yaml says so: `tabs: followups: Calls`" in said
    import python_calamine

    assert python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names == ["Accounts", "Calls", "Team"]
    starter = load_config(tmp_path / "config.yaml")
    assert starter.tabs.followups == "Calls" and starter.tabs.customers is None
    after = pipeline.check(starter, as_of=date(2026, 11, 23))  # named in the config now: no warning left
    assert len(after.dataset.followups) == 1 and not [i for i in after.dataset.issues if i.code == "tab.guessed"]


def test_two_candidate_logs_are_not_guessed_between(tmp_path: Path) -> None:
    path = own_names_workbook(tmp_path / "sales.xlsx", second_log=True)
    config = load_config(None, overrides={"locale": "en", "source": {"excel": str(path)}, "state_dir": str(tmp_path / "state")})
    result = pipeline.check(config, as_of=date(2026, 11, 23))
    missing = [i for i in result.dataset.issues if i.code == "tab.missing"]
    assert missing and "Calls, Calls 2025" in missing[0].suggestion and result.statuses == []  # stopped, and says which tabs exist
    # A configured name is the administrator's word: nothing is guessed in its place.
    named = load_config(None, overrides={"locale": "en", "source": {"excel": str(path)}, "tabs": {"followups": "Log"}})
    assert [i.code for i in pipeline.check(named, as_of=date(2026, 11, 23)).dataset.issues if i.code.startswith("tab.")][:1] == ["tab.missing"]


def test_init_without_lang_speaks_the_workbooks_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An English workbook gets an English Team tab and English words, though the environment says
    nothing (LANG=C: Chinese by default); `--lang` still decides when given."""
    import openpyxl
    import python_calamine

    path = own_names_workbook(tmp_path / "sales.xlsx")  # Accounts + Calls, no Team
    assert main(["init", "--excel", str(path)]) == 0
    said = capsys.readouterr().err
    assert said.startswith(f"Added to {path}: Team") and "config.yaml says so" in said
    assert python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names == ["Accounts", "Calls", "Team"]

    chinese = tmp_path / "zh" / "销售.xlsx"
    chinese.parent.mkdir()
    book = openpyxl.Workbook()
    book.active.title = "客户"
    book.save(chinese)
    assert main(["init", "--excel", str(chinese), "--lang", "en"]) == 0  # told: English, whatever the workbook
    assert capsys.readouterr().err.startswith(f"Added to {chinese}: FollowUps, Team")


@pytest.mark.parametrize(("lang", "tabs", "said"), [("en_US.UTF-8", ["Customers", "FollowUps", "Team"], "Created"),
                                                    ("zh_CN.UTF-8", ["客户", "跟进记录", "团队"], "已创建"),
                                                    ("C.UTF-8", ["客户", "跟进记录", "团队"], "已创建")])
def test_init_without_lang_of_a_new_or_nameless_workbook_follows_the_environment(
    lang: str, tabs: list[str], said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import openpyxl
    import python_calamine

    monkeypatch.setenv("LANG", lang)
    new = tmp_path / "new.xlsx"
    assert main(["init", "--excel", str(new)]) == 0
    assert capsys.readouterr().err.startswith(f"{said} {new}")
    assert python_calamine.CalamineWorkbook.from_path(str(new)).sheet_names[:3] == tabs
    # "Sheet1" says nothing about a language: the environment's again.
    nameless = tmp_path / "other" / "book.xlsx"
    nameless.parent.mkdir()
    openpyxl.Workbook().save(nameless)
    assert main(["init", "--excel", str(nameless)]) == 0
    assert python_calamine.CalamineWorkbook.from_path(str(nameless)).sheet_names == ["Sheet", *tabs]


@pytest.mark.parametrize(("environment", "lang"), [("en_US.UTF-8", "zh"), ("zh_CN.UTF-8", "en"), ("C.UTF-8", "en")])
def test_tabs_named_sheet1_speak_their_headers_language_in_a_run_and_in_init(
    environment: str, lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sheet1/Sheet2 say nothing; the headers do, whatever the machine's language: a Chinese team's
    workbook on an English server gets Chinese columns and tabs, not English ones beside its own."""
    monkeypatch.setenv("LANG", environment)
    i = 0 if lang == "zh" else 1
    path = nameless_workbook(tmp_path / "book.xlsx", lang)
    config = load_config(None, overrides={"source": {"excel": str(path)}, "state_dir": str(tmp_path / "state"), "excel": {"backups": 0}})
    result = pipeline.run(config, as_of=date(2026, 11, 23), send=False)
    assert result.config.locale == ("zh-CN", "en")[i] and result.written
    guessed = [issue.message for issue in result.dataset.issues if issue.code == "tab.guessed"]
    assert len(guessed) == 2 and guessed[0].startswith(("没有名为“客户”的工作表", "No tab is named Customers")[i])
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    assert {OWNED_TABS[role][i] for role in ("kpi", "overdue", "issues", "runlog")} <= set(book.sheet_names)
    assert OWNED_COLUMNS["status"][i] in book.get_sheet_by_name("Sheet1").to_python()[0]

    assert main(["init", "--excel", str(path)]) == 0  # no --lang: the same judgement
    said = capsys.readouterr().err
    assert said.startswith((f"已向 {path} 添加工作表：团队", f"Added to {path}: Team")[i])
    starter = load_config(tmp_path / "config.yaml")  # names Sheet1 and Sheet2: nothing is guessed any more
    assert (starter.tabs.customers, starter.tabs.followups) == ("Sheet1", "Sheet2")
    again = pipeline.run(starter, as_of=date(2026, 11, 23), send=False)
    assert again.config.locale == ("zh-CN", "en")[i] and not [x for x in again.dataset.issues if x.code == "tab.guessed"]


def test_a_workbook_no_tab_of_which_is_recognised_speaks_the_environments_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["x", "y"])
    book.save(path)
    for environment, words in (("en_US.UTF-8", "No Customers tab found"), ("zh_CN.UTF-8", "找不到客户工作表")):
        monkeypatch.setenv("LANG", environment)
        config = load_config(None, overrides={"source": {"excel": str(path)}, "state_dir": str(tmp_path / "state")})
        result = pipeline.check(config, as_of=date(2026, 11, 23))
        assert result.blocked and result.blocked[0].message.startswith(words)


def test_init_of_an_existing_workbook_honours_the_configs_tabs_and_locale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """config.yaml names the customer list "Kunden" (headers no rule could recognise) and sets `locale: en`:
    init adds only the FollowUps and Team tabs, in English, and leaves the config as it is."""
    import openpyxl
    import python_calamine

    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Kunden"
    book.active.append(["Firma", "Betreuer"])
    book.save(path)
    cfg = tmp_path / "config.yaml"
    cfg.write_text('locale: en\nsource: {excel: book.xlsx}\ntabs: {customers: "Kunden"}\n', encoding="utf-8")
    assert main(["init", "--excel", str(path), "--config", str(cfg)]) == 0
    assert capsys.readouterr().err.startswith(f"Added to {path}: FollowUps, Team")
    assert python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names == ["Kunden", "FollowUps", "Team"]
    assert cfg.read_text(encoding="utf-8").startswith("locale: en\n")
