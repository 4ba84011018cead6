"""Replay Google recordings against the emulator and compare the answers.

Each recording (gspread's test cassettes, recorded against the real API) is a list of
request/response pairs. We send the same requests, in order, to the emulator and compare each
Sheets response with Google's on status, structure and values. Ids Google chose (spreadsheet,
sheet, named-range, protected-range ids) differ by nature: they are learned as pairs from the
responses and substituted into later requests, and compared for consistency rather than value.
Drive calls are emulated only as far as gspread needs them to have a spreadsheet to work on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests

ID_KEYS = {"sheetId", "namedRangeId", "protectedRangeId", "chartId", "filterViewId", "bandedRangeId",
           "objectId", "sourceSheetId", "newSheetId", "metadataId"}
IGNORED_KEYS = {"spreadsheetUrl"}
# Drive metadata that is inherently per-run (timestamps); compared by presence only.
DRIVE_VOLATILE = {"createdTime", "modifiedTime"}

# Drive endpoints the emulator implements (everything else makes a recording out of scope).
_DRIVE_SUPPORTED = re.compile(r"^/drive/v3/files(/[^/]+(/copy)?)?$")


@dataclass
class Mismatch:
    index: int
    request: str
    problem: str

    def __str__(self) -> str:
        return f"#{self.index} {self.request}: {self.problem}"


@dataclass
class Result:
    name: str
    compared: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    out_of_scope: str = ""

    @property
    def identical(self) -> bool:
        return not self.out_of_scope and not self.mismatches and self.compared > 0


def load(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["interactions"]


def scope_problem(interactions: list[dict[str, Any]]) -> str:
    """Why a recording is outside the emulated surface ('' when it is inside)."""
    created: set[str] = set()
    for it in interactions:
        req = it["request"]
        parts = urlsplit(req["uri"])
        if parts.netloc == "www.googleapis.com":
            if not _DRIVE_SUPPORTED.match(parts.path):
                return f"uses Drive {req['method']} {parts.path.split('/files')[-1] or '/'} (not Sheets API)"
            if req["method"] == "POST" and parts.path == "/drive/v3/files":
                try:
                    created.add(json.loads(it["response"]["body"]["string"])["id"])
                except (ValueError, KeyError):
                    pass
            if req["method"] == "POST" and parts.path.endswith("/copy"):
                try:
                    created.add(json.loads(it["response"]["body"]["string"])["id"])
                except (ValueError, KeyError):
                    pass
        elif parts.netloc == "sheets.googleapis.com":
            m = re.match(r"^/v4/spreadsheets/([^/:]+)", parts.path)
            if m and m.group(1) not in created and it["response"]["status"]["code"] != 404:
                return "reads a spreadsheet the recording did not create (owned by someone else)"
        else:
            return f"calls {parts.netloc}"
    return ""


class Replayer:
    """Sends a recording's requests to an emulator, translating ids both ways."""

    def __init__(self, base_url: str, session: requests.Session) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.ids: dict[Any, Any] = {}  # recorded -> emulated

    # -- id translation ------------------------------------------------------------------------

    def _map_value(self, value: Any) -> Any:
        if isinstance(value, str | int) and not isinstance(value, bool) and value in self.ids:
            return self.ids[value]
        if isinstance(value, str) and value.isdigit() and int(value) in self.ids:
            return str(self.ids[int(value)])
        return value

    def _map_body(self, node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: self._map_body(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [self._map_body(v, key) for v in node]
        if key in ID_KEYS or key in ("destinationSpreadsheetId", "spreadsheetId"):
            return self._map_value(node)
        if isinstance(node, str) and node in self.ids:
            return self.ids[node]
        return node

    def _map_url(self, uri: str) -> str:
        parts = urlsplit(uri)
        segments = []
        for seg in parts.path.split("/"):
            head, sep, tail = seg.partition(":")
            raw = unquote(head)
            mapped = self._map_value(raw)
            if mapped is raw and raw.isdigit() and int(raw) in self.ids:
                mapped = str(self.ids[int(raw)])
            segments.append((quote(str(mapped), safe="") if mapped is not raw else head) + sep + tail)
        url = self.base_url + "/".join(segments)
        return url + ("?" + parts.query if parts.query else "")

    def _learn(self, recorded: Any, emulated: Any, key: str = "") -> None:
        if isinstance(recorded, dict) and isinstance(emulated, dict):
            for k, v in recorded.items():
                if k in emulated:
                    self._learn(v, emulated[k], k)
        elif isinstance(recorded, list) and isinstance(emulated, list):
            for a, b in zip(recorded, emulated, strict=False):
                self._learn(a, b, key)
        elif key in ID_KEYS or key in ("id", "spreadsheetId"):
            if recorded is not None and emulated is not None and recorded not in self.ids:
                self.ids[recorded] = emulated
                if isinstance(recorded, str) and recorded.isdigit() and isinstance(emulated, str) and emulated.isdigit():
                    self.ids[int(recorded)] = int(emulated)
                if isinstance(recorded, int) and isinstance(emulated, int):
                    self.ids[str(recorded)] = str(emulated)

    # -- comparison ----------------------------------------------------------------------------

    def _compare(self, recorded: Any, emulated: Any, path: str, drive: bool) -> str:
        if isinstance(recorded, dict):
            if not isinstance(emulated, dict):
                return f"{path}: expected object, got {json.dumps(emulated)[:120]}"
            for k in recorded:
                if k in IGNORED_KEYS:
                    continue
                if k not in emulated:
                    return f"{path}.{k}: missing (Google has {json.dumps(recorded[k], ensure_ascii=False)[:120]})"
            for k in emulated:
                if k in IGNORED_KEYS or k in recorded:
                    continue
                return f"{path}.{k}: unexpected (emulator has {json.dumps(emulated[k], ensure_ascii=False)[:120]})"
            for k, v in recorded.items():
                if k in IGNORED_KEYS:
                    continue
                if drive and k in DRIVE_VOLATILE:
                    continue
                if k in ID_KEYS or k in ("spreadsheetId", "id"):
                    if self.ids.get(v, v) != emulated[k] and not (k == "spreadsheetId" and v not in self.ids):
                        return f"{path}.{k}: id {emulated[k]!r} is not the one paired with {v!r}"
                    continue
                problem = self._compare(v, emulated[k], f"{path}.{k}", drive)
                if problem:
                    return problem
            return ""
        if isinstance(recorded, list):
            if not isinstance(emulated, list):
                return f"{path}: expected list, got {json.dumps(emulated)[:120]}"
            if len(recorded) != len(emulated):
                return (f"{path}: {len(emulated)} items, Google has {len(recorded)}: "
                        f"{json.dumps(emulated, ensure_ascii=False)[:200]} vs {json.dumps(recorded, ensure_ascii=False)[:200]}")
            for i, (a, b) in enumerate(zip(recorded, emulated, strict=True)):
                problem = self._compare(a, b, f"{path}[{i}]", drive)
                if problem:
                    return problem
            return ""
        if isinstance(recorded, str) and isinstance(emulated, str) and recorded != emulated:
            # Ranges and messages may embed ids: compare after substituting learned ids.
            text = recorded
            for a, b in self.ids.items():
                if isinstance(a, str) and len(a) > 8:
                    text = text.replace(a, str(b))
            if text == emulated:
                return ""
        if recorded != emulated or type(recorded) is not type(emulated):
            if isinstance(recorded, int | float) and isinstance(emulated, int | float) and not isinstance(recorded, bool) \
                    and recorded == emulated:
                return ""
            return f"{path}: {json.dumps(emulated, ensure_ascii=False)[:200]} != Google's {json.dumps(recorded, ensure_ascii=False)[:200]}"
        return ""

    # -- replay --------------------------------------------------------------------------------

    def replay(self, name: str, interactions: list[dict[str, Any]]) -> Result:
        result = Result(name)
        problem = scope_problem(interactions)
        if problem:
            result.out_of_scope = problem
            return result
        for index, it in enumerate(interactions):
            req, res = it["request"], it["response"]
            uri = req["uri"]
            drive = "sheets.googleapis.com" not in uri
            body_text = req.get("body")
            data: bytes | None = None
            headers = {}
            if body_text:
                try:
                    data = json.dumps(self._map_body(json.loads(body_text))).encode()
                    headers["Content-Type"] = "application/json"
                except ValueError:
                    data = body_text.encode() if isinstance(body_text, str) else body_text
            url = self._map_url(uri)
            label = f"{req['method']} {unquote(urlsplit(uri).path)}"
            got = self.session.request(req["method"], url, data=data, headers=headers, timeout=30)
            want_status = res["status"]["code"]
            want_text = res["body"]["string"]
            want = json.loads(want_text) if want_text.strip() else None
            got_body = got.json() if got.content else None
            if want is not None and got_body is not None:
                self._learn(want, got_body)
            if drive:
                if got.status_code != want_status:
                    result.mismatches.append(Mismatch(index, label, f"status {got.status_code} != {want_status}: {got.text[:200]}"))
                continue
            result.compared += 1
            if got.status_code != want_status:
                result.mismatches.append(Mismatch(index, label, f"status {got.status_code} != {want_status}: {got.text[:300]}"))
                continue
            problem = self._compare(want, got_body, "$", drive=False)
            if problem:
                result.mismatches.append(Mismatch(index, label, problem))
        return result
