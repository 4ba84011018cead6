"""The Excel backend reads tabs side by side and hands each out when it has loaded.

Real workbooks (the demo generator's), real python-calamine, real threads: the read must give
exactly what a plain sequential read gives, report a tab it cannot read when that tab is looked
up, and let validation finish the small tabs before it waits for FollowUps.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

import pytest

from addon import pipeline
from addon.backends import SourceUnavailable, xlsx_verify
from addon.backends.calamine_tabs import start_reading
from addon.backends.excel import ExcelBackend
from addon.config import load_config
from addon.core.validate import validate
from addon.demo_data import write_demo_workbook
from addon.model import Table
from tests.helpers.xlsx_check import sheets  # a plain sequential read

AS_OF = date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backend") / "demo.xlsx"
    write_demo_workbook(path, AS_OF, "en", customers=300, followups=3000)
    return path


def test_tabs_read_side_by_side_equal_a_sequential_read(demo: Path) -> None:
    expected = sheets(demo)
    futures = start_reading(demo, [*expected, *expected])  # a name asked for twice is read once
    assert list(futures) == list(expected)
    assert {name: f.result() for name, f in futures.items()} == expected
    assert sum(len(rows) for rows in expected.values()) > 3000


def test_the_backend_hands_out_every_tab_as_read(demo: Path) -> None:
    backend = ExcelBackend(demo)
    names = backend.sheet_names()
    tables = backend.read(names)
    assert list(tables) == names and len(tables) == len(names)
    expected = sheets(demo)
    for name in names:
        table = tables[name]
        assert table is tables[name]  # one Table per tab, however often it is looked up
        assert (table.name, table.first_row, table.rows) == (name, 1, expected[name])


def test_a_tab_that_cannot_be_read_is_reported_when_looked_up(demo: Path) -> None:
    backend = ExcelBackend(demo)
    first = backend.sheet_names()[0]
    tables = backend.read([first, "No such tab"])
    assert tables[first].rows  # the readable tab is unaffected
    with pytest.raises(SourceUnavailable, match="cannot read tab 'No such tab' of demo.xlsx"):
        tables["No such tab"]


class _Recording(Mapping[str, Table | None]):
    """Tables by role, noting the order validation looks them up in."""

    def __init__(self, tables: Mapping[str, Table | None]) -> None:
        self.tables, self.looked_up = tables, []

    def __getitem__(self, role: str) -> Table | None:
        self.looked_up.append(role)
        return self.tables[role]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)


def test_validation_looks_up_followups_last_so_it_can_still_be_loading(demo: Path) -> None:
    config = load_config(None)
    backend = ExcelBackend(demo)
    roles = pipeline.resolve_tabs(backend.sheet_names(), config)
    by_role = pipeline.TabsByRole(backend.read([n for n in roles.values() if n]), roles)
    recording = _Recording({role: by_role[role] for role in ("customers", "followups", "team")})
    dataset = validate(recording, config, AS_OF)
    assert [r for r in dict.fromkeys(recording.looked_up)] == ["team", "customers", "followups"]
    assert recording.looked_up[-1] == "followups"
    assert dataset.customers and dataset.followups
    assert list(dataset.tabs) == ["customers", "followups", "team"]  # reported in the usual order


def test_the_write_check_reuses_the_rows_the_run_read(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "book.xlsx"
    work.write_bytes(demo.read_bytes())
    read_back: list[tuple[Path, list[str]]] = []

    def recording_start_reading(path: Path, names: list[str]):  # type: ignore[no-untyped-def]
        names = list(names)
        read_back.append((Path(path), names))
        return start_reading(path, names)

    monkeypatch.setattr(xlsx_verify, "start_reading", recording_start_reading)
    config = load_config(None, overrides={"source": {"excel": str(work)}, "state_dir": str(tmp_path / "state"), "excel": {"backups": 0}})
    result = pipeline.run(config, as_of=AS_OF, send=False)
    assert result.written
    assert read_back and all(path != work for path, names in read_back if names)  # the original is not read again
    new_file_reads = [names for path, names in read_back if path != work]
    assert new_file_reads and result.dataset.tabs["customers"] in new_file_reads[0]  # the new Customers tab is read back


def test_raw_rows_not_needed_for_the_write_are_freed_once_validated(demo: Path) -> None:
    backend = ExcelBackend(demo)
    _config, dataset, tables, _names, _foreign = pipeline.load(load_config(None), backend, AS_OF)
    assert dataset.followups  # validated from the FollowUps tab …
    assert set(backend._rows_read()) == {dataset.tabs["customers"]}  # … whose raw rows (and Team's) are gone
    assert tables["customers"] is not None and backend._rows_read()[dataset.tabs["customers"]] is tables["customers"].rows


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="open files are listed through /proc")
def test_the_write_waits_for_reads_still_holding_the_file(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Windows a reader's open handle would make replacing the workbook fail: the write waits for it."""
    import os
    import time

    from addon.backends import calamine_tabs, xlsx_package
    from addon.model import WriteSet

    work = tmp_path / "book.xlsx"
    work.write_bytes(demo.read_bytes())
    plain_read = calamine_tabs.read_rows

    def slow_read(path: Path, name: str) -> list[list[object]]:
        with open(path, "rb"):  # held open a while, like a large tab being parsed
            time.sleep(0.4)
            return plain_read(path, name)

    def open_on_workbook() -> list[str]:
        return [fd for fd in os.listdir("/proc/self/fd") if os.path.realpath(f"/proc/self/fd/{fd}") == str(work.resolve())]

    seen_at_write: list[list[str]] = []
    plain_update = xlsx_package.update_workbook

    def spying_update(path: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        seen_at_write.append(open_on_workbook())
        return plain_update(path, *args, **kwargs)

    monkeypatch.setattr(calamine_tabs, "read_rows", slow_read)
    monkeypatch.setattr(xlsx_package, "update_workbook", spying_update)
    backend = ExcelBackend(work, backups=0)
    backend.read(backend.sheet_names())  # handed out and dropped at once: the reads go on in the background
    backend.write(WriteSet(columns=None, tabs=[]))
    assert seen_at_write == [[]]
