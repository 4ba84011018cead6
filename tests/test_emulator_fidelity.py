"""Fidelity of the Sheets emulator: replay Google's own recordings and compare the answers.

The recordings (gspread's test cassettes, recorded against the real Sheets API) sit in
shared/reference beside the repository. Every recording whose requests stay on the Sheets API
surface must replay identically: same statuses, same JSON structure and values, ids aside.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.service_account import Credentials

from tests.sheets_emulator import SCOPE_DRIVE, SCOPE_SHEETS, Emulator, running_emulator, validate_request
from tests.sheets_emulator.replay import Replayer, Result, load, scope_problem

RECORDINGS = Path(os.environ.get(
    "SHEETS_RECORDINGS",
    Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "google-sheets-recordings",
))
# The service account the recordings were made with: protected ranges list it as their editor.
RECORDED_ACCOUNT = "telegram-budgeter@telegram-budgeter.iam.gserviceaccount.com"

ALL = sorted(p.stem for p in RECORDINGS.glob("*.json"))
IN_SCOPE = [name for name in ALL if not scope_problem(load(RECORDINGS / f"{name}.json"))]
# Raise as fidelity improves; it is the number of recordings that replay identically.
FLOOR = 117


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with running_emulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def session(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> AuthorizedSession:
    key = emulator.make_service_account_key(tmp_path_factory.mktemp("key") / "sa.json", client_email=RECORDED_ACCOUNT)
    creds = Credentials.from_service_account_file(str(key), scopes=[SCOPE_SHEETS, SCOPE_DRIVE])
    return AuthorizedSession(creds)


_RESULTS: dict[str, Result] = {}


def _replay(emulator: Emulator, session: AuthorizedSession, name: str) -> Result:
    """Replay once per test session; the report and the per-recording tests share the result."""
    if name not in _RESULTS:
        _RESULTS[name] = Replayer(emulator.base_url, session).replay(name, load(RECORDINGS / f"{name}.json"))
    return _RESULTS[name]


def test_recordings_are_present() -> None:
    assert RECORDINGS.is_dir(), f"recordings not found at {RECORDINGS} (set SHEETS_RECORDINGS)"
    assert len(ALL) >= 100
    assert len(IN_SCOPE) >= FLOOR


def test_fidelity_report(emulator: Emulator, session: AuthorizedSession, capsys: pytest.CaptureFixture[str]) -> None:
    """Replays every recording, prints the tally and any differences, and holds the floor."""
    tally: Counter[str] = Counter()
    lines = []
    for name in ALL:
        result = _replay(emulator, session, name)
        if result.out_of_scope:
            tally["out of scope"] += 1
            lines.append(f"  out of scope  {name}: {result.out_of_scope}")
        elif result.identical:
            tally["identical"] += 1
            tally["responses compared"] += result.compared
        else:
            tally["different"] += 1
            lines.append(f"  DIFFERENT     {name}: " + "; ".join(str(m) for m in result.mismatches[:3]))
    with capsys.disabled():
        print(f"\nSheets emulator fidelity: {tally['identical']} of {len(ALL)} recordings replay identically "
              f"({tally['responses compared']} Sheets responses compared), {tally['different']} differ, "
              f"{tally['out of scope']} out of scope")
        print("\n".join(lines))
    assert tally["identical"] >= FLOOR
    assert tally["different"] == 0


@pytest.mark.parametrize("name", IN_SCOPE)
def test_recording_replays_identically(emulator: Emulator, session: AuthorizedSession, name: str) -> None:
    result = _replay(emulator, session, name)
    assert result.compared > 0
    assert not result.mismatches, "\n".join(str(m) for m in result.mismatches)


def test_out_of_scope_recordings_are_drive_or_foreign() -> None:
    """Only recordings that need Drive features or spreadsheets owned by others are left out."""
    reasons = {name: scope_problem(load(RECORDINGS / f"{name}.json")) for name in ALL if name not in IN_SCOPE}
    assert reasons
    assert all("Drive" in why or "did not create" in why for why in reasons.values()), reasons


# -- request bodies against the discovery document ----------------------------------------------


def test_every_recorded_sheets_body_is_valid_for_discovery() -> None:
    """Real requests that Google accepted validate cleanly (no false alarms in strict mode)."""
    import json
    from urllib.parse import urlsplit

    checked = 0
    for name in ALL:
        for it in load(RECORDINGS / f"{name}.json"):
            req, res = it["request"], it["response"]
            path = urlsplit(req["uri"]).path
            if "sheets.googleapis.com" not in req["uri"] or not req.get("body") or res["status"]["code"] != 200:
                continue
            method_id = _method_id(req["method"], path)
            problems = validate_request(method_id, json.loads(req["body"]))
            assert problems == [], (name, method_id, problems)
            checked += 1
    assert checked > 300


def _method_id(method: str, path: str) -> str:
    if path.endswith(":batchUpdate"):
        return "sheets.spreadsheets.values.batchUpdate" if "/values:" in path else "sheets.spreadsheets.batchUpdate"
    if path.endswith(":append"):
        return "sheets.spreadsheets.values.append"
    if path.endswith(":batchClear"):
        return "sheets.spreadsheets.values.batchClear"
    if path.endswith(":clear"):
        return "sheets.spreadsheets.values.clear"
    if method == "PUT":
        return "sheets.spreadsheets.values.update"
    return "sheets.spreadsheets.create"


def test_validate_request_reports_unknown_fields_and_wrong_types() -> None:
    problems = validate_request("sheets.spreadsheets.batchUpdate", {
        "requests": [{"addSheet": {"properties": {"title": "x", "colour": "red", "index": "first"}}}]})
    assert 'Unknown name "colour" at \'requests[0].add_sheet.properties\': Cannot find field.' in problems[0]
    assert "Invalid value at 'requests[0].add_sheet.properties.index' (TYPE_INT32), \"first\"" in problems


def test_validate_request_checks_enums_and_value_lists() -> None:
    assert validate_request("sheets.spreadsheets.values.update", {"values": "X"}) == [
        "Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), \"X\""]
    assert validate_request("sheets.spreadsheets.values.update", {"values": [["a", 1, True, None]]}) == []
    bad_enum = validate_request("sheets.spreadsheets.batchUpdate", {"requests": [{"insertDimension": {
        "range": {"sheetId": 0, "dimension": "DIAGONAL", "startIndex": 0, "endIndex": 1}}}]})
    assert bad_enum == ["Invalid value at 'requests[0].insert_dimension.range.dimension' (TYPE_ENUM), \"DIAGONAL\""]
    assert validate_request("sheets.spreadsheets.nope", {}) == ["Unknown method: sheets.spreadsheets.nope"]


def test_validate_request_accepts_int64_strings_and_rejects_out_of_range() -> None:
    ok = validate_request("sheets.spreadsheets.batchUpdate", {"requests": [{"deleteSheet": {"sheetId": "12"}}]})
    assert ok == []
    too_big = validate_request("sheets.spreadsheets.batchUpdate", {"requests": [{"deleteSheet": {"sheetId": 2**40}}]})
    assert too_big and "TYPE_INT32" in too_big[0]
