"""The HTTP side: a loopback server speaking Sheets API v4 (plus the bits of Drive v3 and OAuth
that gspread touches), with fault injection, a request log and a state dump for tests.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import re
import string
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import auth, batch, cells, discovery
from . import fields as fieldmask
from .store import JSON, ApiError, Bounds, Spreadsheet, bad_request

_FAULT_BODIES = {
    429: ("Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of "
          "service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.", "RESOURCE_EXHAUSTED"),
    500: ("Internal error encountered.", "INTERNAL"),
    502: ("Bad Gateway", "UNAVAILABLE"),
    503: ("The service is currently unavailable.", "UNAVAILABLE"),
    504: ("Deadline exceeded.", "DEADLINE_EXCEEDED"),
}

_MISSING_CREDENTIALS = ("Request is missing required authentication credential. Expected OAuth 2 access token, login "
                        "cookie or other valid authentication credential. See "
                        "https://developers.google.com/identity/sign-in/web/devconsole-project.")
_INVALID_CREDENTIALS = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                        "or other valid authentication credential. See "
                        "https://developers.google.com/identity/sign-in/web/devconsole-project.")

_VALUE_RENDER = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
_DATE_RENDER = ("SERIAL_NUMBER", "FORMATTED_STRING")
_MAJOR = ("ROWS", "COLUMNS", "DIMENSION_UNSPECIFIED")

_RPC_NAMES = {
    "sheets.spreadsheets.get": "GetSpreadsheet",
    "sheets.spreadsheets.create": "CreateSpreadsheet",
    "sheets.spreadsheets.batchUpdate": "BatchUpdateSpreadsheet",
    "sheets.spreadsheets.values.get": "GetValues",
    "sheets.spreadsheets.values.batchGet": "BatchGetValues",
    "sheets.spreadsheets.values.update": "UpdateValues",
    "sheets.spreadsheets.values.batchUpdate": "BatchUpdateValues",
    "sheets.spreadsheets.values.append": "AppendValues",
    "sheets.spreadsheets.values.clear": "ClearValues",
    "sheets.spreadsheets.values.batchClear": "BatchClearValues",
    "sheets.spreadsheets.sheets.copyTo": "CopyTo",
}
_READ_METHODS = {"sheets.spreadsheets.get", "sheets.spreadsheets.values.get", "sheets.spreadsheets.values.batchGet"}


@dataclass
class Fault:
    """Answer matching requests with an error (or just slow them down)."""

    status: int | None = 429
    count: int | None = 1  # how many requests get the fault; None = every one from then on
    after: int = 0  # let this many matching requests through first
    latency: float = 0.0  # seconds added before answering
    path: str | None = None  # only requests whose path contains this
    method: str | None = None  # only this HTTP method
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.path and self.path not in path:
            return False
        return not (self.method and self.method.upper() != method.upper())

    def spent(self) -> bool:
        return self.count is not None and self.fired >= self.count


class Emulator:
    """A running Sheets API emulator on loopback: the object tests talk to."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, random_seed: int = 0, strict: bool = True) -> None:
        self.rng = random.Random(random_seed)
        self.strict = strict
        self.lock = threading.RLock()
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.trashed: set[str] = set()
        self.log: list[JSON] = []
        self.faults: list[Fault] = []
        self.httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self.authority = auth.Authority(token_uri=f"{self.base_url}/token")
        self.require_auth = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="sheets-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- credentials ----------------------------------------------------------------------------

    def make_service_account_key(self, path: str | Path, client_email: str = "followup-tests@emulator.iam.gserviceaccount.com") -> Path:
        """Write a service-account JSON key whose token_uri is this emulator; returns the path."""
        return self.authority.write_key(path, client_email=client_email)

    def service_account_info(self, client_email: str = "followup-tests@emulator.iam.gserviceaccount.com") -> JSON:
        """The same key as a dict (for Credentials.from_service_account_info)."""
        return self.authority.new_key(client_email=client_email)

    def token_requests(self) -> list[JSON]:
        """Token grants so far: client_email, scopes and key id of each."""
        return list(self.authority.log)

    # -- request log and faults --------------------------------------------------------------------

    def requests(self) -> list[JSON]:
        """Every API request so far (control endpoints excluded), oldest first."""
        with self.lock:
            return [dict(e) for e in self.log]

    def reset_requests(self) -> None:
        with self.lock:
            self.log.clear()

    def inject_faults(self, status: int | None = 429, count: int | None = 1, after: int = 0, latency: float = 0.0,
                      path: str | None = None, method: str | None = None) -> Fault:
        """Fail (or delay) API requests: the next ``count`` matching ones after ``after`` have passed."""
        fault = Fault(status=status, count=count, after=after, latency=latency, path=path, method=method)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _take_fault(self, method: str, path: str) -> tuple[float, int | None]:
        latency = 0.0
        status = None
        with self.lock:
            for fault in self.faults:
                if fault.spent() or not fault.matches(method, path):
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                fault.fired += 1
                latency += fault.latency
                if status is None and fault.status:
                    status = fault.status
            self.faults = [f for f in self.faults if not f.spent()]
        return latency, status

    # -- data ---------------------------------------------------------------------------------

    def new_spreadsheet_id(self) -> str:
        alphabet = string.ascii_letters + string.digits + "-_"
        while True:
            sid = "1" + "".join(self.rng.choice(alphabet) for _ in range(43))
            if sid not in self.spreadsheets:
                return sid

    def create_spreadsheet(self, title: str = "Untitled spreadsheet", sheets: list[str] | None = None,
                           spreadsheet_id: str | None = None) -> Spreadsheet:
        with self.lock:
            sid = spreadsheet_id or self.new_spreadsheet_id()
            ss = Spreadsheet(sid, title, self.rng, sheets)
            self.spreadsheets[sid] = ss
            self.trashed.discard(sid)
            return ss

    def spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        with self.lock:
            return self.spreadsheets[spreadsheet_id]

    def seed_rows(self, spreadsheet_id: str, tabs: dict[str, list[list[Any]]], title: str | None = None) -> Spreadsheet:
        """Create (or replace) a spreadsheet whose tabs hold these rows, typed like a user's sheet.

        Strings stay strings ('0042' keeps its zeros) except a leading '=' which is a formula;
        date/datetime/time become serial numbers with a date format; a dict is raw CellData.
        """
        names = list(tabs) or ["Sheet1"]
        with self.lock:
            ss = self.create_spreadsheet(title or spreadsheet_id, names, spreadsheet_id)
            for sheet, name in zip(ss.sheets, names, strict=True):
                rows = tabs.get(name) or []
                width = max((len(r) for r in rows), default=0)
                sheet.grid["rowCount"] = max(1000, len(rows))
                sheet.grid["columnCount"] = max(26, width)
                for r, row in enumerate(rows):
                    for c, value in enumerate(row):
                        cell = seed_cell(value)
                        if cell:
                            sheet.cells[(r, c)] = cell
            return ss

    def seed_xlsx(self, spreadsheet_id: str, path: str | Path, title: str | None = None) -> Spreadsheet:
        """Load every tab of an .xlsx/.xlsm (python-calamine) as a spreadsheet's data."""
        from python_calamine import CalamineWorkbook, SheetVisibleEnum

        wb = CalamineWorkbook.from_path(str(path))
        tabs: dict[str, list[list[Any]]] = {}
        hidden: set[str] = set()
        for meta in wb.sheets_metadata:
            rows = wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            # calamine yields values (a formula's cached result), so text that starts with '=' is text.
            tabs[meta.name] = [[None if v == "" else _literal(v) for v in row] for row in rows]
            if meta.visible != SheetVisibleEnum.Visible:
                hidden.add(meta.name)
        with self.lock:
            ss = self.seed_rows(spreadsheet_id, tabs, title or Path(path).stem)
            for sheet in ss.sheets:
                if sheet.title in hidden and not all(s.title in hidden for s in ss.sheets):
                    sheet.props["hidden"] = True
            return ss

    def state(self, spreadsheet_id: str) -> JSON:
        """Internal state as JSON: values, formats, rules, charts, validations, frozen rows…"""
        with self.lock:
            return self.spreadsheets[spreadsheet_id].state()


