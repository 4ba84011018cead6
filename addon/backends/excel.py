"""The Excel-file backend: python-calamine to read fast, the part-level writer to write without loss."""

from __future__ import annotations

import logging
import weakref
import zipfile
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, wait
from pathlib import Path

import python_calamine

from addon.backends.base import SourceUnavailable
from addon.backends.calamine_tabs import Rows, start_reading
from addon.backends.safe_file import check_not_locked, file_version
from addon.model import Table, WriteSet

log = logging.getLogger(__name__)

EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def check_readable(path: Path) -> None:
    """Fail early with words a user understands: missing file, wrong type, password protection."""
    if not path.exists():
        raise SourceUnavailable(f"workbook not found: {path}; check `source: excel:` in the config (paths are relative to the config file)",
                                zh=f"找不到工作簿：{path}；请检查配置中的 source: excel:（相对路径以配置文件所在文件夹为准）")
    if path.is_dir():
        raise SourceUnavailable(f"{path} is a folder; `source: excel:` must name an .xlsx or .xlsm file",
                                zh=f"{path} 是文件夹；source: excel: 应指向一个 .xlsx 或 .xlsm 文件")
    if path.suffix.lower() not in EXCEL_SUFFIXES:
        raise SourceUnavailable(f"{path.name}: only .xlsx and .xlsm workbooks are supported (save an .xls or .csv as .xlsx first)",
                                zh=f"{path.name}：只支持 .xlsx 和 .xlsm 工作簿（请先把 .xls 或 .csv 另存为 .xlsx）")
    if not zipfile.is_zipfile(path):
        with path.open("rb") as handle:
            magic = handle.read(8)
        if magic.startswith(b"\xd0\xcf\x11\xe0"):
            raise SourceUnavailable(
                f"{path.name} is password-protected (encrypted); remove the password in Excel (File ▸ Info ▸ Protect Workbook) or use an unprotected copy",
                zh=f"{path.name} 设有密码（已加密）；请在 Excel 中去掉密码（文件 ▸ 信息 ▸ 保护工作簿），或使用未加密的副本",
            )
        raise SourceUnavailable(f"{path.name} is not a valid .xlsx/.xlsm file (it may be damaged or still being copied)",
                                zh=f"{path.name} 不是有效的 .xlsx/.xlsm 文件（可能已损坏，或仍在复制中）")


class ExcelBackend:
    """A workbook file. Reads are cheap; writes go through addon.backends.xlsx_package."""

    def __init__(self, path: Path, *, backups: int = 5, backup_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.backups = backups
        self.backup_dir = backup_dir
        self._book: python_calamine.CalamineWorkbook | None = None
        self._handed_out: dict[str, weakref.ref[Table]] = {}  # tabs read, reused by the write's check
        self._readers: list[weakref.ref[Future[Rows]]] = []  # reads that may still hold the file open
        self._read_version: tuple[int, int, int] | None = None  # the file they were read from

    def _open(self) -> python_calamine.CalamineWorkbook:
        if self._book is None:
            check_readable(self.path)
            try:
                self._book = python_calamine.CalamineWorkbook.from_path(str(self.path))
                self._handed_out, self._read_version = {}, file_version(self.path)
            except python_calamine.PasswordError:
                raise SourceUnavailable(f"{self.path.name} is password-protected; remove the password or use an unprotected copy",
                                        zh=f"{self.path.name} 设有密码；请去掉密码，或使用未加密的副本") from None
            except (python_calamine.CalamineError, OSError, ValueError) as error:
                raise SourceUnavailable(f"cannot read {self.path.name}: {error}") from None
        return self._book

    def check_writable(self) -> None:
        """Refuse now, before anything is sent, when Excel or LibreOffice has the file open."""
        check_readable(self.path)
        check_not_locked(self.path)

    def sheet_names(self) -> list[str]:
        return list(self._open().sheet_names)

    def read(self, names: list[str]) -> Mapping[str, Table]:
        """Start reading every named tab at once; each is handed out when it has loaded, so the
        Customers tab can be validated while the (much larger) FollowUps tab is still loading."""
        self._open()
        self._handed_out = {}
        futures = start_reading(self.path, names)
        self._readers = [weakref.ref(f) for f in futures.values()]  # alive while running or still held
        return TabsLoading(self.path, futures, self._handed_out)

    def _rows_read(self) -> dict[str, Rows]:
        """Tabs handed out that the caller still holds, for the write's check to reuse instead of
        reading them again (only weakly remembered: a tab nobody needs any more is freed at once)."""
        alive = {name: ref() for name, ref in self._handed_out.items()}
        return {name: table.rows for name, table in alive.items() if table is not None}

    def close(self) -> None:
        """Let go of the file: our handle, and every tab still being read (Windows cannot replace an open file)."""
        if self._book is not None:
            self._book.close()
            self._book = None
        wait([f for ref in self._readers if (f := ref()) is not None])

    def write(self, writes: WriteSet) -> None:
        from addon.backends.xlsx_package import update_workbook

        self.close()  # the writer replaces the file
        unchanged = self._read_version is not None and self._read_version == file_version(self.path)
        update_workbook(self.path, writes, backup_dir=self.backup_dir, keep_backups=self.backups, original_rows=self._rows_read() if unchanged else None)
        self._handed_out, self._read_version = {}, None


class TabsLoading(Mapping[str, Table]):
    """Tabs still being read in the background; looking one up waits for it (and raises its read error)."""

    def __init__(self, path: Path, futures: dict[str, Future[Rows]], handed_out: dict[str, weakref.ref[Table]]) -> None:
        self._path, self._futures, self._handed_out = path, futures, handed_out
        self._tables: dict[str, Table] = {}

    def __getitem__(self, name: str) -> Table:
        table = self._tables.get(name)
        if table is None:
            try:
                rows = self._futures[name].result()
            except (python_calamine.CalamineError, OSError, ValueError) as error:
                raise SourceUnavailable(f"cannot read tab {name!r} of {self._path.name}: {error}",
                                        zh=f"无法读取 {self._path.name} 的“{name}”工作表：{error}") from None
            # Handed over as calamine gives them ('' for blanks); validation renders any value safely.
            table = self._tables[name] = Table(name=name, rows=rows, first_row=1)
            self._handed_out[name] = weakref.ref(table)
        return table

    def __iter__(self) -> Iterator[str]:
        return iter(self._futures)

    def __len__(self) -> int:
        return len(self._futures)
