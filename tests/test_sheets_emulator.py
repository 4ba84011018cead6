"""The Sheets emulator driven by the real gspread client over loopback HTTP.

Authentication is the real thing too: a service-account key file issued by the emulator,
google-auth's JWT-bearer grant against the emulator's token endpoint, bearer tokens on every
call. These tests pin the behaviours our Google backend relies on (A1 forms, RAW vs
USER_ENTERED, render options, batching, formats, rules, charts, faults, request counts).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import gspread
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.exceptions import RefreshError
from google.oauth2.service_account import Credentials
from gspread.utils import DateTimeOption, ValueInputOption, ValueRenderOption

from addon.backends.gspread_endpoint import client_for, rewrite
from tests.sheets_emulator import SCOPE_SHEETS, SCOPE_SHEETS_RO, Emulator, running_emulator

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "xlsx-corpus"
RAW = ValueInputOption.raw
USER = ValueInputOption.user_entered


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with running_emulator(random_seed=7) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def key(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return emu.make_service_account_key(tmp_path_factory.mktemp("keys") / "service-account.json")


@pytest.fixture(scope="module")
def gc(emu: Emulator, key: Path) -> gspread.Client:
    creds = Credentials.from_service_account_file(str(key), scopes=[SCOPE_SHEETS])
    return client_for(creds, endpoint=emu.base_url)


_counter = iter(range(10**6))


@pytest.fixture
def sheet_id(emu: Emulator) -> str:
    """A fresh spreadsheet with one empty tab 'Sheet1'."""
    sid = f"test-{next(_counter)}"
    emu.seed_rows(sid, {"Sheet1": []}, title="Test")
    return sid


def api_error(exc: pytest.ExceptionInfo[gspread.exceptions.APIError]) -> dict:
    return exc.value.response.json()["error"]


# -- auth ---------------------------------------------------------------------------------------


def test_service_account_key_grants_token_and_scope_is_recorded(emu: Emulator, gc: gspread.Client, sheet_id: str) -> None:
    assert gc.open_by_key(sheet_id).title == "Test"
    grants = emu.token_requests()
    assert grants and grants[-1]["scopes"] == [SCOPE_SHEETS]
    assert grants[-1]["client_email"] == "followup-tests@emulator.iam.gserviceaccount.com"


def test_key_file_points_at_emulator(emu: Emulator, key: Path) -> None:
    info = json.loads(key.read_text())
    assert info["type"] == "service_account"
    assert info["token_uri"] == emu.token_uri
    assert info["private_key"].startswith("-----BEGIN PRIVATE KEY-----")


def test_key_not_issued_by_emulator_is_refused(emu: Emulator, key: Path, tmp_path: Path) -> None:
    info = json.loads(key.read_text())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info["private_key"] = stranger.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()).decode()
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(info))
    creds = Credentials.from_service_account_file(str(forged), scopes=[SCOPE_SHEETS])
    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        client_for(creds, emu.base_url).open_by_key("anything")


def test_missing_or_bogus_bearer_token_is_401(emu: Emulator, sheet_id: str) -> None:
    url = f"{emu.base_url}/v4/spreadsheets/{sheet_id}"
    missing = requests.get(url, timeout=5)
    assert missing.status_code == 401
    assert missing.json()["error"]["status"] == "UNAUTHENTICATED"
    assert "missing required authentication credential" in missing.json()["error"]["message"]
    bogus = requests.get(url, headers={"Authorization": "Bearer ya29.not-a-token"}, timeout=5)
    assert bogus.status_code == 401
    assert "invalid authentication credentials" in bogus.json()["error"]["message"]


def test_client_recovers_after_tokens_are_revoked(emu: Emulator, gc: gspread.Client, sheet_id: str) -> None:
    ws = gc.open_by_key(sheet_id).sheet1
    emu.authority.revoke_all()
    emu.reset_requests()
    assert ws.get("A1") == [[]]
    kinds = [r["kind"] for r in emu.requests()]
    statuses = [r["status"] for r in emu.requests() if r["kind"] == "sheets"]
    assert kinds.count("token") == 1 and statuses == [401, 200]


def test_readonly_scope_reads_but_cannot_write(emu: Emulator, key: Path, sheet_id: str) -> None:
    emu.seed_rows(sheet_id, {"Sheet1": [["kept"]]})
    creds = Credentials.from_service_account_file(str(key), scopes=[SCOPE_SHEETS_RO])
    ws = client_for(creds, emu.base_url).open_by_key(sheet_id).sheet1
    assert ws.acell("A1").value == "kept"
    with pytest.raises(gspread.exceptions.APIError) as exc:
        ws.update([["changed"]], "A1")
    err = api_error(exc)
    assert (err["code"], err["status"]) == (403, "PERMISSION_DENIED")
    assert err["message"] == "Request had insufficient authentication scopes."
    assert emu.state(sheet_id)["sheets"]["Sheet1"]["values"] == [["kept"]]


# -- A1 notation ------------------------------------------------------------------------------


def test_a1_forms(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    emu.seed_rows(sheet_id, {"It's 🌵 销售": [["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i"]], "Sheet1": []})
    sh = gc.open_by_key(sheet_id)
    got = {r: sh.values_get(r).get("values") for r in [
        "'It''s 🌵 销售'!A1", "'It''s 🌵 销售'!B:B", "'It''s 🌵 销售'!A2:C", "'It''s 🌵 销售'!2:3",
        "'It''s 🌵 销售'", "'It''s 🌵 销售'!C3:A1"]}
    assert got["'It''s 🌵 销售'!A1"] == [["a"]]
    assert got["'It''s 🌵 销售'!B:B"] == [["b"], ["e"], ["h"]]
    assert got["'It''s 🌵 销售'!A2:C"] == [["d", "e", "f"], ["g", "h", "i"]]
    assert got["'It''s 🌵 销售'!2:3"] == [["d", "e", "f"], ["g", "h", "i"]]
    assert got["'It''s 🌵 销售'"] == [["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i"]]
    assert got["'It''s 🌵 销售'!C3:A1"] == got["'It''s 🌵 销售'"]
    echoed = sh.values_get("'It''s 🌵 销售'!B:B")["range"]
    assert echoed == "'It''s 🌵 销售'!B1:B1000"
    assert sh.values_get("Sheet1")["range"] == "Sheet1!A1:Z1000"
    assert sh.values_get("A1")["range"] == "'It''s 🌵 销售'!A1"  # no title: first sheet


def test_bad_ranges_are_400_like_google(gc: gspread.Client, sheet_id: str) -> None:
    sh = gc.open_by_key(sheet_id)
    for bad in ["Nope!A1", "Sheet1!A1:", "'Sheet1!A1", "Sheet1!1A"]:
        with pytest.raises(gspread.exceptions.APIError) as exc:
            sh.values_get(bad)
        assert api_error(exc)["message"] == f"Unable to parse range: {bad}"
        assert api_error(exc)["status"] == "INVALID_ARGUMENT"
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.values_get("Sheet1!A1:B2000")
    assert api_error(exc)["message"] == "Range ('Sheet1'!A1:B2000) exceeds grid limits. Max rows: 1000, max columns: 26"


def test_unknown_spreadsheet_is_404(gc: gspread.Client) -> None:
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        gc.open_by_key("does-not-exist")


# -- value input and rendering --------------------------------------------------------------------


def test_raw_keeps_strings_user_entered_parses(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    ws = gc.open_by_key(sheet_id).sheet1
    typed = [["=1+1", "+86 138", "-5", "@home", "0042", "TRUE", "2025-01-02", "12.5%", "1,234.5"]]
    ws.update(typed, "A1", value_input_option=RAW)
    ws.update(typed, "A2", value_input_option=USER)
    raw, user = ws.get("A1:I2", value_render_option=ValueRenderOption.unformatted)
    assert raw == typed[0]
    assert user == [2, "+86 138", -5, "@home", 42, True, 45659, 0.125, 1234.5]
    formulas = ws.get("A1:A2", value_render_option=ValueRenderOption.formula)
    assert formulas == [["=1+1"], ["=1+1"]]
    assert emu.state(sheet_id)["sheets"]["Sheet1"]["formulas"][0][0] == "=1+1"
    shown = ws.get("A2:I2")[0]
    assert shown == ["2", "+86 138", "-5", "@home", "42", "TRUE", "2025-01-02", "12.5%", "1,234.5"]


def test_user_entered_apostrophe_forces_text_and_formulas_follow_edits(gc: gspread.Client, sheet_id: str) -> None:
    ws = gc.open_by_key(sheet_id).sheet1
    ws.update([[2, 3, "=A1*B1", "=SUM(A1:B1)", "'=A1", "=A1/0", "=NOPE(1)"]], "A1", value_input_option=USER)
    assert ws.get("A1:G1")[0] == ["2", "3", "6", "5", "=A1", "#DIV/0!", "#NAME?"]
    ws.update([[10]], "A1", value_input_option=RAW)
    assert ws.get("C1:D1", value_render_option=ValueRenderOption.unformatted)[0] == [30, 13]


def test_date_cells_are_serials_rendered_by_their_format(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    emu.seed_rows(sheet_id, {"Sheet1": [[date(2025, 1, 2), datetime(2025, 1, 2, 13, 30), 45659]]})
    ws = gc.open_by_key(sheet_id).sheet1
    assert ws.get("A1:C1")[0] == ["2025-01-02", "2025-01-02 13:30:00", "45659"]
    serial = ws.get("A1:C1", value_render_option=ValueRenderOption.unformatted,
                    date_time_render_option=DateTimeOption.serial_number)[0]
    assert serial == [45659, 45659.5625, 45659]
    formatted = ws.get("A1:C1", value_render_option=ValueRenderOption.unformatted,
                       date_time_render_option=DateTimeOption.formatted_string)[0]
    assert formatted == ["2025-01-02", "2025-01-02 13:30:00", 45659]


def test_number_formats_apply_to_formatted_values(gc: gspread.Client, sheet_id: str) -> None:
    ws = gc.open_by_key(sheet_id).sheet1
    ws.update([[0.256, 1234567.891, 45659, -3]], "A1", value_input_option=RAW)
    ws.format("A1", {"numberFormat": {"type": "PERCENT", "pattern": "0.0%"}})
    ws.format("B1", {"numberFormat": {"type": "NUMBER", "pattern": "#,##0"}})
    ws.format("C1", {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}})
    ws.format("D1", {"numberFormat": {"type": "NUMBER", "pattern": "0.0;(0.0)"}})
    assert ws.get("A1:D1")[0] == ["25.6%", "1,234,568", "2025-01-02", "(3.0)"]


def test_trailing_empty_rows_and_columns_are_trimmed(gc: gspread.Client, sheet_id: str) -> None:
    ws = gc.open_by_key(sheet_id).sheet1
    ws.update([["a", "", "c", ""], ["", "", "", ""], ["x", "", "", ""], ["", "", "", ""]], "A1", value_input_option=RAW)
    assert ws.get("A1:D4") == [["a", "", "c"], [], ["x"]]
    assert ws.get("A1:D4", major_dimension="COLUMNS") == [["a", "", "x"], [], ["c"]]
    assert gc.open_by_key(ws.spreadsheet_id).values_get("Sheet1!E1:F9").get("values") is None


def test_update_reports_counts_and_skips_nulls(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    sh = gc.open_by_key(sheet_id)
    emu.seed_rows(sheet_id, {"Sheet1": [["keep", "old"]]})
    out = sh.values_update("Sheet1!A1", params={"valueInputOption": "RAW"},
                           body={"values": [[None, "new"], ["x", None]]})
    assert out == {"spreadsheetId": sheet_id, "updatedRange": "Sheet1!A1:B2", "updatedRows": 2,
                   "updatedColumns": 2, "updatedCells": 2}
    assert emu.state(sheet_id)["sheets"]["Sheet1"]["values"] == [["keep", "new"], ["x"]]
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.values_update("Sheet1!A1:B1", params={"valueInputOption": "RAW"}, body={"values": [[1, 2, 3]]})
    assert "tried writing to column [C]" in api_error(exc)["message"]


# -- batching -------------------------------------------------------------------------------------


def test_batch_get_and_batch_update_are_single_requests(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    sh = gc.open_by_key(sheet_id)
    sh.add_worksheet("Log", 10, 5)
    emu.reset_requests()
    result = sh.values_batch_update({"valueInputOption": "RAW", "data": [
        {"range": "Sheet1!A1:B1", "values": [["a", "b"]]},
        {"range": "Log!A1", "values": [["x"], ["y"]]},
        {"range": "Sheet1!A3", "majorDimension": "COLUMNS", "values": [["c1", "c2"]]},
    ]})
    assert (result["totalUpdatedCells"], result["totalUpdatedSheets"]) == (6, 2)
    got = sh.values_batch_get(["Sheet1!A1:B4", "Log!A:A", "Sheet1!Z1"])
    assert [vr.get("values") for vr in got["valueRanges"]] == [[["a", "b"], [], ["c1"], ["c2"]], [["x"], ["y"]], None]
    assert [vr["range"] for vr in got["valueRanges"]] == ["Sheet1!A1:B4", "Log!A1:A10", "Sheet1!Z1"]
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in emu.requests()] == [
        ("POST", "values:batchUpdate"), ("GET", "values:batchGet")]


def test_batch_update_is_all_or_nothing(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    sh = gc.open_by_key(sheet_id)
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.batch_update({"requests": [
            {"addSheet": {"properties": {"title": "New"}}},
            {"addSheet": {"properties": {"title": "new"}}},
        ]})
    assert api_error(exc)["message"] == ('Invalid requests[1].addSheet: A sheet with the name "new" already exists. '
                                         "Please enter another name.")
    assert list(emu.state(sheet_id)["sheets"]) == ["Sheet1"]


def test_failed_batch_rolls_back_cell_edits(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    sh = gc.open_by_key(sheet_id)
    sh.sheet1.update([["v"]], "A1", value_input_option=RAW)
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.batch_update({"requests": [
            {"repeatCell": {"range": {"sheetId": 0, "endRowIndex": 1}, "cell": {"userEnteredValue": {"stringValue": "w"},
                                                                                  "userEnteredFormat": {"textFormat": {"bold": True}}},
                            "fields": "userEnteredValue,userEnteredFormat.textFormat.bold"}},
            {"deleteSheet": {"sheetId": 999}},
        ]})
    assert api_error(exc)["message"] == "Invalid requests[1].deleteSheet: No sheet with id: 999"
    state = emu.state(sheet_id)["sheets"]["Sheet1"]
    assert state["values"] == [["v"]] and state["formats"] == {}


def test_append_clear_and_batch_clear(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    ws = gc.open_by_key(sheet_id).sheet1
    ws.append_row(["h1", "h2"], value_input_option=RAW)
    res = ws.append_rows([["r1", 1], ["r2", 2]], value_input_option=RAW)
    assert res["tableRange"] == "Sheet1!A1:B1"
    assert res["updates"]["updatedRange"] == "Sheet1!A2:B3"
    ws.batch_clear(["A2:A3"])
    assert emu.state(sheet_id)["sheets"]["Sheet1"]["values"] == [["h1", "h2"], ["", 1], ["", 2]]
    ws.clear()
    assert emu.state(sheet_id)["sheets"]["Sheet1"]["values"] == []


# -- formats, rules, charts, validation, structure ---------------------------------------------------


def _rule(sheet_num: int, color: dict) -> dict:
    return {"ranges": [{"sheetId": sheet_num, "startRowIndex": 1, "startColumnIndex": 4, "endColumnIndex": 5}],
            "booleanRule": {"condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": "overdue"}]},
                            "format": {"backgroundColor": color}}}


def test_conditional_format_rules_add_list_delete(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    sh = gc.open_by_key(sheet_id)
    sid = sh.sheet1.id
    sh.batch_update({"requests": [
        {"addConditionalFormatRule": {"rule": _rule(sid, {"red": 1, "green": 0.78, "blue": 0.81}), "index": 0}},
        {"addConditionalFormatRule": {"rule": _rule(sid, {"red": 0.2}), "index": 0}},
    ]})
    meta = sh.fetch_sheet_metadata()
    rules = meta["sheets"][0]["conditionalFormats"]
    # Google keeps 8 bits per channel, truncating (0.78 -> 198/255), and drops zero channels.
    assert [r["booleanRule"]["format"]["backgroundColor"] for r in rules] == [
        {"red": 0.2}, {"red": 1, "green": 0.7764706, "blue": 0.80784314}]
    assert rules[0]["ranges"] == [{"startRowIndex": 1, "startColumnIndex": 4, "endColumnIndex": 5}]
    reply = sh.batch_update({"requests": [{"deleteConditionalFormatRule": {"sheetId": sid, "index": 0}}]})
    assert reply["replies"][0]["deleteConditionalFormatRule"]["rule"]["booleanRule"]["format"]["backgroundColor"] == {"red": 0.2}
    assert len(emu.state(sheet_id)["sheets"]["Sheet1"]["conditionalFormats"]) == 1
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.batch_update({"requests": [{"deleteConditionalFormatRule": {"sheetId": sid, "index": 5}}]})
    assert api_error(exc)["code"] == 400


def test_charts_add_and_delete(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    sh = gc.open_by_key(sheet_id)
    sh.sheet1.update([["rep", "calls"], ["Li", 3], ["Wang", 5]], "A1", value_input_option=RAW)
    source = {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 3, "startColumnIndex": 0, "endColumnIndex": 1}
    series = {**source, "startColumnIndex": 1, "endColumnIndex": 2}
    spec = {"title": "Calls", "basicChart": {
        "chartType": "COLUMN", "headerCount": 1,
        "domains": [{"domain": {"sourceRange": {"sources": [source]}}}],
        "series": [{"series": {"sourceRange": {"sources": [series]}}}]}}
    reply = sh.batch_update({"requests": [{"addChart": {"chart": {"spec": spec, "position": {
        "overlayPosition": {"anchorCell": {"sheetId": 0, "rowIndex": 0, "columnIndex": 4}}}}}}]})
    chart = reply["replies"][0]["addChart"]["chart"]
    assert chart["spec"]["title"] == "Calls" and isinstance(chart["chartId"], int)
    assert sh.fetch_sheet_metadata()["sheets"][0]["charts"][0]["chartId"] == chart["chartId"]
    sh.batch_update({"requests": [{"deleteEmbeddedObject": {"objectId": chart["chartId"]}}]})
    assert emu.state(sheet_id)["sheets"]["Sheet1"]["charts"] == []
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.batch_update({"requests": [{"addChart": {"chart": {"spec": {"basicChart": {"domains": [
            {"domain": {"sourceRange": {"sources": [{**source, "endRowIndex": 5000}]}}}]}}}}}]})
    assert "exceeds grid limits" in api_error(exc)["message"]


def test_formats_freeze_validation_widths(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    sh = gc.open_by_key(sheet_id)
    ws = sh.sheet1
    ws.format("A1:B1", {"textFormat": {"bold": True}, "backgroundColor": {"red": 0.851, "green": 0.882, "blue": 0.949}})
    ws.freeze(rows=1)
    sh.batch_update({"requests": [
        {"setDataValidation": {"range": {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 3, "startColumnIndex": 2,
                                         "endColumnIndex": 3},
                               "rule": {"condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": "A"},
                                                                                        {"userEnteredValue": "B"}]},
                                        "strict": True, "showCustomUi": True}}},
        {"updateDimensionProperties": {"range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 1},
                                       "properties": {"pixelSize": 180}, "fields": "pixelSize"}},
    ]})
    state = emu.state(sheet_id)["sheets"]["Sheet1"]
    assert state["frozenRowCount"] == 1
    assert state["formats"]["A1"]["textFormat"] == {"bold": True}
    assert state["formats"]["B1"]["backgroundColor"] == {"red": 0.8509804, "green": 0.8784314, "blue": 0.94509804}
    assert sorted(state["validations"]) == ["C2", "C3"]
    assert state["columnMetadata"]["0"] == {"pixelSize": 180}
    grid = sh.fetch_sheet_metadata({"includeGridData": "true", "ranges": "Sheet1!A1:C2"})["sheets"][0]["data"][0]
    assert grid["columnMetadata"][0] == {"pixelSize": 180}
    assert grid["rowData"][1]["values"][2]["dataValidation"]["condition"]["type"] == "ONE_OF_LIST"


def test_insert_and_delete_rows_shift_data(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    ws = gc.open_by_key(sheet_id).sheet1
    ws.update([["1"], ["2"], ["3"]], "A1", value_input_option=RAW)
    ws.insert_row(["new"], 2)
    ws.delete_rows(4)
    assert emu.state(sheet_id)["sheets"]["Sheet1"]["values"] == [["1"], ["new"], ["2"]]
    assert ws.row_count == 1000


def test_strict_mode_rejects_unknown_fields_like_google(gc: gspread.Client, sheet_id: str) -> None:
    sh = gc.open_by_key(sheet_id)
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sh.batch_update({"requests": [{"repeatCell": {"range": {"sheetId": 0}, "cell": {"userEnteredFormat": {
            "boldness": 3}}, "fields": "userEnteredFormat"}}]})
    err = api_error(exc)
    assert err["code"] == 400
    assert err["message"] == ('Invalid JSON payload received. Unknown name "boldness" at '
                              "'requests[0].repeat_cell.cell.user_entered_format': Cannot find field.")


# -- faults and the request log -------------------------------------------------------------------


def test_fault_injection_then_success(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    ws = gc.open_by_key(sheet_id).sheet1
    emu.inject_faults(status=429, count=1)
    with pytest.raises(gspread.exceptions.APIError) as exc:
        ws.get("A1")
    assert api_error(exc)["status"] == "RESOURCE_EXHAUSTED"
    assert ws.get("A1") == [[]]
    emu.inject_faults(status=503, count=2, after=1)
    assert ws.get("A1") == [[]]
    for _ in range(2):
        with pytest.raises(gspread.exceptions.APIError) as exc:
            ws.get("A1")
        assert exc.value.response.status_code == 503
    assert ws.get("A1") == [[]]


def test_latency_and_faults_over_http_control_endpoint(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    ws = gc.open_by_key(sheet_id).sheet1
    assert requests.post(f"{emu.base_url}/__emulator/faults",
                         json={"status": None, "latency": 0.3, "count": 1}, timeout=5).ok
    start = time.monotonic()
    ws.get("A1")
    assert time.monotonic() - start >= 0.3
    requests.post(f"{emu.base_url}/__emulator/faults", json={"status": 500, "count": 1, "path": ":batchUpdate"}, timeout=5)
    ws.get("A1")  # unaffected: only batchUpdate calls fail
    with pytest.raises(gspread.exceptions.APIError) as exc:
        ws.freeze(rows=1)
    assert api_error(exc)["message"] == "Internal error encountered."
    assert requests.delete(f"{emu.base_url}/__emulator/faults", timeout=5).json() == {"faults": []}


def test_request_log_counts_and_resets(gc: gspread.Client, emu: Emulator, sheet_id: str) -> None:
    ws = gc.open_by_key(sheet_id).sheet1
    emu.reset_requests()
    ws.get("A1:B2")
    ws.update([["x"]], "A1", value_input_option=RAW)
    log = requests.get(f"{emu.base_url}/__emulator/requests", timeout=5).json()["requests"]
    assert [(r["method"], r["status"]) for r in log] == [("GET", 200), ("PUT", 200)]
    assert log[1]["body"]["values"] == [["x"]] and log[1]["query"]["valueInputOption"] == "RAW"
    requests.delete(f"{emu.base_url}/__emulator/requests", timeout=5)
    assert emu.requests() == []


def test_state_endpoint_over_http(emu: Emulator, gc: gspread.Client, sheet_id: str) -> None:
    gc.open_by_key(sheet_id).sheet1.update([["v"]], "B2", value_input_option=RAW)
    state = requests.get(f"{emu.base_url}/__emulator/state/{sheet_id}", timeout=5).json()
    assert state["sheets"]["Sheet1"]["values"] == [[], ["", "v"]]
    assert state["sheets"]["Sheet1"]["properties"]["gridProperties"] == {"rowCount": 1000, "columnCount": 26}
    assert requests.get(f"{emu.base_url}/__emulator/state/nope", timeout=5).status_code == 404


# -- seeding, metadata, CLI, endpoint rewriting ------------------------------------------------------


def test_seed_xlsx_loads_every_tab_typed(gc: gspread.Client, emu: Emulator) -> None:
    emu.seed_xlsx("corpus-dates", CORPUS / "date.xlsx")
    emu.seed_xlsx("corpus-tabs", CORPUS / "any_sheets.xlsx")
    ws = gc.open_by_key("corpus-dates").sheet1
    assert ws.get("A1:B3") == [["2021-01-01", "15"], ["2021-01-02", "16"], ["255:10:10", "17"]]
    assert ws.get("A1", value_render_option=ValueRenderOption.unformatted) == [[44197]]
    sh = gc.open_by_key("corpus-tabs")
    assert [w.title for w in sh.worksheets(exclude_hidden=True)] == ["Visible", "Chart"]
    assert [w.title for w in sh.worksheets()] == ["Visible", "Hidden", "VeryHidden", "Chart"]


def test_metadata_matches_google_shape(gc: gspread.Client, sheet_id: str) -> None:
    meta = gc.open_by_key(sheet_id).fetch_sheet_metadata()
    assert set(meta) == {"spreadsheetId", "properties", "sheets", "spreadsheetUrl"}
    assert meta["properties"]["locale"] == "en_US" and meta["properties"]["timeZone"] == "Etc/GMT"
    assert meta["sheets"][0]["properties"] == {"sheetId": 0, "title": "Sheet1", "index": 0, "sheetType": "GRID",
                                               "gridProperties": {"rowCount": 1000, "columnCount": 26}}
    partial = gc.open_by_key(sheet_id).fetch_sheet_metadata({"fields": "sheets(properties(title,sheetId))"})
    assert partial == {"sheets": [{"properties": {"sheetId": 0, "title": "Sheet1"}}]}


def test_create_spreadsheet_via_api(gc: gspread.Client, emu: Emulator) -> None:
    resp = gc.http_client.request("post", "https://sheets.googleapis.com/v4/spreadsheets", json={
        "properties": {"title": "跟进助手", "locale": "zh_CN"},
        "sheets": [{"properties": {"title": "客户"}}, {"properties": {"title": "跟进记录"}}]}).json()
    assert resp["properties"]["title"] == "跟进助手" and resp["properties"]["locale"] == "zh_CN"
    assert [s["properties"]["title"] for s in resp["sheets"]] == ["客户", "跟进记录"]
    assert emu.state(resp["spreadsheetId"])["sheets"]["跟进记录"]["properties"]["index"] == 1


def test_rewrite_only_touches_google_hosts() -> None:
    assert rewrite("https://sheets.googleapis.com/v4/spreadsheets/x", "http://127.0.0.1:9/") == \
        "http://127.0.0.1:9/v4/spreadsheets/x"
    assert rewrite("https://www.googleapis.com/drive/v3/files", "http://h:1") == "http://h:1/drive/v3/files"
    assert rewrite("https://example.com/v4", "http://h:1") == "https://example.com/v4"
    with pytest.raises(ValueError):
        client_for(None, "127.0.0.1:80")  # type: ignore[arg-type]


def test_cli_serves_seeded_workbook(tmp_path: Path) -> None:
    with running_emulator() as probe:
        port = probe.port  # a free port, released when the probe stops
    key = tmp_path / "key.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.sheets_emulator", "--port", str(port), "--seed", f"demo={CORPUS / 'date.xlsx'}",
         "--key", str(key)],
        cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in banner and "demo" in banner
        creds = Credentials.from_service_account_file(str(key), scopes=[SCOPE_SHEETS])
        ws = client_for(creds, f"http://127.0.0.1:{port}").open_by_key("demo").sheet1
        assert ws.acell("B1").value == "15"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
