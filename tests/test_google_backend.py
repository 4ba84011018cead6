"""The Google Sheets backend over real HTTP: gspread + google-auth against the loopback Sheets emulator."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from addon import pipeline
from addon.backends.base import SourceUnavailable
from addon.backends.google import GoogleBackend, RetryingHTTPClient, load_credentials, sheet_id_from
from addon.cli import main
from addon.config import load_config
from addon.core.fields import OWNED_COLUMNS
from tests.sheets_emulator import SCOPE_SHEETS_RO, running_emulator

AS_OF = date(2026, 11, 23)
SHEET = "1FollowUpDemoSheetForTests"


@pytest.fixture(scope="module")
def demo_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from addon.demo_data import write_demo_workbook

    path = tmp_path_factory.mktemp("demo") / "demo.xlsx"
    write_demo_workbook(path, AS_OF, lang="zh")
    return path


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RetryingHTTPClient, "base_delay", 0.01)


def google_config(tmp_path: Path, emu, sheet: str = SHEET, **extra):
    key = emu.make_service_account_key(tmp_path / "key.json")
    overrides = {
        "source": {"google": sheet, "credentials": str(key), "endpoint": emu.base_url},
        "state_dir": str(tmp_path / "state"),
        "reminders": {"outbox": str(tmp_path / "outbox"), "send_on": "every_day"},
        **extra,
    }
    return load_config(None, overrides=overrides)


def api_requests(emu) -> list[dict]:
    return [r for r in emu.requests() if r["path"].startswith("/v4/")]


def test_sheet_id_from_url_or_id() -> None:
    url = "https://docs.google.com/spreadsheets/d/1AbC-d_9/edit#gid=0"
    assert sheet_id_from(url) == "1AbC-d_9"
    assert sheet_id_from(" 1AbC ") == "1AbC"


def test_full_run_matches_excel_backend(tmp_path: Path, demo_xlsx: Path) -> None:
    with running_emulator(seed={SHEET: demo_xlsx}) as emu:
        config = google_config(tmp_path, emu)
        emu.reset_requests()
        result = pipeline.run(config, as_of=AS_OF, send=False)
        calls = api_requests(emu)
        assert len(calls) <= 6, [c["path"] for c in calls]
        assert sum(1 for c in calls if c["path"].endswith(":batchUpdate")) == 1

        excel_config = load_config(None, overrides={"source": {"excel": str(demo_xlsx)}, "state_dir": str(tmp_path / "x")})
        excel = pipeline.check(excel_config, as_of=AS_OF)
        assert [(s.key, s.status, s.next_due) for s in result.statuses] == [(s.key, s.status, s.next_due) for s in excel.statuses]
        assert len(result.dataset.issues) == len(excel.dataset.issues)

        # Owned tabs exist, the KPI tab has native charts, the Status column has colour rules.
        backend = GoogleBackend.from_config(config)
        names = backend.sheet_names()
        for tab in ("KPI汇总", "待跟进", "数据问题", "运行记录"):
            assert tab in names
        sheets = {s["properties"]["title"]: s for s in backend.metadata()["sheets"]}
        assert len(sheets["KPI汇总"].get("charts", [])) == 2
        rules = sheets["客户"].get("conditionalFormats", [])
        assert len(rules) == 8

        # Owned columns read back with what the engine computed.
        customers = backend.read(["客户"])["客户"]
        header_at = result.dataset.header_rows["客户" and "customers"] - 1
        header = customers.rows[header_at]
        status_col = header.index(OWNED_COLUMNS["status"][0])
        by_row = {s.row: s for s in result.statuses}
        from addon.i18n import status_label

        for offset, row in enumerate(customers.rows[header_at + 1:], start=header_at + 2):
            if offset in by_row:
                assert row[status_col] == status_label(by_row[offset].status, "zh-CN")


def test_second_run_adds_nothing_and_writes_little(tmp_path: Path, demo_xlsx: Path) -> None:
    with running_emulator(seed={SHEET: demo_xlsx}) as emu:
        config = google_config(tmp_path, emu)
        pipeline.run(config, as_of=AS_OF, send=False)
        first = emu.state(SHEET)
        emu.reset_requests()
        pipeline.run(config, as_of=AS_OF, send=False)
        second = emu.state(SHEET)
        update = next(r for r in api_requests(emu) if r["path"].endswith(":batchUpdate"))
        body = update.get("body") or {}
        # Unchanged owned cells of Customers are not rewritten; only the owned tabs are.
        customers_id = second["sheets"]["客户"]["properties"]["sheetId"]
        touched = [
            r for r in body.get("requests", [])
            if "updateCells" in r and (r["updateCells"].get("start") or r["updateCells"].get("range", {})).get("sheetId") == customers_id
        ]
        assert touched == []
        assert not any("addConditionalFormatRule" in r for r in body.get("requests", []))
        assert list(first["sheets"]) == list(second["sheets"])
        assert len(second["sheets"]["KPI汇总"]["charts"]) == 2  # replaced, not accumulated
        assert len(second["sheets"]["客户"]["conditionalFormats"]) == 8


def test_request_count_is_constant(tmp_path: Path) -> None:
    def book(n: int) -> dict:
        customers = [["客户编号", "客户名称", "负责人", "客户等级", "阶段", "创建日期"]]
        customers += [[f"C{i:05d}", f"客户{i}", "李娜", "B", "需求分析", date(2026, 1, 1)] for i in range(n)]
        followups = [["客户编号", "跟进日期", "方式"]] + [[f"C{i:05d}", date(2026, 11, 1), "电话"] for i in range(n)]
        return {"客户": customers, "跟进记录": followups, "团队": [["姓名", "邮箱"], ["李娜", "li.na@example.com"]]}

    counts = []
    for n in (10, 10_000):
        with running_emulator(seed={SHEET: book(n)}) as emu:
            config = google_config(tmp_path, emu)
            emu.reset_requests()
            result = pipeline.run(config, as_of=AS_OF, send=False)
            assert len(result.statuses) == n
            counts.append(len(api_requests(emu)))
    assert counts[0] == counts[1] <= 6


def test_ids_phones_and_dates_read_as_the_user_sees_them(tmp_path: Path) -> None:
    tabs = {
        "客户": [
            ["客户编号", "客户名称", "电话", "创建日期"],
            [{"userEnteredValue": {"numberValue": 123}, "userEnteredFormat": {"numberFormat": {"type": "NUMBER", "pattern": "00000"}}}, "甲", "13800138000", date(2026, 3, 4)],
            ["00042", "乙", {"userEnteredValue": {"numberValue": 13900139000}}, "2026-03-05"],
        ],
        "跟进记录": [["客户编号", "跟进日期"]],
    }
    with running_emulator(seed={SHEET: tabs}) as emu:
        backend = GoogleBackend.from_config(google_config(tmp_path, emu))
        rows = backend.read(["客户"])["客户"].rows
    assert rows[1][0] == "00123"
    assert rows[2][0] == "00042"
    assert rows[1][3] == date(2026, 3, 4)
    assert str(rows[2][2]) in ("13900139000", "13900139000.0") or rows[2][2] == 13900139000


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    tabs = {
        "客户": [["客户编号", "客户名称", "负责人", "创建日期"], ["C1", "+86 hotline", "@王五", date(2026, 1, 1)]],
        "跟进记录": [["客户编号", "跟进日期"]],
    }
    with running_emulator(seed={SHEET: tabs}) as emu:
        config = google_config(tmp_path, emu)
        pipeline.run(config, as_of=AS_OF, send=False)
        state = emu.state(SHEET)
    overdue = state["sheets"]["待跟进"]
    flat = [cell for row in overdue["formulas"] for cell in row]
    assert "+86 hotline" in flat and "@王五" in flat  # FORMULA rendering shows text, not a formula
    values = [cell for row in overdue["values"] for cell in row]
    assert "+86 hotline" in values and "@王五" in values


def test_429_storm_is_survived(tmp_path: Path, demo_xlsx: Path) -> None:
    with running_emulator(seed={SHEET: demo_xlsx}) as emu:
        config = google_config(tmp_path, emu)
        emu.inject_faults(status=429, count=3)
        result = pipeline.run(config, as_of=AS_OF, send=False)
        assert result.written
        statuses = [r.get("status") for r in emu.requests()]
        assert statuses.count(429) == 3


def test_server_errors_beyond_the_budget_write_nothing(tmp_path: Path, demo_xlsx: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RetryingHTTPClient, "max_attempts", 3)
    with running_emulator(seed={SHEET: demo_xlsx}) as emu:
        config = google_config(tmp_path, emu)
        before = emu.state(SHEET)
        emu.inject_faults(status=503, count=50, after=3)  # metadata and reads succeed, every write fails
        with pytest.raises(SourceUnavailable, match="503"):
            pipeline.run(config, as_of=AS_OF, send=False)
        emu.clear_faults()
        assert emu.state(SHEET) == before


def test_wrong_key_and_missing_scope_give_clear_messages(tmp_path: Path, demo_xlsx: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_emulator(seed={SHEET: demo_xlsx}) as emu:
        google_config(tmp_path, emu)
        # A key the emulator never issued: its signature cannot be verified.
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        info = json.loads((tmp_path / "key.json").read_text())
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        info["private_key"] = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(info))
        cfg = tmp_path / "config.yaml"
        cfg.write_text(
            f"source: {{google: {SHEET}, credentials: {bad}, endpoint: '{emu.base_url}'}}\nstate_dir: {tmp_path / 's'}\n",
            encoding="utf-8",
        )
        assert main(["check", "--config", str(cfg)]) == 3
        err = capsys.readouterr().err
        assert "无法使用数据源：Google 拒绝了凭据" in err and "请检查密钥文件" in err and "Traceback" not in err  # locale defaults to zh-CN
        cfg.write_text("locale: en\n" + cfg.read_text(encoding="utf-8"), encoding="utf-8")
        assert main(["check", "--config", str(cfg)]) == 3
        err = capsys.readouterr().err
        assert "Cannot use the source: Google refused the credentials" in err and "Traceback" not in err

        # A read-only token cannot write: the message says what to do.
        from google.oauth2 import service_account

        creds = service_account.Credentials.from_service_account_file(str(tmp_path / "key.json"), scopes=[SCOPE_SHEETS_RO])
        backend = GoogleBackend(SHEET, creds, endpoint=emu.base_url)
        from addon.model import TabSpec, WriteSet

        with pytest.raises(SourceUnavailable, match="no access") as caught:
            backend.write(WriteSet(columns=None, tabs=[TabSpec(name="X", rows=[["a"]])]))
        assert caught.value.text("zh-CN").startswith(f"无权访问表格 {SHEET}") and "共享给服务账号" in caught.value.text("zh-CN")


def test_scope_is_spreadsheets_only(tmp_path: Path) -> None:
    with running_emulator() as emu:
        key = emu.make_service_account_key(tmp_path / "key.json")
        creds = load_credentials(None, key)
        assert creds.scopes == ["https://www.googleapis.com/auth/spreadsheets"]


def test_init_google_adds_template_tabs_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_emulator(seed={SHEET: {"My notes": [["keep", "me"]]}}) as emu:
        cfg = tmp_path / "config.yaml"
        key = emu.make_service_account_key(tmp_path / "key.json")
        cfg.write_text(f"source: {{google: {SHEET}, credentials: {key}, endpoint: '{emu.base_url}'}}\n", encoding="utf-8")
        assert main(["init", "--google", SHEET, "--lang", "en", "--config", str(cfg)]) == 0
        state = emu.state(SHEET)
        titles = list(state["sheets"])
        assert titles[0] == "My notes" and {"Customers", "FollowUps", "Team"} <= set(titles)
        customers = state["sheets"]["Customers"]
        assert customers["frozenRowCount"] == 1
        assert customers["values"][0][:2] == ["Customer ID", "Name"]
        assert customers["validations"], "dropdowns installed"
        assert state["sheets"]["My notes"]["values"] == [["keep", "me"]]
        # Running init again changes nothing; without --lang it speaks the sheet's language (English tabs).
        capsys.readouterr()
        assert main(["init", "--google", SHEET, "--config", str(cfg)]) == 0
        assert list(emu.state(SHEET)["sheets"]) == titles
        assert capsys.readouterr().err.startswith("The sheet already has Customers, FollowUps and Team tabs")


def test_init_google_recognises_a_log_with_a_name_of_its_own(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The follow-up log is called "Calls": init adds Customers and Team, not an empty FollowUps beside it,
    and a run reads the contacts from Calls (with a warning that says how to name it in config.yaml)."""
    calls = [["Customer ID", "Contact date", "By", "Type"], ["C001", "2026-11-20", "Ann", "phone"]]
    with running_emulator(seed={SHEET: {"Calls": calls}}) as emu:
        cfg = tmp_path / "config.yaml"
        key = emu.make_service_account_key(tmp_path / "key.json")
        cfg.write_text(f"locale: en\nsource: {{google: {SHEET}, credentials: {key}, endpoint: '{emu.base_url}'}}\nstate_dir: state\n", encoding="utf-8")
        assert main(["init", "--google", SHEET, "--config", str(cfg)]) == 0  # the config's `locale: en`, not LANG's Chinese
        said = capsys.readouterr().err
        assert "Added tabs: Customers, Team" in said and "'Calls' is read as the FollowUps tab" in said
        assert set(emu.state(SHEET)["sheets"]) == {"Calls", "Customers", "Team"}
        result = pipeline.check(load_config(cfg), as_of=date(2026, 11, 23))
        assert result.dataset.tabs["followups"] == "Calls" and not result.blocked
        assert [i.tab for i in result.dataset.issues if i.code == "tab.guessed"] == ["Calls"]
        # Its row was read and checked against the (new, empty) customer list.
        assert [(i.tab, i.row, i.value) for i in result.dataset.issues if i.code.startswith("followup.orphan")] == [("Calls", 2, "C001")]
