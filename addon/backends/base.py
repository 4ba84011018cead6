"""The one small interface every backend implements: list tabs, read tabs, write owned output.

Backends do I/O only; everything they need to decide (which columns are owned, what goes in
them, how tabs look) arrives already computed in a WriteSet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from addon.core.fields import lang_index
from addon.model import Table, WriteSet

# Named styles a WriteSet may use; each backend maps them to its own formatting.
# Colours are RGB hex without '#': (font, fill).
STYLES: dict[str, dict[str, object]] = {
    "header": {"bold": True, "fill": "D9E1F2", "font": "1F3864"},
    "title": {"bold": True, "size": 14, "font": "1F3864"},
    "bold": {"bold": True},
    "subtle": {"italic": True, "font": "7F7F7F"},
    "ok": {"fill": "C6EFCE", "font": "006100"},
    "due": {"fill": "FFEB9C", "font": "9C5700"},
    "overdue": {"fill": "FFC7CE", "font": "9C0006"},
    "escalated": {"fill": "C00000", "font": "FFFFFF", "bold": True},
    "muted": {"fill": "E7E6E6", "font": "595959"},
    "date": {"num_format": "yyyy-mm-dd"},
    "datetime": {"num_format": "yyyy-mm-dd hh:mm"},
    "text": {"num_format": "@"},
    "percent": {"num_format": "0.0%"},
    "number": {"num_format": "#,##0"},
    "decimal": {"num_format": "0.0"},
}

# Which style colours each status cell (SPEC §3: green ok / amber due / red overdue / dark red escalated / grey).
STATUS_STYLE: dict[str, str] = {
    "ok": "ok",
    "due_soon": "due",
    "due_today": "due",
    "overdue": "overdue",
    "escalated": "escalated",
    "pool": "muted",
    "closed": "muted",
    "invalid": "muted",
}


class SourceUnavailable(Exception):
    """The workbook or sheet cannot be opened now (locked, missing, unreachable): exit code 3.

    `zh`: the same message in Chinese, where one is written; shells show `text(locale)`."""

    def __init__(self, message: str, *, zh: str | None = None) -> None:
        super().__init__(message)
        self.zh = zh

    def text(self, locale: str) -> str:
        return self.zh if self.zh and lang_index(locale) == 0 else str(self)


class Backend(Protocol):
    """Where the user's data lives. Implementations: excel (file), google (Sheets API), xlwings (live Excel)."""

    location: str  # human-readable: a file path or a sheet URL, used in messages and links

    def sheet_names(self) -> list[str]:
        """All tab names, in workbook order."""
        ...

    def read(self, names: list[str]) -> Mapping[str, Table]:
        """The named tabs as displayed values, in one pass where the backend allows it.

        A backend may return while tabs are still loading; looking a tab up then waits for it."""
        ...

    def write(self, writes: WriteSet) -> None:
        """Replace owned columns and owned tabs; never touch anything else. All or nothing."""
        ...
