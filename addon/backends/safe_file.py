"""Replace a user's file so that it is always either the old or the new complete version.

Used by the Excel writer, reusable for any file the add-on rewrites in place:

- `check_not_locked(path)`: refuse while Excel or LibreOffice has the file open (their lock
  files `~$<name>` and `.~lock.<name>#` sit next to it).
- `atomic_replace(path, write_fn, ...)`: write to a temp file in the same folder, flush and
  fsync, optionally verify it, keep the previous version as a backup, `os.replace`, fsync
  the folder. On any failure the original is untouched and the temp file is removed.
- `backup(path, backup_dir, keep)`: a timestamped copy of the current version; only the
  newest `keep` backups of that workbook are kept. The default folder is
  `<workbook folder>/.followup-backups/`, named `<stem>.<YYYYmmdd-HHMMSS-ffffff><suffix>`
  so a backup opens in Excel as it is.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from addon.backends.base import SourceUnavailable
from addon.core.fields import lang_index

BACKUP_DIR_NAME = ".followup-backups"
TEMP_PREFIX = ".~followup-"  # the writer's temp files next to the workbook; only there while a write is under way
_STALE_TEMP_SECONDS = 15 * 60


class WorkbookLocked(SourceUnavailable):
    """The file is open in Excel or LibreOffice (a lock file sits next to it)."""


class WorkbookUnreadable(SourceUnavailable):
    """The file is encrypted, not a workbook, or damaged."""


class WriteFailed(SourceUnavailable):
    """Writing failed (disk full, permissions, verification); the original file is intact."""


def lock_files(path: Path) -> list[Path]:
    """Lock files of office applications that have `path` open."""
    name = path.name
    candidates = [f"~${name}", f".~lock.{name}#"]
    if len(name) > 2:  # Word-style owner files replace the first two characters
        candidates.append(f"~${name[2:]}")
    return [path.with_name(c) for c in dict.fromkeys(candidates) if path.with_name(c).exists()]


def check_not_locked(path: Path) -> None:
    """Raise WorkbookLocked when Excel or LibreOffice has the file open."""
    locks = lock_files(path)
    if locks:
        raise WorkbookLocked(
            f"{path.name} is open in Excel or LibreOffice (lock file {locks[0].name}); close it and run again. "
            f"If no one has it open, the lock file is left over from a crash: delete {locks[0]}",
            zh=f"{path.name} 正在被 Excel 或 LibreOffice 打开（锁文件 {locks[0].name}）；请关闭后再运行。"
            f"如果没有人打开它，这个锁文件是程序崩溃后遗留的：删除 {locks[0]}",
        )


def default_backup_dir(path: Path) -> Path:
    return path.parent / BACKUP_DIR_NAME


def _backup_pattern(path: Path) -> re.Pattern[str]:
    return re.compile(re.escape(path.stem) + r"\.(\d{8}-\d{6}-\d{6})" + re.escape(path.suffix) + "$")


def list_backups(path: Path, backup_dir: Path | None = None) -> list[Path]:
    """This file's backups, oldest first."""
    folder = backup_dir or default_backup_dir(path)
    if not folder.is_dir():
        return []
    pattern = _backup_pattern(path)
    found = [(m.group(1), entry) for entry in folder.iterdir() if (m := pattern.match(entry.name))]
    return [entry for _, entry in sorted(found)]


