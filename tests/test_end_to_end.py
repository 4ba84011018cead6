"""The whole product through its CLI on real .xlsx files: demo, repeated runs, broken and foreign workbooks."""

from __future__ import annotations

import email
import json
import shutil
import subprocess
import sys
from datetime import date
from email import policy
from pathlib import Path

import pytest
import python_calamine

from addon.cli import main
from addon.core.fields import OWNED_COLUMNS, OWNED_TABS
from tests.conftest import AS_OF, CORPUS

ROOT = Path(__file__).resolve().parents[1]
OWNED_HEADERS = {h for pair in OWNED_COLUMNS.values() for h in pair}
OWNED_TAB_NAMES = {n for pair in OWNED_TABS.values() for n in pair}


def sheets(path: Path) -> dict[str, list[list]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}


def owned_column_indexes(rows: list[list]) -> tuple[int, list[int]]:
    for r, row in enumerate(rows[:30]):
        cols = [c for c, v in enumerate(row) if v in OWNED_HEADERS]
        if cols:
            return r, cols
    return -1, []


def user_cells(book: dict[str, list[list]], customers_tab: str) -> dict[tuple[str, int, int], object]:
    """Every non-blank cell the user owns: all tabs but ours, minus our columns on Customers."""
    cells = {}
    _, owned = owned_column_indexes(book.get(customers_tab, []))
    for name, rows in book.items():
        if name in OWNED_TAB_NAMES:
            continue
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value != "" and not (name == customers_tab and c in owned):
                    cells[(name, r, c)] = value
    return cells


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str, str]:
    folder = tmp_path_factory.mktemp("demo")
    code = main(["demo", "--dir", str(folder), "--as-of", AS_OF.isoformat(), "--json", "--quiet"])
    return folder, code, "", ""


def test_demo_writes_everything(demo, capsys) -> None:
    folder, code, _, _ = demo
    assert code == 0
    path = folder / "跟进助手演示.xlsx"
    book = sheets(path)
    for tab in ("客户", "跟进记录", "团队", "KPI汇总", "待跟进", "数据问题", "运行记录"):
        assert tab in book, tab
    header_at, owned = owned_column_indexes(book["客户"])
    assert len(owned) == 6
    statuses = {row[owned[4]] for row in book["客户"][header_at + 1:] if len(row) > owned[4]}
    assert {"正常", "逾期", "逾期升级", "建议退回公海", "今日到期"} <= statuses
    assert len(book["待跟进"]) > 10 and len(book["数据问题"]) > 5
    emails = list((folder / "outbox").glob("*.eml"))
    assert emails, "digests written to the outbox"
    message = email.message_from_bytes(emails[0].read_bytes(), policy=policy.default)
    assert message["Subject"] and message.get_body(("html",)) is not None


def test_second_run_reuses_owned_columns_and_keeps_user_cells(demo, tmp_path: Path) -> None:
    folder, _, _, _ = demo
    path = tmp_path / "book.xlsx"
    shutil.copy(folder / "跟进助手演示.xlsx", path)
    before = sheets(path)
    config = tmp_path / "config.yaml"
    config.write_text(f"source: {{excel: {path.name}}}\nstate_dir: state\nreminders: {{transport: outbox, outbox: out}}\n", encoding="utf-8")
    for _ in range(2):
        assert main(["run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--no-send", "--quiet"]) in (0, 1)
    after = sheets(path)
    header_at, owned = owned_column_indexes(after["客户"])
    assert len(owned) == 6, "no duplicate owned columns"
    assert [after["客户"][header_at][c] for c in owned] == [pair[0] for pair in OWNED_COLUMNS.values()]
    assert user_cells(before, "客户") == user_cells(after, "客户")
    runlog = after["运行记录"]
    assert sum(1 for row in runlog[2:] if row and row[0]) == 3  # demo run + two runs, newest first


