"""The Google Sheets backend: gspread + google-auth, a fixed handful of API requests per run.

A run costs: metadata once, two values:batchGet (formatted and unformatted renderings, merged so IDs
keep their leading zeros and dates are real dates), and one spreadsheets:batchUpdate that writes every
owned cell and tab. The batchUpdate is atomic on Google's side, so a failed run writes nothing partial.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from addon.backends import google_requests as gr
from addon.backends.base import SourceUnavailable
from addon.backends.gspread_endpoint import client_for
from addon.config import Config
from addon.core.fields import OWNED_COLUMNS, normalize
from addon.model import Cell, Table, WriteSet

log = logging.getLogger(__name__)

# The narrowest scope that can read and write a sheet; no Drive scope.
SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
RETRY_STATUS = {429, 500, 502, 503, 504}
_ID_IN_URL = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")
METADATA_FIELDS = (
    "spreadsheetId,properties(title,locale,timeZone),spreadsheetUrl,"
    "sheets(properties(sheetId,title,index,gridProperties(rowCount,columnCount,frozenRowCount)),"
    "conditionalFormats,charts(chartId))"
)


def sheet_id_from(value: str) -> str:
    """Accept a bare id or any docs.google.com URL of the sheet."""
    match = _ID_IN_URL.search(value)
    return match.group(1) if match else value.strip()


class RetryingHTTPClient(HTTPClient):
    """Retries 429/5xx and network faults with exponential backoff and jitter, bounded in tries and time."""

    max_attempts = 6
    base_delay = 1.0
    max_total = 90.0
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        started = time.monotonic()
        for attempt in range(1, self.max_attempts + 1):
            try:
                return super().request(*args, **kwargs)
            except APIError as error:
                if error.code not in RETRY_STATUS or attempt == self.max_attempts:
                    raise
                failure: Exception = error
            except (requests.ConnectionError, requests.Timeout) as error:
                if attempt == self.max_attempts:
                    raise
                failure = error
            delay = min(self.base_delay * 2 ** (attempt - 1), 32.0) * (0.5 + random.random())
            if time.monotonic() - started + delay > self.max_total:
                raise failure
            log.warning("Sheets API: %s; retrying in %.1f s (attempt %d of %d)", _short(failure), delay, attempt + 1, self.max_attempts)
            self.sleep(delay)
        raise AssertionError("unreachable")


def _short(error: Exception) -> str:
    if isinstance(error, APIError):
        return f"HTTP {error.code} {error.error.get('status', '')}".strip()
    return type(error).__name__


def load_credentials(config: Config | None, credentials: Path | None = None, oauth: bool = False) -> Any:
    """Service-account key (config, else GOOGLE_APPLICATION_CREDENTIALS), or a desktop user's OAuth sign-in."""
    if oauth:
        from gspread.auth import local_server_flow
        from gspread.auth import oauth as user_oauth

        return user_oauth(scopes=SCOPES, flow=local_server_flow).http_client.auth
    from google.oauth2 import service_account

    path = credentials or (Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"]) if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") else None)
    if path is None:
        raise SourceUnavailable(
            "no Google credentials: set `source: credentials: key.json` in config.yaml or the GOOGLE_APPLICATION_CREDENTIALS environment variable",
            zh="没有 Google 凭据：请在 config.yaml 中设置 `source: credentials: key.json`，或设置环境变量 GOOGLE_APPLICATION_CREDENTIALS",
        )
    if config is not None and not path.is_absolute():
        path = config.path(path)
    try:
        return service_account.Credentials.from_service_account_file(str(path), scopes=SCOPES)
    except FileNotFoundError:
        raise SourceUnavailable(f"Google credentials file not found: {path}", zh=f"找不到 Google 凭据文件：{path}") from None
    except (ValueError, KeyError) as error:
        raise SourceUnavailable(f"{path} is not a service-account key file ({error}); download a JSON key for the service account",
                                zh=f"{path} 不是服务账号密钥文件（{error}）；请为服务账号下载一个 JSON 密钥") from None


