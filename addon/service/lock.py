"""OS-level locks: one `serve` per state directory, one pass at a time per workbook.

The operating system releases these locks when the process dies (kill -9, power loss, crash), so a
stale lock file never blocks the next start: the file stays, the lock does not. POSIX uses
`fcntl.flock`, Windows `msvcrt.locking` on a byte far past the pid we write, so the holder's pid stays
readable for the error message.

Wiring into a one-off run (cli `run`)::

    from addon.service.lock import workbook_lock
    with workbook_lock(config):          # raises RunLocked (a SourceUnavailable: exit code 3)
        result = pipeline.run(config, ...)
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from addon.backends.base import SourceUnavailable
from addon.config import Config, workbook_key

SERVICE_LOCK = "serve.lock"
_WIN_LOCK_OFFSET = 1 << 20  # lock a byte far beyond the pid text (Windows allows locking past EOF)


class LockHeld(SourceUnavailable):
    """Someone else holds the lock; `pid` is theirs when it could be read."""

    def __init__(self, message: str, path: Path, pid: int | None) -> None:
        super().__init__(message)
        self.path = path
        self.pid = pid


class AlreadyRunning(LockHeld):
    """A second `serve` on the same state directory."""


class RunLocked(LockHeld):
    """A pass on this workbook is already running (another `run`, or the service)."""


def _try_lock(handle: IO[bytes]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(_WIN_LOCK_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as error:  # some network file systems do not support flock at all
        raise SourceUnavailable(f"cannot lock {handle.name}: {error.strerror}; put state_dir on a local disk",
                                zh=f"无法锁定 {handle.name}：{error.strerror}；请把 state_dir 放在本地磁盘上") from None
    return True


def _unlock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(_WIN_LOCK_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
        return
    import fcntl

    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read_pid(path: Path) -> int | None:
    """The pid written by the last holder of a lock file (it may be gone)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:64]
    except OSError:
        return None
    match = re.match(r"\s*(\d+)", text)
    return int(match.group(1)) if match else None


class FileLock:
    """An exclusive, non-blocking lock on `path`, holding the owner's pid as text."""

    def __init__(self, path: Path, *, write_pid: bool = True) -> None:
        self.path = Path(path)
        self.write_pid = write_pid
        self._handle: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> bool:
        """Take the lock now or return False; never waits."""
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")  # noqa: SIM115 - kept open while locked
        try:
            if not _try_lock(handle):
                handle.close()
                return False
            if self.write_pid:
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()}\n".encode("ascii"))
                handle.flush()
        except BaseException:
            handle.close()
            raise
        self._handle = handle
        return True

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            _unlock(handle)
        finally:
            handle.close()

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_locked(path: Path) -> bool:
    """Does a live process hold the lock at `path`? (Briefly takes it to find out.)"""
    if not Path(path).exists():
        return False
    probe = FileLock(path, write_pid=False)
    try:
        if probe.acquire():
            probe.release()
            return False
    except SourceUnavailable:
        return False
    return True


def service_lock(state_dir: Path, locale: str = "zh-CN") -> FileLock:
    """Take the one-service-per-state-directory lock, or raise AlreadyRunning."""
    path = Path(state_dir) / SERVICE_LOCK
    lock = FileLock(path)
    if not lock.acquire():
        pid = read_pid(path)
        who = f" (pid {pid})" if pid else ""
        if locale.lower().startswith("zh"):
            message = f"服务已在运行{who}，使用同一状态目录 {state_dir}；同一时间只能运行一个 serve。用 `python runner.py status` 查看，或先停止它。"
        else:
            message = (f"the service is already running{who} with state directory {state_dir}; only one `serve` may run "
                       "at a time. See `python runner.py status`, or stop it first.")
        raise AlreadyRunning(message, path, pid)
    return lock


def workbook_lock_path(config: Config) -> Path:
    return config.state_path / "locks" / f"run-{workbook_key(config)}.lock"


@contextmanager
def workbook_lock(config: Config) -> Iterator[FileLock]:
    """Hold the per-workbook run lock for one pass; raise RunLocked if another pass holds it."""
    path = workbook_lock_path(config)
    lock = FileLock(path)
    if not lock.acquire():
        pid = read_pid(path)
        who = f" (pid {pid})" if pid else ""
        where = config.source.excel or config.source.google
        if config.service_locale.lower().startswith("zh"):
            message = f"另一个进程{who}正在处理工作簿 {where}；请等它结束后再运行（服务运行中时无需手动运行）。"
        else:
            message = f"another process{who} is already running a pass on {where}; wait for it to finish and try again."
        raise RunLocked(message, path, pid)
    try:
        yield lock
    finally:
        lock.release()