def test_check_json_lists_bad_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from addon.backends.xlsx_new import write_new_workbook
    from addon.model import TabSpec

    path = tmp_path / "broken.xlsx"
    write_new_workbook(path, [
        TabSpec("客户", [["客户编号", "客户名称", "负责人", "邮箱", "阶段"],
                         ["C1", "甲公司", "李娜", "li@example.com", "需求分析"],
                         ["C1", "乙公司", "李娜", "not-an-email", "火星阶段"],
                         ["", "", "", "", ""],
                         ["C3", "", "李娜", "", ""]]),
        TabSpec("跟进记录", [["客户编号", "跟进日期", "方式"],
                            ["C1", "2026/13/45", "电话"],
                            ["C9", "2026-11-01", "电话"]]),
    ])
    config = tmp_path / "config.yaml"
    config.write_text(f"source: {{excel: {path.name}}}\n", encoding="utf-8")
    original = path.read_bytes()
    code = main(["check", "--config", str(config), "--as-of", AS_OF.isoformat(), "--json", "--quiet"])
    assert code == 1
    assert path.read_bytes() == original  # check writes nothing
    doc = json.loads(capsys.readouterr().out)
    located = {(i["tab"], i["row"], i["severity"]) for i in doc["issues"]}
    assert ("客户", 3, "error") in located  # duplicate id
    assert ("客户", 5, "error") in located  # missing name
    assert ("跟进记录", 2, "error") in located  # unparseable date
    assert ("跟进记录", 3, "error") in located  # unknown customer
    assert any(i["row"] == 3 and i["severity"] == "warning" for i in doc["issues"])  # bad email / unknown stage
    assert not any(i["row"] == 4 and i["tab"] == "客户" for i in doc["issues"])  # a blank row is ignored
    assert doc["summary"]["errors"] >= 4