class GoogleBackend:
    """One spreadsheet. Reads in three requests, writes in one."""

    def __init__(self, spreadsheet_id: str, credentials: Any, *, endpoint: str | None = None) -> None:
        self.spreadsheet_id = sheet_id_from(spreadsheet_id)
        self.location = f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"
        self.client = client_for(credentials, endpoint, http_client=RetryingHTTPClient)
        self.http = self.client.http_client
        self.account = getattr(credentials, "service_account_email", None)
        self._meta: dict[str, Any] | None = None
        self._read: dict[str, Table] = {}
        self.locale = "zh-CN"

    @classmethod
    def from_config(cls, config: Config) -> GoogleBackend:
        source = config.source
        credentials = load_credentials(config, source.credentials, source.oauth)
        backend = cls(str(source.google), credentials, endpoint=source.endpoint)
        backend.locale = config.locale
        return backend

    # --- errors in words ---
    def _explain(self, error: Exception) -> SourceUnavailable:
        who = f" ({self.account})" if self.account else ""
        if isinstance(error, RefreshError):
            said = error.args[0] if error.args else error
            return SourceUnavailable(f"Google refused the credentials{who}: {said}; check the key file or create a new key",
                                     zh=f"Google 拒绝了凭据{who}：{said}；请检查密钥文件，或新建一个密钥")
        if isinstance(error, APIError):
            code = error.code
            if code == 404:
                return SourceUnavailable(f"spreadsheet {self.spreadsheet_id} not found; check the id in `source: google:`",
                                         zh=f"找不到表格 {self.spreadsheet_id}；请检查 `source: google:` 中的 ID")
            said = error.error.get("message", "")
            if code == 403:
                return SourceUnavailable(
                    f"no access to spreadsheet {self.spreadsheet_id}{who}: share the sheet with the service account as Editor "
                    f"(Google said: {said})",
                    zh=f"无权访问表格 {self.spreadsheet_id}{who}：请把表格以“编辑者”身份共享给服务账号（Google 的答复：{said}）",
                )
            if code == 401:
                return SourceUnavailable(f"Google did not accept the credentials{who}; check the key file",
                                         zh=f"Google 不接受这些凭据{who}；请检查密钥文件")
            return SourceUnavailable(f"Sheets API error {code}: {said}", zh=f"Sheets API 错误 {code}：{said}")
        if isinstance(error, GoogleAuthError | TransportError | requests.RequestException):
            return SourceUnavailable(f"cannot reach Google Sheets: {error}", zh=f"无法连接 Google 表格：{error}")
        return SourceUnavailable(str(error))

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (APIError, GoogleAuthError, TransportError, requests.RequestException) as error:
            raise self._explain(error) from None

    # --- Backend interface ---
    def metadata(self, refresh: bool = False) -> dict[str, Any]:
        if self._meta is None or refresh:
            self._meta = self._call(lambda: self.http.fetch_sheet_metadata(self.spreadsheet_id, params={"fields": METADATA_FIELDS}))
        return self._meta

    def _sheets(self) -> dict[str, dict[str, Any]]:
        return {s["properties"]["title"]: s for s in self.metadata().get("sheets", [])}

    def sheet_names(self) -> list[str]:
        return [s["properties"]["title"] for s in sorted(self.metadata().get("sheets", []), key=lambda s: s["properties"].get("index", 0))]

    def read(self, names: list[str]) -> dict[str, Table]:
        if not names:
            return {}
        ranges = [_quote(name) for name in names]

        def get(render: str) -> list[dict[str, Any]]:
            params = {"ranges": ranges, "valueRenderOption": render, "dateTimeRenderOption": "SERIAL_NUMBER", "majorDimension": "ROWS"}
            return self.http.values_batch_get(self.spreadsheet_id, ranges, params=params).get("valueRanges", [])

        raw = self._call(lambda: get("UNFORMATTED_VALUE"))
        shown = self._call(lambda: get("FORMATTED_VALUE"))
        tables = {}
        for name, raw_range, shown_range in zip(names, raw, shown, strict=True):
            rows = gr.merge_rows(raw_range.get("values", []), shown_range.get("values", []))
            tables[name] = Table(name=name, rows=rows, first_row=1)
        self._read.update(tables)
        return tables

    def write(self, writes: WriteSet) -> None:
        requests_ = self.plan_write(writes)
        if not requests_:
            return
        self._call(lambda: self.http.batch_update(self.spreadsheet_id, {"requests": requests_}))
        self._meta = None

    # --- planning the single batchUpdate ---
    def plan_write(self, writes: WriteSet) -> list[dict[str, Any]]:
        sheets = self._sheets()
        used_ids = {s["properties"]["sheetId"] for s in sheets.values()}
        requests_: list[dict[str, Any]] = []
        for name in writes.stale_tabs:
            if name in sheets:
                requests_.append({"deleteSheet": {"sheetId": sheets[name]["properties"]["sheetId"]}})
        if writes.columns is not None:
            requests_ += self._column_requests(writes, sheets)
        next_index = len(sheets)
        for tab in writes.tabs:
            rows, cols = gr.tab_size(tab)
            existing = sheets.get(tab.name)
            if existing is None:
                sheet_id = _new_sheet_id(tab.name, used_ids)
                used_ids.add(sheet_id)
                requests_.append(
                    {
                        "addSheet": {
                            "properties": {
                                "sheetId": sheet_id,
                                "title": tab.name,
                                "index": next_index,
                                "gridProperties": {"rowCount": rows, "columnCount": cols, "frozenRowCount": tab.freeze_rows},
                            }
                        }
                    }
                )
                next_index += 1
                requests_ += gr.tab_requests(sheet_id, tab, clear=False)
            else:
                props = existing["properties"]
                sheet_id = props["sheetId"]
                grid = props.get("gridProperties", {})
                if grid.get("rowCount", 0) < rows or grid.get("columnCount", 0) < cols:
                    requests_.append(
                        {
                            "updateSheetProperties": {
                                "properties": {"sheetId": sheet_id, "gridProperties": {"rowCount": max(rows, grid.get("rowCount", 0)), "columnCount": max(cols, grid.get("columnCount", 0))}},
                                "fields": "gridProperties.rowCount,gridProperties.columnCount",
                            }
                        }
                    )
                old_charts = [c["chartId"] for c in existing.get("charts", [])]
                requests_ += gr.tab_requests(sheet_id, tab, old_charts=old_charts)
        return requests_

    def _column_requests(self, writes: WriteSet, sheets: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        patch = writes.columns
        assert patch is not None
        sheet = sheets.get(patch.tab)
        if sheet is None:
            raise SourceUnavailable(f"tab {patch.tab!r} disappeared from the spreadsheet during the run; run again",
                                    zh=f"运行期间工作表“{patch.tab}”从表格中消失了；请再运行一次")
        props = sheet["properties"]
        sheet_id = props["sheetId"]
        grid = props.get("gridProperties", {})
        requests_: list[dict[str, Any]] = []
        need_cols = max(patch.columns)
        need_rows = max([patch.header_row, *patch.cells]) if patch.cells else patch.header_row
        if grid.get("columnCount", 0) < need_cols:
            requests_.append({"appendDimension": {"sheetId": sheet_id, "dimension": "COLUMNS", "length": need_cols - grid.get("columnCount", 0)}})
        if grid.get("rowCount", 0) < need_rows:
            requests_.append({"appendDimension": {"sheetId": sheet_id, "dimension": "ROWS", "length": need_rows - grid.get("rowCount", 0)}})
        current = self._owned_cells(patch.tab, patch.columns, patch.header_row)
        requests_ += gr.column_requests(sheet_id, patch, current)
        status_col = patch.columns[list(OWNED_COLUMNS).index("status")]
        requests_ += self._status_rule_requests(sheet, sheet_id, status_col, patch.header_row)
        if patch.widths and not current:
            requests_ += gr.width_requests(sheet_id, {c - 1: w for c, w in zip(patch.columns, patch.widths, strict=False)})
        return requests_

    def _owned_cells(self, tab: str, columns: list[int], header_row: int) -> dict[tuple[int, int], Cell]:
        table = self._read.get(tab)
        current: dict[tuple[int, int], Cell] = {}
        if table is None:
            return current
        for offset, row in enumerate(table.rows):
            number = table.first_row + offset
            if number < header_row:
                continue
            for col in columns:
                if col - 1 < len(row) and row[col - 1] not in (None, ""):
                    current[(number, col)] = row[col - 1]
        return current

    def _status_rule_requests(self, sheet: dict[str, Any], sheet_id: int, column: int, header_row: int) -> list[dict[str, Any]]:
        """Install the status colours once; replace them only if the column or language changed."""
        rules = sheet.get("conditionalFormats", [])
        ours = [(i, r) for i, r in enumerate(rules) if gr.is_status_rule(r)]
        wanted = gr.status_rules(sheet_id, column, header_row, self.locale)
        wanted_rules = [w["addConditionalFormatRule"]["rule"] for w in wanted]
        if sorted(_rule_key(r) for _, r in ours) == sorted(_rule_key(w) for w in wanted_rules):
            return []
        deletes = [{"deleteConditionalFormatRule": {"sheetId": sheet_id, "index": i}} for i, _ in sorted(ours, reverse=True)]
        return deletes + wanted


def _rule_key(rule: dict[str, Any]) -> tuple[Any, ...]:
    """What makes one of our status rules: its column, first row and the label it matches."""
    rng = (rule.get("ranges") or [{}])[0]
    value = rule["booleanRule"]["condition"]["values"][0]["userEnteredValue"]
    return (rng.get("startColumnIndex"), rng.get("endColumnIndex"), rng.get("startRowIndex", 0), value)


def _quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _new_sheet_id(title: str, used: set[int]) -> int:
    """A stable id per title (so repeated runs look alike in logs), avoiding collisions."""
    candidate = (abs(hash(normalize(title))) % 2_000_000_000) + 1
    while candidate in used:
        candidate += 1
    return candidate


def open_sheet(sheet: str, config: Config | None = None) -> GoogleBackend:
    """A sheet named on the command line (`init --google`), with the config's credentials when there is one."""
    source = config.source if config is not None else None
    credentials = load_credentials(config, source.credentials if source else None, source.oauth if source else False)
    return GoogleBackend(sheet, credentials, endpoint=source.endpoint if source else None)
