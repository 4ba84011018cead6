"""The writer's safety promises under failure: a killed write, a full disk, a lock file, a writer mistake.

Every test ends by checking the user's workbook itself: byte-identical to the original, or a
complete new version whose user values (read with python-calamine) equal the original's.
Failures are real: SIGKILL of a writing process, and an OS-level file-size limit
(RLIMIT_FSIZE, which makes write() fail like a full disk does).
"""

from __future__ import annotations

import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from addon.backends import xlsx_sheetpatch
from addon.backends.excel import ExcelBackend
from addon.backends.safe_file import TEMP_PREFIX, WorkbookLocked, WriteFailed, list_backups
from addon.backends.xlsx_package import update_workbook
from tests.helpers.xlsx_big import make_big_workbook, product_like_writes
from tests.helpers.xlsx_check import sheets

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = 3000
USER_COLUMNS = 14  # the big workbook's Customers tab has 14 user columns; the add-on owns the ones after


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_big_workbook(tmp_path_factory.mktemp("safety") / "book.xlsx", CUSTOMERS, 30_000)


def user_values(path: Path) -> dict[str, list[list[object]]]:
    """What the user typed: every non-owned tab whole, and the Customers tab without the owned columns."""
    found = sheets(path)
    kept = {name: rows for name, rows in found.items() if name not in ("KPI汇总", "待跟进")}
    kept["客户"] = [row[:USER_COLUMNS] for row in kept["客户"]]
    return kept


def temp_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{TEMP_PREFIX}*.tmp"))


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from addon.backends.xlsx_package import update_workbook
    from addon.backends.safe_file import WriteFailed
    from tests.helpers.xlsx_big import product_like_writes

    path, customers = Path(sys.argv[1]), int(sys.argv[2])
    writes = product_like_writes(customers)
    print("ready", flush=True)
    try:
        update_workbook(path, writes, backup_dir=path.parent / "bk", keep_backups=2)
    except WriteFailed as error:
        print("WriteFailed:", error, flush=True)
        sys.exit(3)
    print("done", flush=True)
    """
)


def start_writer(path: Path, preexec=None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-B", "-c", WRITER, str(path), str(CUSTOMERS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
    )


def test_a_write_killed_at_random_points_never_damages_the_workbook(original: Path, tmp_path: Path) -> None:
    reference = user_values(original)
    work = tmp_path / "book.xlsx"
    shutil.copy(original, work)
    timed = start_writer(work)
    assert timed.stdout is not None
    assert timed.stdout.readline().strip() == "ready"
    began = time.perf_counter()
    out, err = timed.communicate(timeout=120)
    duration = time.perf_counter() - began
    assert timed.returncode == 0, err
    assert "done" in out

    rng = random.Random(20261123)
    outcomes = {"original": 0, "new": 0}
    for _ in range(12):
        shutil.copy(original, work)
        child = start_writer(work)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0, duration * 1.1))
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
        if work.read_bytes() == original.read_bytes():
            outcomes["original"] += 1
        else:
            assert user_values(work) == reference  # complete new version, nothing of the user's lost
            assert "跟进状态" in sheets(work)["客户"][0]
            outcomes["new"] += 1
        for kept in list_backups(work, tmp_path / "bk"):
            assert kept.read_bytes() == original.read_bytes()
    assert outcomes["original"] > 0  # the kills did land during writes

    # Temp files of killed writes never take the workbook's place, and a normal run still succeeds.
    shutil.copy(original, work)
    update_workbook(work, product_like_writes(CUSTOMERS), keep_backups=0)
    assert user_values(work) == reference


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_leaves_the_workbook_intact_with_a_clear_message(original: Path, tmp_path: Path) -> None:
    work = tmp_path / "book.xlsx"
    shutil.copy(original, work)
    child = start_writer(work, preexec=_limit_file_size(original.stat().st_size // 3))
    out, err = child.communicate(timeout=120)
    assert child.returncode == 3, err
    message = out.splitlines()[-1]
    assert message.startswith("WriteFailed: could not write book.xlsx")
    assert "no room" in message and "the original file is intact" in message
    assert work.read_bytes() == original.read_bytes()
    assert temp_files(tmp_path) == []
    assert list_backups(work, tmp_path / "bk") == []


@pytest.mark.parametrize("lock_name", ["~$book.xlsx", ".~lock.book.xlsx#"])
def test_an_open_workbook_is_refused_and_untouched(original: Path, tmp_path: Path, lock_name: str) -> None:
    work = tmp_path / "book.xlsx"
    shutil.copy(original, work)
    (tmp_path / lock_name).write_bytes(b"user,host")
    with pytest.raises(WorkbookLocked, match=re.escape(lock_name)):
        update_workbook(work, product_like_writes(CUSTOMERS))
    assert work.read_bytes() == original.read_bytes()
    assert temp_files(tmp_path) == []


def test_backups_are_bounded_and_each_is_a_previous_version(original: Path, tmp_path: Path) -> None:
    work = tmp_path / "book.xlsx"
    shutil.copy(original, work)
    versions = [work.read_bytes()]
    for seed in range(1, 5):
        update_workbook(work, product_like_writes(CUSTOMERS, seed=seed), backup_dir=tmp_path / "bk", keep_backups=2)
        versions.append(work.read_bytes())
    kept = list_backups(work, tmp_path / "bk")
    assert [b.read_bytes() for b in kept] == versions[-3:-1]


def test_a_writer_mistake_is_caught_by_the_check_and_nothing_is_replaced(original: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: the row splice also changes a user's cell; the read-back check must refuse it."""
    real_run = xlsx_sheetpatch.SheetPatcher.run

    def careless_run(self: xlsx_sheetpatch.SheetPatcher) -> xlsx_sheetpatch.PatchResult:
        result = real_run(self)
        result.xml = re.sub(rb'(<c r="F5"[^>]*><v>)(\d+)', lambda m: m.group(1) + str(int(m.group(2)) + 1).encode(), result.xml, count=1)
        return result

    monkeypatch.setattr(xlsx_sheetpatch.SheetPatcher, "run", careless_run)
    work = tmp_path / "book.xlsx"
    shutil.copy(original, work)
    with pytest.raises(WriteFailed, match=r"客户!F5 changed from .* nothing was replaced and the original file is intact"):
        update_workbook(work, product_like_writes(CUSTOMERS), backup_dir=tmp_path / "bk")
    assert work.read_bytes() == original.read_bytes()
    assert temp_files(tmp_path) == []
    assert list_backups(work, tmp_path / "bk") == []


