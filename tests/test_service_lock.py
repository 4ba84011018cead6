"""OS locks: held across processes, released when the holder dies (even by SIGKILL), clear refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from addon.backends.base import SourceUnavailable
from addon.config import load_config
from addon.service.lock import (
    AlreadyRunning,
    FileLock,
    RunLocked,
    is_locked,
    read_pid,
    service_lock,
    workbook_key,
    workbook_lock,
    workbook_lock_path,
)

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")

HOLDER = """
import sys, time
from pathlib import Path
from addon.service.lock import FileLock
lock = FileLock(Path(sys.argv[1]))
assert lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


def hold(path: Path) -> subprocess.Popen[str]:
    """A real process that takes the lock and keeps it until killed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def config_for(tmp_path: Path, name: str = "book.xlsx", locale: str = "en"):
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(f"source: {{excel: {name}}}\nstate_dir: state\nlocale: {locale}\n", encoding="utf-8")
    return load_config(cfg)


def test_lock_is_exclusive_across_processes_and_released_on_sigkill(tmp_path):
    path = tmp_path / "x.lock"
    holder = hold(path)
    try:
        assert read_pid(path) == holder.pid
        assert is_locked(path)
        assert not FileLock(path).acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(5)
        assert not is_locked(path)  # the file is still there, the lock is not
        assert path.exists()
        mine = FileLock(path)
        assert mine.acquire() and read_pid(path) == os.getpid()
        mine.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_lock_is_exclusive_within_one_process_too(tmp_path):
    path = tmp_path / "y.lock"
    with FileLock(path) as first:
        assert first.acquire()
        assert not FileLock(path).acquire()
    assert FileLock(path).acquire()


def test_is_locked_probe_leaves_no_pid(tmp_path):
    path = tmp_path / "z.lock"
    path.write_text("", encoding="utf-8")
    assert not is_locked(path)
    assert read_pid(path) is None
    assert not is_locked(tmp_path / "missing.lock")


def test_second_service_is_refused_with_the_holders_pid(tmp_path):
    state = tmp_path / "state"
    holder = hold(state / "serve.lock")
    try:
        with pytest.raises(AlreadyRunning) as caught:
            service_lock(state, "en")
        assert caught.value.pid == holder.pid
        assert f"pid {holder.pid}" in str(caught.value) and "already running" in str(caught.value)
        with pytest.raises(AlreadyRunning) as caught_zh:
            service_lock(state, "zh-CN")
        assert "已在运行" in str(caught_zh.value)
    finally:
        holder.kill()
        holder.wait()
    lock = service_lock(state, "en")
    lock.release()


def test_workbook_lock(tmp_path):
    config = config_for(tmp_path)
    other = config_for(tmp_path, "other.xlsx")
    assert workbook_key(config) != workbook_key(other)
    assert workbook_key(config) == workbook_key(config_for(tmp_path))
    assert workbook_key(config).startswith("book-")
    with workbook_lock(config):
        with pytest.raises(RunLocked) as caught:
            with workbook_lock(config):
                pass
        assert isinstance(caught.value, SourceUnavailable)  # the CLI maps it to exit code 3
        assert "book.xlsx" in str(caught.value)
        with workbook_lock(other):  # another workbook is not blocked
            pass
    with workbook_lock(config):  # released on exit
        pass


def test_cli_run_refuses_overlapping_run(tmp_path):
    config = config_for(tmp_path)
    holder = hold(workbook_lock_path(config))
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, str(ROOT / "runner.py"), "run", "--config", str(tmp_path / "book.xlsx.yaml"), "--quiet"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
        )
        assert proc.returncode == 3, proc.stderr
        assert "already running a pass" in proc.stderr and str(holder.pid) in proc.stderr
        assert time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait()


def test_a_disk_without_locks_is_explained_in_both_languages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some network file systems refuse flock outright (ENOLCK): the message says where to put state_dir."""
    import errno
    import fcntl

    def refuse(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", refuse)
    with pytest.raises(SourceUnavailable) as caught:
        FileLock(tmp_path / "state" / "serve.lock").acquire()
    assert "put state_dir on a local disk" in caught.value.text("en")
    assert "请把 state_dir 放在本地磁盘上" in caught.value.text("zh-CN") and "serve.lock" in caught.value.text("zh-CN")