def prune_backups(path: Path, backup_dir: Path | None, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups; returns what was deleted."""
    backups = list_backups(path, backup_dir)
    doomed = backups[: max(0, len(backups) - keep)]
    for old in doomed:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
    return doomed


def backup(path: Path, backup_dir: Path | None = None, keep: int = 5) -> Path:
    """A timestamped backup of the file as it is now (a hard link when possible: instant, no space)."""
    folder = backup_dir or default_backup_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = folder / f"{path.stem}.{stamp}{path.suffix}"
        if not target.exists():
            break
        time.sleep(0.001)
    try:
        os.link(path, target)
    except OSError:
        shutil.copy2(path, target)
    prune_backups(path, backup_dir, keep)
    return target


def file_version(path: Path) -> tuple[int, int, int]:
    """Identity of a file's current version: any save (by Excel, by us) changes at least one of these."""
    return _version(path.stat())


def _version(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


def fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _clean_stale_temps(path: Path) -> None:
    """Temp files of writes that were killed long ago (a crash never damages the original, but litters)."""
    now = time.time()
    for entry in path.parent.glob(f"{TEMP_PREFIX}*.{path.name}.tmp"):
        with contextlib.suppress(OSError):
            if now - entry.stat().st_mtime > _STALE_TEMP_SECONDS:
                entry.unlink()


def describe_os_error(error: OSError, locale: str = "en") -> str:
    """Why a file operation failed, in words an administrator acts on (zh or en)."""
    zh = lang_index(locale) == 0
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return ("磁盘空间不足（磁盘已满或超出配额）；请腾出空间后再运行" if zh
                else "no room left on the disk (disk full or quota reached); free some space and run again")
    if error.errno == errno.EFBIG:
        return "文件超出系统允许的大小上限" if zh else "no room for a file this large (the system's file-size limit was reached)"
    if error.errno in (errno.EACCES, errno.EPERM):
        where = error.filename or ("该文件夹" if zh else "the folder")
        return f"没有权限（{where}）" if zh else f"permission denied ({where})"
    if error.errno == errno.EROFS:
        return "该文件夹是只读的" if zh else "the folder is read-only"
    return error.strerror or str(error)


@dataclass
class ReplaceResult:
    backup: Path | None
    timings: dict[str, float] = field(default_factory=dict)


def atomic_replace(
    path: Path,
    write_fn: Callable[[BinaryIO], None],
    *,
    verify_fn: Callable[[Path], None] | None = None,
    backup_dir: Path | None = None,
    keep_backups: int = 5,
) -> ReplaceResult:
    """Replace `path` with what `write_fn` writes, all or nothing.

    `verify_fn(temp_path)` may inspect the finished temp file and raise to abandon the write.
    `keep_backups <= 0` disables backups. The original must not change while we write (a user
    saving in Excel meanwhile): if it does, nothing is replaced.
    """
    path = Path(path)
    check_not_locked(path)
    _clean_stale_temps(path)
    before = path.stat() if path.exists() else None
    timings: dict[str, float] = {}
    tmp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}.{path.name}.tmp")
    made_backup: Path | None = None
    replaced = False
    try:
        t0 = time.perf_counter()
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            with os.fdopen(fd, "wb") as handle:
                if before is not None and hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), before.st_mode & 0o7777)
                write_fn(handle)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise WriteFailed(f"could not write {path.name}: {describe_os_error(error)}; the original file is intact",
                              zh=f"无法写入 {path.name}：{describe_os_error(error, 'zh')}；原文件完好无损") from error
        timings["write"] = time.perf_counter() - t0
        if verify_fn is not None:
            t0 = time.perf_counter()
            verify_fn(tmp)
            timings["verify"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        try:
            check_not_locked(path)
            if before is not None:
                if file_version(path) != _version(before):
                    raise WriteFailed(f"{path.name} was changed by someone else while the add-on was writing; nothing was replaced, run again",
                                      zh=f"写入期间 {path.name} 被其他人修改了；没有替换任何内容，请再运行一次")
                if keep_backups > 0:
                    made_backup = backup(path, backup_dir, keep_backups + 1)  # the new one is pruned below
            os.replace(tmp, path)
            replaced = True
            fsync_dir(path.parent)
            if made_backup is not None:
                prune_backups(path, backup_dir, keep_backups)
        except OSError as error:
            raise WriteFailed(f"could not replace {path.name}: {describe_os_error(error)}; the original file is intact",
                              zh=f"无法替换 {path.name}：{describe_os_error(error, 'zh')}；原文件完好无损") from error
        timings["replace"] = time.perf_counter() - t0
        return ReplaceResult(backup=made_backup, timings=timings)
    finally:
        if not replaced:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if made_backup is not None:
                with contextlib.suppress(OSError):
                    made_backup.unlink()