def test_a_save_between_read_and_write_is_checked_against_the_file_as_it_is_now(original: Path, tmp_path: Path) -> None:
    """The backend hands the rows it read to the write's check only while the file is unchanged."""
    work = tmp_path / "book.xlsx"
    shutil.copy(original, work)
    backend = ExcelBackend(work, backups=0)
    backend.read(["客户", "跟进记录"])
    saved_meanwhile = make_big_workbook(tmp_path / "other.xlsx", CUSTOMERS, 30_000, seed=99)
    shutil.copy(saved_meanwhile, work)  # a user saved other values after the add-on read the file
    backend.write(product_like_writes(CUSTOMERS))
    assert user_values(work) == user_values(saved_meanwhile) != user_values(original)


def test_a_write_failure_is_explained_in_the_workbook_language(tmp_path: Path) -> None:
    import errno

    from addon.backends.safe_file import atomic_replace

    path = tmp_path / "book.xlsx"
    path.write_bytes(b"the user's workbook")

    def write(_handle: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteFailed) as caught:
        atomic_replace(path, write, keep_backups=0)
    assert str(caught.value) == ("could not write book.xlsx: no room left on the disk (disk full or quota reached); "
                                 "free some space and run again; the original file is intact")
    assert caught.value.text("zh-CN") == "无法写入 book.xlsx：磁盘空间不足（磁盘已满或超出配额）；请腾出空间后再运行；原文件完好无损"
    assert caught.value.text("en") == str(caught.value)
    assert path.read_bytes() == b"the user's workbook" and temp_files(tmp_path) == []