def _literal(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("="):
        return {"userEnteredValue": {"stringValue": value}}
    return value


def seed_cell(value: Any) -> JSON:
    """A Python value as stored CellData (see Emulator.seed_rows)."""
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return json.loads(json.dumps(value))
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": float(value)}}
    if isinstance(value, datetime):
        return {"userEnteredValue": {"numberValue": cells.to_serial(value)},
                "userEnteredFormat": {"numberFormat": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}}}
    if isinstance(value, date):
        return {"userEnteredValue": {"numberValue": cells.to_serial(value)},
                "userEnteredFormat": {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}}
    if isinstance(value, timedelta):
        return {"userEnteredValue": {"numberValue": value.total_seconds() / 86400},
                "userEnteredFormat": {"numberFormat": {"type": "TIME", "pattern": "[h]:mm:ss"}}}
    if isinstance(value, dtime):
        return {"userEnteredValue": {"numberValue": cells.to_serial(value)},
                "userEnteredFormat": {"numberFormat": {"type": "TIME", "pattern": "hh:mm:ss"}}}
    text = str(value)
    if text.startswith("="):
        return {"userEnteredValue": {"formulaValue": text}}
    return {"userEnteredValue": {"stringValue": text}}


@contextlib.contextmanager
def running_emulator(seed: dict[str, Any] | None = None, *, random_seed: int = 0, strict: bool = True,
                     port: int = 0) -> Iterator[Emulator]:
    """Start an emulator on a free loopback port for the duration of a ``with`` block.

    ``seed`` maps spreadsheet ids to an .xlsx path or to ``{tab: rows}``.
    """
    emu = Emulator(port=port, random_seed=random_seed, strict=strict)
    for sid, source in (seed or {}).items():
        if isinstance(source, dict):
            emu.seed_rows(sid, source)
        else:
            emu.seed_xlsx(sid, source)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