def test_foreign_headers_adopted_through_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from addon.backends.xlsx_new import write_new_workbook
    from addon.model import TabSpec

    path = tmp_path / "crm_export.xlsx"
    write_new_workbook(path, [
        TabSpec("accounts", [["opportunity_id", "account", "sales_agent", "deal_stage", "engage_date"],
                             ["OPP-1", "Acme", "Moses Frase", "Engaging", date(2026, 10, 1)],
                             ["OPP-2", "Betasoloin", "Moses Frase", "Won", date(2026, 9, 1)]]),
        TabSpec("activities", [["opportunity_id", "when", "how"],
                               ["OPP-1", date(2026, 11, 20), "Phone"],
                               ["OPP-2", date(2026, 11, 2), "Email"]]),
    ])
    config = tmp_path / "config.yaml"
    config.write_text(
        "source: {excel: crm_export.xlsx}\n"
        "tabs: {customers: accounts, followups: activities}\n"
        "columns:\n"
        "  customers: {customer_id: [opportunity_id], name: [account], owner: [sales_agent], stage: [deal_stage], created: [engage_date]}\n"
        "  followups: {customer_id: [opportunity_id], date: [when], channel: [how]}\n"
        "vocab:\n  stage: {qualified: [Engaging], won: [Won]}\n"
        "locale: en\n",
        encoding="utf-8",
    )
    code = main(["check", "--config", str(config), "--as-of", AS_OF.isoformat(), "--json", "--quiet"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0, doc["issues"]
    by_id = {c["customer_id"]: c for c in doc["customers"]}
    assert by_id["OPP-1"]["owner"] == "Moses Frase"
    assert by_id["OPP-1"]["last_contact"] == "2026-11-20"
    assert by_id["OPP-1"]["next_due"] == "2026-12-04"  # tier B (default) every 14 days
    assert by_id["OPP-2"]["status"] in {"ok", "due_soon", "due_today", "overdue", "escalated"}
    assert not any(i["severity"] == "error" for i in doc["issues"])


def test_config_error_names_key_value_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("source: {excel: x.xlsx}\ncadence: {by_tier: {A: weekly}}\n", encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "cadence.by_tier.A" in err and "'weekly'" in err and "7d" in err


@pytest.mark.parametrize(("yaml_text", "where", "hint", "listed"), [
    ("cadence: {by_teir: {A: 7d}}\n", "cadence.by_teir: unknown key", "did you mean `by_tier`?", "pool_after"),
    ("workbooks: [{name: east, source: {exel: east.xlsx}}]\n", "workbooks.0.source.exel: unknown key", "did you mean `excel`?", "google"),
    ("sorce: {excel: x.xlsx}\n", "sorce: unknown key", "did you mean `source`?", "reminders"),
    ("schedule: {times: ['09:00']}\n", "schedule.times: unknown key", "", "at, days, every"),
])
def test_an_unknown_key_is_answered_with_the_keys_that_exist(
    yaml_text: str, where: str, hint: str, listed: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("locale: en\n" + yaml_text, encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 2
    line = next(line for line in capsys.readouterr().err.splitlines() if where in line)
    assert (hint in line) if hint else ("did you mean" not in line)  # no far-fetched guess
    assert "known keys here: " in line and listed in line and "base_dir" not in line


@pytest.mark.parametrize(("locale", "said"), [
    ("zh-CN", "无法使用数据源：book.xlsx 正在被 Excel 或 LibreOffice 打开（锁文件 ~$book.xlsx）；请关闭后再运行。"),
    ("en", "Cannot use the source: book.xlsx is open in Excel or LibreOffice (lock file ~$book.xlsx); close it and run again."),
])
def test_locked_workbook_exit_3_and_unchanged(locale: str, said: str, demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, _, _, _ = demo
    path = tmp_path / "book.xlsx"
    shutil.copy(folder / "跟进助手演示.xlsx", path)
    (tmp_path / "~$book.xlsx").write_bytes(b"locked by Excel")
    original = path.read_bytes()
    config = tmp_path / "config.yaml"
    config.write_text(f"locale: {locale}\nsource: {{excel: book.xlsx}}\nreminders: {{outbox: out}}\nstate_dir: state\n", encoding="utf-8")
    assert main(["run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet"]) == 3
    assert said in capsys.readouterr().err
    assert path.read_bytes() == original
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.eml")), "nothing sent when the run is refused"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.xls*")), ids=lambda p: p.name)
def test_reading_the_corpus_never_crashes(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    config = tmp_path / "config.yaml"
    config.write_text(f"source: {{excel: '{copy.name}'}}\n", encoding="utf-8")
    code = main(["check", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if path.name == "pass_protected.xlsx":
        assert code == 3 and "设有密码" in err  # the built-in locale is zh-CN
    else:
        # No Customers tab is a data problem (exit 1); a file the reader cannot decode is refused by name (exit 3).
        assert code in (0, 1) or (code == 3 and path.name in err), err
    assert copy.read_bytes() == path.read_bytes()


def test_runner_py_and_console_script_are_twins(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "runner.py"), "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and "demo" in out.stdout and "doctor" in out.stdout


@pytest.mark.libreoffice
def test_demo_workbook_opens_in_libreoffice(demo, soffice: str, tmp_path: Path) -> None:
    folder, _, _, _ = demo
    shutil.copy(folder / "跟进助手演示.xlsx", tmp_path / "demo.xlsx")
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "demo.xlsx")],
                   check=True, capture_output=True, timeout=180, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert (tmp_path / "demo.pdf").stat().st_size > 10_000


@pytest.mark.libreoffice
def test_a_workbook_saved_by_libreoffice_runs_with_nothing_of_its_own_changed(demo, soffice: str, tmp_path: Path) -> None:
    """A team that saves with LibreOffice (or WPS) hands over parts written by another producer: its own
    styles, namespaces and shared strings. Two runs change only the Customers part, the owned tabs and
    what lists them; every user value reads back as it was."""
    import zipfile

    from tests.helpers.xlsx_check import libreoffice_convert, sheet_parts

    folder, _, _, _ = demo
    shutil.copy(folder / "跟进助手演示.xlsx", tmp_path / "team.xlsx")
    (tmp_path / "lo").mkdir()
    path = libreoffice_convert(tmp_path / "team.xlsx", tmp_path / "lo", fmt="xlsx")
    with zipfile.ZipFile(path) as book:
        before = {name: book.read(name) for name in book.namelist()}
    values = user_cells(sheets(path), "客户")
    config = tmp_path / "config.yaml"
    config.write_text(f"source: {{excel: {path}}}\nstate_dir: state\nexcel: {{backups: 0}}\n", encoding="utf-8")
    for _ in range(2):
        assert main(["run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--no-send", "--quiet"]) == 1  # the demo's data errors
    with zipfile.ZipFile(path) as book:
        after = {name: book.read(name) for name in book.namelist()}
    changed = {name for name in before if after.get(name) != before[name]}
    tabs = sheet_parts(path)
    ours = {tabs["客户"], *(part for name, part in tabs.items() if name in OWNED_TAB_NAMES)}
    owned_parts = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml", "docProps/app.xml"}
    assert tabs["客户"] in changed and tabs["跟进记录"] not in changed and tabs["团队"] not in changed
    assert all(name in owned_parts | ours or name.startswith(("xl/charts/", "xl/drawings/", "xl/worksheets/_rels/")) for name in changed), changed
    assert sorted(user_cells(sheets(path), "客户").items(), key=repr) == sorted(values.items(), key=repr)
    statuses = sheets(path)["客户"]
    header, owned = owned_column_indexes(statuses)
    assert header == 1 and len(owned) == 6 and {"逾期升级", "正常"} <= {row[owned[4]] for row in statuses[2:]}  # under a title row
    assert {OWNED_TABS[role][0] for role in ("kpi", "overdue", "issues", "runlog")} <= set(tabs)


def test_run_with_several_workbooks_keeps_going_past_a_broken_one(demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, _, _, _ = demo
    shutil.copy(folder / "跟进助手演示.xlsx", tmp_path / "east.xlsx")
    config = tmp_path / "config.yaml"
    config.write_text(
        "workbooks:\n"
        "  - {name: 华东团队, source: {excel: east.xlsx}}\n"
        "  - {name: South, source: {excel: missing.xlsx}, locale: en}\n"
        "state_dir: state\nreminders: {outbox: out}\n",
        encoding="utf-8",
    )
    before = sheets(tmp_path / "east.xlsx")
    code = main(["run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--no-send", "--json", "--quiet"])
    assert code == 3
    assert "missing.xlsx" in capsys.readouterr().err
    after = sheets(tmp_path / "east.xlsx")
    assert len(after["运行记录"]) == len(before["运行记录"]) + 1  # the good workbook was run


@pytest.mark.parametrize(("lang", "expected"), [("zh", "  提醒：已发送 "), ("en", "  Reminders: sent ")])
def test_summary_speaks_the_workbook_language(lang: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--dir", str(tmp_path), "--lang", lang, "--as-of", AS_OF.isoformat()]) == 0
    out = capsys.readouterr().err  # the summary is for people: stderr, so --json output stays clean
    line = next(line for line in out.splitlines() if line.startswith(expected[:6]))
    assert line.startswith(expected) and ("sent" not in line if lang == "zh" else "已" not in line)
    assert any(line.startswith("跟进助手 — 演示 · " if lang == "zh" else "Follow-up Add-on — demo · ") for line in out.splitlines())
    status = next(line for line in out.splitlines() if line.startswith(("  状态：", "  Status: ")))
    labels = ("建议退回公海", "逾期升级", "逾期", "今日到期", "即将到期", "正常") if lang == "zh" else ("Return to pool", "Escalated", "Overdue", "Due today", "Due soon", "OK")
    assert [status.index(f"{label} ") for label in labels] == sorted(status.index(f"{label} ") for label in labels)  # most urgent first


def test_message_lines_speak_the_workbook_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from addon.demo_data import write_demo_workbook

    write_demo_workbook(tmp_path / "book.xlsx", AS_OF, "en")
    config = tmp_path / "config.yaml"

    def configure(locale: str) -> None:
        config.write_text(f"locale: {locale}\nsource: {{excel: book.xlsx}}\nstate_dir: state\n"
                          "reminders: {transport: outbox, outbox: outbox, send_on: every_day}\n", encoding="utf-8")

    configure("en")
    assert main(["run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--dry-run", "--quiet", "--json"]) in (0, 1)
    captured = capsys.readouterr()
    planned = json.loads(captured.out)["messages"]
    lines = [line for line in captured.err.splitlines() if line.startswith("  would send: ")]
    assert planned and len(lines) == len(planned)
    first = planned[0]
    assert lines[0] == f"  would send: follow-up digest → {first['to']} ({len(first['customers'])} customers)"

    configure("zh-CN")
    assert main(["remind", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet"]) == 1  # sent; the demo has bad rows
    err = capsys.readouterr().err
    sent = [line for line in err.splitlines() if line.startswith("  已发送：")]
    assert len(sent) == len(planned) and "sent" not in err and "digest" not in err
    assert sent[0] == f"  已发送：跟进提醒 → {first['to']}（{len(first['customers'])} 位客户）"


def test_english_summary_counts_one_and_many(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Customers"
    book.active.append(["Name", "Owner", "Tier"])
    book.active.append(["Acme", "Li", "A"])  # Li is not in a Team tab: one warning
    follow = book.create_sheet("FollowUps")
    follow.append(["Customer name", "Date"])
    book.save(tmp_path / "one.xlsx")
    config = tmp_path / "config.yaml"
    config.write_text("locale: en\nsource: {excel: one.xlsx}\nstate_dir: state\n", encoding="utf-8")
    main(["check", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet", "--json"])
    captured = capsys.readouterr()
    warnings = json.loads(captured.out)["summary"]["warnings"]
    assert "  1 customer, 0 follow-ups\n" in captured.err
    assert f"  Data issues: 0 errors, {warnings} warning{'' if warnings == 1 else 's'}\n" in captured.err


def _messy_workbook(path: Path, rows: int) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Customers"
    book.active.append(["Customer ID", "Name", "Email"])
    for i in range(rows):
        book.active.append([f"C{i:04d}", f"Customer {i}", "not-an-address"])  # a warning each
    book.active.append(["C0000", "Duplicate ID", ""])  # one error, last in sheet order
    book.create_sheet("FollowUps").append(["Customer ID", "Date"])
    book.save(path)


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_check_lists_errors_first_and_keeps_the_summary_in_view(locale: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from addon.cli import ISSUES_SHOWN

    _messy_workbook(tmp_path / "messy.xlsx", ISSUES_SHOWN + 30)
    config = tmp_path / "config.yaml"
    config.write_text(f"locale: {locale}\nsource: {{excel: messy.xlsx}}\nstate_dir: state\n", encoding="utf-8")
    assert main(["check", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet", "--json"]) == 1
    total = len(json.loads(capsys.readouterr().out)["issues"])
    assert total > ISSUES_SHOWN

    error, warning = ("[错误]", "[警告]") if locale == "zh-CN" else ("[error]", "[warning]")
    assert main(["check", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet"]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("  [")]
    assert len(lines) == ISSUES_SHOWN
    assert lines[0].startswith(f"  {error} ") and all(line.startswith(f"  {warning} ") for line in lines[1:])
    assert main(["check", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet"]) == 1
    more = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("  …"))
    assert str(total - ISSUES_SHOWN) in more and "--all" in more

    assert main(["check", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet", "--all"]) == 1
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if line.startswith("  [")]) == total and "  …" not in err
    # "Tab!row Column: message"; a tab-level issue (no row, no column) reads "Tab: message", without a stray space.
    assert not [line for line in err.splitlines() if line.startswith("  [") and (" : " in line or " ：" in line)]


def test_progress_lines_speak_the_workbook_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from addon.demo_data import write_demo_workbook
    from addon.i18n import PROGRESS_STEPS, progress_text

    write_demo_workbook(tmp_path / "book.xlsx", AS_OF, "zh")
    config = tmp_path / "config.yaml"
    config.write_text("locale: zh-CN\nsource: {excel: book.xlsx}\nstate_dir: state\n", encoding="utf-8")
    main(["run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--no-send"])
    progress = [line for line in capsys.readouterr().err.splitlines() if line.startswith("… ")]
    assert progress[0] == f"… 正在读取 {tmp_path / 'book.xlsx'}"  # the path kept
    assert progress[1:] == ["… 正在校验数据", "… 正在计算跟进状态和 KPI", "… 正在写入状态列和汇总工作表"]
    assert progress_text("validating rows", "en") == "validating rows"
    assert progress_text("something else", "zh-CN") == "something else"  # an unknown line is shown as it is
    assert all(zh and en for zh, en in PROGRESS_STEPS.values())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_without_a_locale_every_line_of_a_command_speaks_the_workbook_language(lang: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from addon.demo_data import write_demo_workbook

    write_demo_workbook(tmp_path / "book.xlsx", AS_OF, lang)
    config = tmp_path / "config.yaml"
    config.write_text("source: {excel: book.xlsx}\nstate_dir: state\nreminders: {transport: outbox, outbox: out}\n", encoding="utf-8")
    validating, summary = ("… 正在校验数据", "  客户 ") if lang == "zh" else ("… validating rows", "  200 customers")
    for command in (["run", "--no-send"], ["check"], ["kpi"], ["remind"]):
        main([*command, "--config", str(config), "--as-of", AS_OF.isoformat()])
        err = capsys.readouterr().err.splitlines()
        assert validating in err, (command, err[:3])
        assert command[0] == "kpi" or any(line.startswith(summary) for line in err), (command, err)


SLOW_READ = """
import sys, time
from addon.backends import calamine_tabs
real = calamine_tabs.read_rows
def slow(path, name):  # a tab that takes long to parse, as a 500,000-row one does
    print("reading", flush=True)
    time.sleep(60)
    return real(path, name)
calamine_tabs.read_rows = slow
sys.argv = ["followup"] + sys.argv[1:]
from addon.cli import entry
entry()
"""


@pytest.mark.parametrize(("locale", "said"), [("zh-CN", "已中断；没有写入任何不完整的内容。"), ("en", "Interrupted; nothing partial was written.")])
def test_ctrl_c_while_a_tab_loads_exits_at_once(locale: str, said: str, tmp_path: Path) -> None:
    import signal
    import time

    project = Path(__file__).resolve().parents[1]
    assert main(["init", "--excel", str(tmp_path / "book.xlsx"), "--lang", "en"]) == 0
    before = (tmp_path / "book.xlsx").read_bytes()
    config = tmp_path / "config.yaml"
    config.write_text(f"locale: {locale}\nsource: {{excel: book.xlsx}}\nstate_dir: state\n", encoding="utf-8")
    script = tmp_path / "slow.py"
    script.write_text(SLOW_READ, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), "run", "--config", str(config), "--quiet"], cwd=project,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().startswith("reading")  # (threads may share the line)
    time.sleep(0.2)
    interrupted = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and said in err and "Traceback" not in err
    assert time.monotonic() - interrupted < 10  # not held until the 60-second read ends
    assert (tmp_path / "book.xlsx").read_bytes() == before


def test_two_workbooks_each_send_their_own_reminders_to_a_shared_admin(demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Once per day is per workbook: the admin (and anyone in both teams) hears about each of them."""
    folder, _, _, _ = demo
    for name in ("east.xlsx", "south.xlsx"):
        shutil.copy(folder / "跟进助手演示.xlsx", tmp_path / name)
    config = tmp_path / "config.yaml"
    config.write_text(
        "locale: en\nstate_dir: state\nreminders: {outbox: out, send_on: every_day, admin: admin@example.com}\n"
        "workbooks:\n  - {name: East, source: {excel: east.xlsx}}\n  - {name: South, source: {excel: south.xlsx}}\n",
        encoding="utf-8",
    )
    args = ["run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet", "--json"]
    main(args)
    east, south = json.loads(capsys.readouterr().out)
    for doc in (east, south):
        assert doc["messages"] and {m["outcome"] for m in doc["messages"]} == {"sent"}
    assert sum(m["to"] == "admin@example.com" for doc in (east, south) for m in doc["messages"]) == 2
    mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in (tmp_path / "out").rglob("*.eml")]
    assert len(mails) == len(east["messages"]) + len(south["messages"])
    to_admin = {m["Message-ID"] for m in mails if "admin@example.com" in m["To"]}
    assert len(to_admin) == 2  # two messages, told apart by their Message-ID (clients collapse equal ones)
    main(args)  # the same day again: nothing twice
    again = json.loads(capsys.readouterr().out)
    assert {m["outcome"] for doc in again for m in doc["messages"]} == {"already_sent"}


def test_the_shared_ledger_of_earlier_versions_is_carried_over(demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What the one ledger knew (sent today) still holds after the upgrade to one ledger per workbook."""
    from addon.config import load_config
    from addon.notify.ledger import LEGACY_FILE_NAME, ledger_path

    folder, _, _, _ = demo
    shutil.copy(folder / "跟进助手演示.xlsx", tmp_path / "book.xlsx")
    config = tmp_path / "config.yaml"
    config.write_text("locale: en\nstate_dir: state\nsource: {excel: book.xlsx}\nreminders: {outbox: out, send_on: every_day}\n", encoding="utf-8")
    args = ["run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet", "--json"]
    main(args)
    sent = json.loads(capsys.readouterr().out)["messages"]
    assert sent and {m["outcome"] for m in sent} == {"sent"}
    own = ledger_path(load_config(config))
    own.rename(own.with_name(LEGACY_FILE_NAME))  # as an earlier version left it
    main([*args, "--dry-run"])  # a dry run reads the shared ledger and writes nothing, not even the copy
    assert {m["outcome"] for m in json.loads(capsys.readouterr().out)["messages"]} == {"already_sent"} and not own.exists()
    main(args)
    assert {m["outcome"] for m in json.loads(capsys.readouterr().out)["messages"]} == {"already_sent"}
    assert own.exists() and len(list((tmp_path / "out").rglob("*.eml"))) == len(sent)


def test_a_missing_followups_tab_stops_statuses_and_reminders(demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No follow-ups at all would read as everyone overdue: nothing is computed, written into the data or sent."""
    folder, _, _, _ = demo
    path = tmp_path / "book.xlsx"
    shutil.copy(folder / "跟进助手演示.xlsx", path)
    before = sheets(path)
    config = tmp_path / "config.yaml"
    config.write_text("source: {excel: book.xlsx}\ntabs: {followups: Log}\nstate_dir: state\n"
                      "reminders: {outbox: out, send_on: every_day, admin: admin@example.com}\n", encoding="utf-8")
    assert main(["run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["messages"] == [] and not (tmp_path / "out").exists()
    assert doc["summary"]["statuses"] == {} and doc["summary"]["blocked"] == ["找不到跟进记录工作表（期望：Log）"]
    after = sheets(path)
    for tab in ("客户", "KPI汇总", "待跟进"):  # statuses and KPIs keep their last good state
        assert after[tab] == before[tab], tab
    assert any("找不到跟进记录工作表" in str(cell) for row in after["数据问题"] for cell in row)
    assert any("缺少工作表或必需的列：未计算状态、未发送提醒" in str(cell) for row in after["运行记录"] for cell in row)


def test_a_followups_tab_without_its_date_column_stops_statuses_and_reminders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Customers"
    book.active.append(["Customer ID", "Name", "Owner", "Tier"])
    book.active.append(["C1", "Acme", "Ann", "A"])
    log = book.create_sheet("FollowUps")
    log.append(["Customer ID", "Notes"])
    log.append(["C1", "called"])
    book.save(tmp_path / "book.xlsx")
    config = tmp_path / "config.yaml"
    config.write_text("locale: en\nsource: {excel: book.xlsx}\nstate_dir: state\nreminders: {outbox: out, send_on: every_day}\n", encoding="utf-8")
    assert main(["run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "No statuses computed, no reminders sent: Tab 'FollowUps' is missing required columns: Date" in err
    assert not (tmp_path / "out").exists()
    written = sheets(tmp_path / "book.xlsx")
    assert written["Customers"] == [["Customer ID", "Name", "Owner", "Tier"], ["C1", "Acme", "Ann", "A"]]  # no status columns
    assert "Issues" in written and "Overdue" not in written


def test_a_config_without_locale_speaks_each_workbooks_language(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An English workbook gets English tabs, columns and summary, a Chinese one Chinese, unless `locale:` says otherwise."""
    from addon.demo_data import write_demo_workbook

    write_demo_workbook(tmp_path / "east.xlsx", AS_OF, "zh")
    write_demo_workbook(tmp_path / "south.xlsx", AS_OF, "en")
    config = tmp_path / "config.yaml"
    config.write_text("state_dir: state\nworkbooks:\n  - {name: East, source: {excel: east.xlsx}}\n"
                      "  - {name: South, source: {excel: south.xlsx}}\n", encoding="utf-8")
    assert main(["run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--no-send"]) == 1  # the demo's bad rows
    err = capsys.readouterr().err
    assert "跟进助手 — 运行 · " in err and "Follow-up Add-on — run · " in err
    east, south = sheets(tmp_path / "east.xlsx"), sheets(tmp_path / "south.xlsx")
    assert {"KPI汇总", "待跟进", "数据问题", "运行记录"} <= set(east) and not {"KPI", "Overdue", "Issues", "Run log"} & set(east)
    assert {"KPI", "Overdue", "Issues", "Run log"} <= set(south) and not {"KPI汇总", "待跟进", "数据问题", "运行记录"} & set(south)
    assert owned_column_indexes(south["Customers"])[0] >= 0
    assert "Status" in south["Customers"][owned_column_indexes(south["Customers"])[0]]

    config.write_text("locale: zh-CN\nstate_dir: state\nsource: {excel: south.xlsx}\n", encoding="utf-8")  # said explicitly: obeyed
    main(["run", "--config", str(config), "--as-of", AS_OF.isoformat(), "--no-send", "--quiet"])
    assert "数据问题" in sheets(tmp_path / "south.xlsx")


def test_a_rep_without_email_is_reported_once_under_a_custom_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Customers"
    book.active.append(["Name", "Owner", "Tier", "Created"])
    book.active.append(["Acme", "Li", "A", "2026-01-05"])  # overdue: a digest for Li is planned
    follow = book.create_sheet("FollowUps")
    follow.append(["Customer name", "Date"])
    follow.append(["Acme", "2026-10-01"])
    team = book.create_sheet("Team")
    team.append(["Name", "Work address"])
    team.append(["Li", ""])
    book.save(tmp_path / "one.xlsx")
    config = tmp_path / "config.yaml"
    config.write_text("locale: en\nsource: {excel: one.xlsx}\nstate_dir: state\ncolumns: {team: {email: [Work address]}}\n"
                      "reminders: {outbox: out, send_on: every_day}\n", encoding="utf-8")
    for command in ("check", "run"):
        main([command, "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet", "--json"])
        issues = json.loads(capsys.readouterr().out)["issues"]
        about_li = [i for i in issues if i["tab"] == "Team" and i["row"] == 2]
        assert [(i["column"], i["severity"]) for i in about_li] == [("Work address", "warning")], command


@pytest.mark.parametrize(("locale", "said"), [("zh-CN", "  提醒：今天不是工作日，不发送提醒"), ("en", "  Reminders: today is not a working day, so no reminders are sent")])
def test_remind_on_a_weekend_says_why_nothing_was_sent(locale: str, said: str, demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, _, _, _ = demo
    shutil.copy(folder / "跟进助手演示.xlsx", tmp_path / "book.xlsx")
    config = tmp_path / "config.yaml"
    config.write_text(f"locale: {locale}\nsource: {{excel: book.xlsx}}\nstate_dir: state\nreminders: {{outbox: out}}\n", encoding="utf-8")
    saturday = date(2026, 11, 21)
    assert main(["remind", "--config", str(config), "--as-of", saturday.isoformat(), "--quiet", "--json"]) == 1  # the demo has bad rows
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["messages"] == [] and doc["summary"]["reminders_skipped"] == "not_working_day"
    assert any(line.startswith(said) for line in captured.err.splitlines())
    assert not (tmp_path / "out").exists()
    main(["remind", "--config", str(config), "--as-of", AS_OF.isoformat(), "--quiet", "--json"])  # a Monday: sent, no such line
    captured = capsys.readouterr()
    assert json.loads(captured.out)["summary"]["reminders_skipped"] is None and said not in captured.err


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_demo_leaves_a_config_to_run_it_again(lang: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from addon.demo import DEMO_CONFIGS

    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--dir", "demo", "--lang", lang, "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    again = next(line for line in capsys.readouterr().err.splitlines() if "runner.py run --config" in line)
    assert again.endswith(f"runner.py run --config {Path('demo') / DEMO_CONFIGS[lang]}")
    code = main(["run", "--config", str(Path("demo") / DEMO_CONFIGS[lang]), "--as-of", AS_OF.isoformat(), "--quiet", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["summary"]["written"]  # the demo's deliberate bad rows
    assert {m["outcome"] for m in doc["messages"]} == {"already_sent"}  # the demo's own ledger: nothing mailed twice
    assert ("Issues" in sheets(tmp_path / "demo" / "followup_demo.xlsx")) if lang == "en" else ("数据问题" in sheets(tmp_path / "demo" / "跟进助手演示.xlsx"))