# -- HTTP ------------------------------------------------------------------------------------------


class _Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _make_handler(emu: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid 40 ms stalls
        server_version = "ESF"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            path = parts.path
            query = parse_qs(parts.query, keep_blank_values=True)
            entry: JSON | None = None
            try:
                if path.startswith("/__emulator"):
                    status, body = _control(emu, method, path, query, raw)
                    self._send(status, body)
                    return
                entry = {"method": method, "path": unquote(path), "query": {k: v if len(v) > 1 else v[0] for k, v in query.items()},
                         "time": time.time()}
                if path == "/token":
                    entry["kind"] = "token"
                else:
                    entry["kind"] = "drive" if path.startswith(("/drive", "/upload")) else "sheets"
                try:
                    entry["body"] = json.loads(raw) if raw and path != "/token" else None
                except ValueError:
                    entry["body"] = raw.decode("utf-8", "replace")
                with emu.lock:
                    emu.log.append(entry)
                if path != "/token":
                    latency, fault = emu._take_fault(method, unquote(path))
                    if latency:
                        time.sleep(latency)
                    if fault:
                        message, status_text = _FAULT_BODIES.get(fault, ("Injected fault.", "UNKNOWN"))
                        raise _Reply(fault, {"error": {"code": fault, "message": message, "status": status_text}})
                if path == "/token":
                    status, body = _token(emu, raw)
                elif path.startswith("/v4/spreadsheets"):
                    status, body = _sheets(emu, method, path, query, raw, self.headers.get("Authorization"))
                elif path.startswith(("/drive/v3/files", "/upload/drive")):
                    status, body = _drive(emu, method, path, query, raw, self.headers.get("Authorization"))
                else:
                    raise _Reply(404, {"error": {"code": 404, "message": f"Not Found: {path}", "status": "NOT_FOUND"}})
            except _Reply as reply:
                status, body = reply.status, reply.body
            except ApiError as err:
                status, body = err.code, err.body()
            except Exception as exc:  # a bug in the emulator: say so, like a 500 from Google
                status, body = 500, {"error": {"code": 500, "message": f"Emulator error: {type(exc).__name__}: {exc}",
                                               "status": "INTERNAL"}}
            if entry is not None:
                entry["status"] = status
            self._send(status, body)

        def _send(self, status: int, body: Any) -> None:
            payload = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def _token(emu: Emulator, raw: bytes) -> tuple[int, Any]:
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
    try:
        return 200, emu.authority.exchange(form)
    except auth.TokenError as err:
        return err.status, err.payload


def _control(emu: Emulator, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> tuple[int, Any]:
    body = json.loads(raw) if raw else {}
    parts = [unquote(p) for p in path.split("/")[2:]]
    head = parts[0] if parts else ""
    if head == "health":
        return 200, {"ok": True}
    if head == "requests":
        if method == "GET":
            return 200, {"requests": emu.requests()}
        emu.reset_requests()
        return 200, {"requests": []}
    if head == "faults":
        if method == "DELETE":
            emu.clear_faults()
            return 200, {"faults": []}
        items = body if isinstance(body, list) else [body]
        for item in items:
            emu.inject_faults(status=item.get("status", 429), count=item.get("count", 1), after=item.get("after", 0),
                              latency=float(item.get("latency", 0) or 0), path=item.get("path"), method=item.get("method"))
        return 200, {"faults": len(emu.faults)}
    if head == "state" and len(parts) > 1:
        try:
            return 200, emu.state(parts[1])
        except KeyError:
            return 404, {"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}}
    if head == "seed" and len(parts) > 1 and method == "POST":
        emu.seed_rows(parts[1], body.get("tabs", body))
        return 200, {"spreadsheetId": parts[1]}
    if head == "keys" and method == "POST":
        return 200, emu.service_account_info(body.get("client_email", "followup-tests@emulator.iam.gserviceaccount.com"))
    return 404, {"error": {"code": 404, "message": "Unknown emulator control endpoint.", "status": "NOT_FOUND"}}


def _authorize(emu: Emulator, header: str | None, method_id: str, write: bool, service: str = "sheets") -> str:
    """Check the bearer token for this call; returns the caller's email."""
    if not emu.require_auth:
        return ""
    if not header:
        raise ApiError(401, _MISSING_CREDENTIALS, "UNAUTHENTICATED", details=[{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "CREDENTIALS_MISSING",
            "domain": "googleapis.com", "metadata": {"service": f"{service}.googleapis.com"}}])
    grant = emu.authority.check(header)
    if grant is None:
        raise ApiError(401, _INVALID_CREDENTIALS, "UNAUTHENTICATED", details=[{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED",
            "domain": "googleapis.com", "metadata": {"service": f"{service}.googleapis.com"}}])
    if service == "drive":
        allowed = auth.DRIVE_WRITE_SCOPES if write else auth.DRIVE_READ_SCOPES
    else:
        allowed = auth.WRITE_SCOPES if write else auth.READ_SCOPES
    if not grant.scopes & allowed:
        rpc = _RPC_NAMES.get(method_id, method_id)
        raise ApiError(403, "Request had insufficient authentication scopes.", "PERMISSION_DENIED", details=[{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            "domain": "googleapis.com",
            "metadata": {"service": f"{service}.googleapis.com",
                         "method": f"google.apps.sheets.v4.SpreadsheetsService.{rpc}" if service == "sheets" else method_id}}])
    return grant.client_email


def _param(query: dict[str, list[str]], name: str, default: str | None = None, choices: tuple[str, ...] | None = None) -> str | None:
    values = query.get(name)
    value = values[-1] if values else default
    if value is not None and choices is not None and value not in choices:
        snake = "".join("_" + ch.lower() if ch.isupper() else ch for ch in name)
        raise bad_request(f"Invalid value at '{snake}' (TYPE_ENUM), \"{value}\"")
    return value


def _strict(emu: Emulator, method_id: str, body: Any) -> None:
    if not emu.strict:
        return
    problems = discovery.validate_request(method_id, body)
    if problems:
        violations = []
        for p in problems:
            field = p.split("at '", 1)[1].split("'", 1)[0] if "at '" in p else ""
            violations.append({"field": field, "description": p})
        raise ApiError(400, "\n".join(problems), "INVALID_ARGUMENT", details=[{
            "@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": violations}])


def _json_body(raw: bytes) -> Any:
    if not raw:
        return {}
    try:
        return _strip_nulls(json.loads(raw))
    except ValueError:
        raise bad_request("Invalid JSON payload received. Unexpected token.") from None


def _strip_nulls(node: Any) -> Any:
    """JSON null on a message field means 'not set' in proto3 JSON; inside arrays it is kept."""
    if isinstance(node, dict):
        return {k: _strip_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_strip_nulls(v) for v in node]
    return node


def _sheets(emu: Emulator, method: str, path: str, query: dict[str, list[str]], raw: bytes,
            authorization: str | None) -> tuple[int, Any]:
    rest = path[len("/v4/spreadsheets"):]
    body = _json_body(raw)
    if rest in ("", "/"):
        if method != "POST":
            raise _Reply(404, {"error": {"code": 404, "message": "Method not found.", "status": "NOT_FOUND"}})
        _authorize(emu, authorization, "sheets.spreadsheets.create", True)
        _strict(emu, "sheets.spreadsheets.create", body)
        with emu.lock:
            return 200, _create(emu, body)
    rest = rest[1:]
    sid, sep, tail = rest.partition("/")
    action = ""
    if not sep and ":" in sid:
        sid, _, action = sid.partition(":")
    sid = unquote(sid)
    method_id, write = _method_for(method, tail, action)
    actor = _authorize(emu, authorization, method_id, write)
    _strict(emu, method_id, body if method in ("POST", "PUT", "PATCH") else None)
    with emu.lock:
        ss = emu.spreadsheets.get(sid)
        if ss is None or sid in emu.trashed:
            raise ApiError(404, "Requested entity was not found.", "NOT_FOUND")
        ss.actor = actor
        return 200, _dispatch(emu, ss, method_id, tail, query, body)


def _method_for(method: str, tail: str, action: str) -> tuple[str, bool]:
    if not tail:
        if action == "batchUpdate" and method == "POST":
            return "sheets.spreadsheets.batchUpdate", True
        if not action and method == "GET":
            return "sheets.spreadsheets.get", False
    elif tail.startswith("values"):
        rest = tail[len("values"):]
        if rest == ":batchGet" and method == "GET":
            return "sheets.spreadsheets.values.batchGet", False
        if rest == ":batchUpdate" and method == "POST":
            return "sheets.spreadsheets.values.batchUpdate", True
        if rest == ":batchClear" and method == "POST":
            return "sheets.spreadsheets.values.batchClear", True
        if rest.startswith("/"):
            if rest.endswith(":append") and method == "POST":
                return "sheets.spreadsheets.values.append", True
            if rest.endswith(":clear") and method == "POST":
                return "sheets.spreadsheets.values.clear", True
            if method == "GET":
                return "sheets.spreadsheets.values.get", False
            if method == "PUT":
                return "sheets.spreadsheets.values.update", True
    elif tail.startswith("sheets/") and tail.endswith(":copyTo") and method == "POST":
        return "sheets.spreadsheets.sheets.copyTo", True
    raise _Reply(404, {"error": {"code": 404, "message": "Method not found.", "status": "NOT_FOUND"}})


def _range_of(tail: str, suffix: str = "") -> str:
    text = tail[len("values/"):]
    if suffix and text.endswith(suffix):
        text = text[: -len(suffix)]
    return unquote(text)


def _dispatch(emu: Emulator, ss: Spreadsheet, method_id: str, tail: str, query: dict[str, list[str]], body: Any) -> Any:
    vro = _param(query, "valueRenderOption", "FORMATTED_VALUE", _VALUE_RENDER) or "FORMATTED_VALUE"
    dtro = _param(query, "dateTimeRenderOption", "SERIAL_NUMBER", _DATE_RENDER) or "SERIAL_NUMBER"
    major = _param(query, "majorDimension", "ROWS", _MAJOR) or "ROWS"
    if major == "DIMENSION_UNSPECIFIED":
        major = "ROWS"
    if method_id == "sheets.spreadsheets.get":
        include = (_param(query, "includeGridData", "false") or "false").lower() == "true"
        return ss.resource(include, query.get("ranges") or None, _param(query, "fields"))
    if method_id == "sheets.spreadsheets.batchUpdate":
        return batch.apply(ss, body)
    if method_id == "sheets.spreadsheets.values.get":
        b = ss.resolve(_range_of(tail))
        return ss.value_range(b, major, vro, dtro)
    if method_id == "sheets.spreadsheets.values.batchGet":
        ranges = query.get("ranges") or []
        return {"spreadsheetId": ss.id,
                "valueRanges": [ss.value_range(ss.resolve(r), major, vro, dtro) for r in ranges]}
    if method_id == "sheets.spreadsheets.values.update":
        text = _range_of(tail)
        if body.get("range") and not _same_range(ss, body["range"], text):
            raise bad_request(f"Invalid ValueRange: range [{body['range']}] must match the range in the URL [{text}].")
        input_option = _param(query, "valueInputOption", "") or ""
        b = ss.resolve(text, for_write=True)
        out = {"spreadsheetId": ss.id, **ss.write(b, body.get("values"), _major(body), input_option)}
        return _with_values(ss, out, query, vro, dtro)
    if method_id == "sheets.spreadsheets.values.append":
        text = _range_of(tail, ":append")
        input_option = _param(query, "valueInputOption", "") or ""
        if input_option not in ("RAW", "USER_ENTERED"):
            raise bad_request("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
        insert = _param(query, "insertDataOption", "OVERWRITE", ("OVERWRITE", "INSERT_ROWS")) or "OVERWRITE"
        b = ss.resolve(text, for_write=True)
        out = {"spreadsheetId": ss.id, **ss.append(b, body.get("values"), _major(body), input_option, insert)}
        if (_param(query, "includeValuesInResponse", "false") or "false").lower() == "true":
            upd = out["updates"]
            upd["updatedData"] = ss.value_range(ss.resolve(upd["updatedRange"]), "ROWS", vro, dtro)
        return out
    if method_id == "sheets.spreadsheets.values.clear":
        b = ss.resolve(_range_of(tail, ":clear"))
        return {"spreadsheetId": ss.id, "clearedRange": ss.clear(b)}
    if method_id == "sheets.spreadsheets.values.batchClear":
        bounds = [ss.resolve(r) for r in body.get("ranges") or []]
        return {"spreadsheetId": ss.id, "clearedRanges": [ss.clear(b) for b in bounds]}
    if method_id == "sheets.spreadsheets.values.batchUpdate":
        return _values_batch_update(ss, body, vro, dtro)
    if method_id == "sheets.spreadsheets.sheets.copyTo":
        return _copy_to(emu, ss, tail, body)
    raise bad_request(f"Unsupported method {method_id}")


def _major(body: JSON) -> str:
    major = body.get("majorDimension") or "ROWS"
    return "ROWS" if major == "DIMENSION_UNSPECIFIED" else major


def _same_range(ss: Spreadsheet, a: str, b: str) -> bool:
    try:
        x, y = ss.resolve(a, for_write=True), ss.resolve(b, for_write=True)
    except ApiError:
        return a == b
    return (x.sheet.sheet_id, x.sr, x.er, x.sc, x.ec) == (y.sheet.sheet_id, y.sr, y.er, y.sc, y.ec)


def _with_values(ss: Spreadsheet, out: JSON, query: dict[str, list[str]], vro: str, dtro: str) -> JSON:
    if (_param(query, "includeValuesInResponse", "false") or "false").lower() == "true" and "updatedRange" in out:
        out["updatedData"] = ss.value_range(ss.resolve(out["updatedRange"]), "ROWS", vro, dtro)
    return out


def _values_batch_update(ss: Spreadsheet, body: JSON, vro: str, dtro: str) -> JSON:
    input_option = body.get("valueInputOption") or ""
    if input_option not in ("RAW", "USER_ENTERED"):
        raise bad_request("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
    data = body.get("data") or []
    # Validate every range first: the call is all-or-nothing.
    targets: list[tuple[Bounds, JSON]] = []
    for i, vr in enumerate(data):
        if not vr.get("range"):
            raise bad_request(f"Invalid data[{i}]: range is required")
        targets.append((ss.resolve(vr["range"], for_write=True), vr))
    snapshot = copy.deepcopy(ss.sheets)
    responses = []
    try:
        for i, (b, vr) in enumerate(targets):
            responses.append({"spreadsheetId": ss.id, **ss.write(b, vr.get("values"), _major(vr), input_option,
                                                                  where=f"data[{i}].values")})
    except ApiError:
        ss.sheets = snapshot
        raise
    out: JSON = {"spreadsheetId": ss.id}
    counted = [r for r in responses if "updatedCells" in r]
    if counted:
        # Totals count distinct rows/columns per sheet (two 1x4 writes in A:D -> 4 columns, not 8).
        rows: set[tuple[str, int]] = set()
        cols: set[tuple[str, int]] = set()
        for r in counted:
            b = ss.resolve(r["updatedRange"])
            rows.update((b.sheet.title, i) for i in range(b.sr, b.er))
            cols.update((b.sheet.title, j) for j in range(b.sc, b.ec))
        out["totalUpdatedRows"] = len(rows)
        out["totalUpdatedColumns"] = len(cols)
        out["totalUpdatedCells"] = sum(r["updatedCells"] for r in counted)
        out["totalUpdatedSheets"] = len({r["updatedRange"].rsplit("!", 1)[0] for r in counted})
    out["responses"] = responses
    if body.get("includeValuesInResponse"):
        for r in responses:
            r["updatedData"] = ss.value_range(ss.resolve(r["updatedRange"]), "ROWS",
                                              body.get("responseValueRenderOption") or vro,
                                              body.get("responseDateTimeRenderOption") or dtro)
    return out


def _create(emu: Emulator, body: JSON) -> JSON:
    props = body.get("properties") or {}
    sheets = body.get("sheets") or []
    titles = [(s.get("properties") or {}).get("title") or f"Sheet{i + 1}" for i, s in enumerate(sheets)] or ["Sheet1"]
    if len({t.lower() for t in titles}) != len(titles):
        raise bad_request("Invalid sheets: duplicate sheet titles.")
    ss = emu.create_spreadsheet(props.get("title") or "Untitled spreadsheet", titles)
    for key, value in props.items():
        if key != "title":
            ss.properties[key] = value
    for sheet, spec in zip(ss.sheets, sheets, strict=False):
        given = dict(spec.get("properties") or {})
        if "sheetId" in given:
            sheet.props["sheetId"] = given["sheetId"]
        grid = given.get("gridProperties") or {}
        sheet.grid.update(grid)
        for key in ("hidden", "tabColor", "tabColorStyle", "rightToLeft"):
            if key in given:
                sheet.props[key] = given[key]
        for data in spec.get("data") or []:
            r0, c0 = int(data.get("startRow", 0)), int(data.get("startColumn", 0))
            for i, row in enumerate(data.get("rowData") or []):
                for j, cell in enumerate(row.get("values") or []):
                    if cell:
                        sheet.cells[(r0 + i, c0 + j)] = {k: v for k, v in cell.items()
                                                         if k in ("userEnteredValue", "userEnteredFormat", "note", "dataValidation")}
    return ss.resource()


def _copy_to(emu: Emulator, ss: Spreadsheet, tail: str, body: JSON) -> JSON:
    sheet_id = int(tail.split("/")[1].split(":")[0])
    src = ss.sheet_by_id(sheet_id)
    dest = emu.spreadsheets.get(body.get("destinationSpreadsheetId", ""))
    if dest is None:
        raise ApiError(404, "Requested entity was not found.", "NOT_FOUND")
    new = copy.deepcopy(src)
    title = f"Copy of {src.title}"
    while dest.sheet_by_title(title) is not None:
        title = f"{title} 1"
    new.props["title"] = title
    new.props["sheetId"] = dest.new_id()
    dest.sheets.append(new)
    dest.reindex()
    return copy.deepcopy(new.props)


# -- Drive (the minimum gspread needs around spreadsheets) -------------------------------------------


def _drive_file(emu: Emulator, ss: Spreadsheet) -> JSON:
    return {"kind": "drive#file", "id": ss.id, "name": ss.properties["title"],
            "mimeType": "application/vnd.google-apps.spreadsheet", "createdTime": ss.created,
            "modifiedTime": ss.modified, "trashed": ss.id in emu.trashed}


def _drive_fields(file: JSON, mask: str | None) -> JSON:
    if not mask:
        return {k: file[k] for k in ("kind", "id", "name", "mimeType")}
    return fieldmask.apply(file, fieldmask.parse(mask))


def _drive(emu: Emulator, method: str, path: str, query: dict[str, list[str]], raw: bytes,
           authorization: str | None) -> tuple[int, Any]:
    parts = [unquote(p) for p in path.split("/") if p]
    if parts[:2] == ["upload", "drive"]:
        raise ApiError(501, "The emulator does not implement Drive uploads.", "UNIMPLEMENTED")
    rest = parts[3:]  # after drive/v3/files
    write = method in ("POST", "PATCH", "DELETE", "PUT")
    _authorize(emu, authorization, f"drive.files.{method.lower()}", write, service="drive")
    body = _json_body(raw)
    mask = _param(query, "fields")
    with emu.lock:
        if not rest:
            if method == "POST":
                if body.get("mimeType") != "application/vnd.google-apps.spreadsheet":
                    raise ApiError(501, "The emulator only creates spreadsheets.", "UNIMPLEMENTED")
                ss = emu.create_spreadsheet(body.get("name") or "Untitled spreadsheet")
                return 200, _drive_fields(_drive_file(emu, ss), mask)
            if method == "GET":
                files = [_drive_file(emu, s) for s in emu.spreadsheets.values() if s.id not in emu.trashed]
                files = [f for f in files if _drive_query(f, _param(query, "q") or "")]
                listing = {"kind": "drive#fileList", "incompleteSearch": False, "files": files}
                if mask:
                    return 200, fieldmask.apply(listing, fieldmask.parse(mask))
                return 200, {"kind": "drive#fileList", "incompleteSearch": False,
                             "files": [_drive_fields(f, None) for f in files]}
        fid = rest[0]
        ss = emu.spreadsheets.get(fid)
        if ss is None or (fid in emu.trashed and method != "GET"):
            raise ApiError(404, f"File not found: {fid}.", "NOT_FOUND", details=None)
        if len(rest) == 1:
            if method == "GET":
                return 200, _drive_fields(_drive_file(emu, ss), mask)
            if method == "DELETE":
                del emu.spreadsheets[fid]
                return 204, None
            if method == "PATCH":
                if "name" in body:
                    ss.properties["title"] = body["name"]
                if body.get("trashed") is not None:
                    (emu.trashed.add if body["trashed"] else emu.trashed.discard)(fid)
                ss.touch()
                return 200, _drive_fields(_drive_file(emu, ss), mask)
        if len(rest) == 2 and rest[1] == "copy" and method == "POST":
            new = emu.create_spreadsheet(body.get("name") or f"Copy of {ss.properties['title']}")
            new.properties = copy.deepcopy(ss.properties)
            new.properties["title"] = body.get("name") or f"Copy of {ss.properties['title']}"
            new.sheets = copy.deepcopy(ss.sheets)
            new.named_ranges = copy.deepcopy(ss.named_ranges)
            return 200, _drive_fields(_drive_file(emu, new), mask)
    raise ApiError(501, f"The emulator does not implement Drive {method} {path}.", "UNIMPLEMENTED")


def _drive_query(file: JSON, q: str) -> bool:
    """A tiny subset of Drive's query language: name = '...', mimeType = '...', and/trashed."""
    for key, _op, value in re.findall(r"(name|mimeType)\s*(=)\s*[\"']((?:[^\"'\\]|\\.)*)[\"']", q):
        if file.get(key) != value.replace("\\'", "'").replace('\\"', '"'):
            return False
    for value in re.findall(r"name\s+contains\s+[\"']((?:[^\"'\\]|\\.)*)[\"']", q):
        if value not in file.get("name", ""):
            return False
    return True
