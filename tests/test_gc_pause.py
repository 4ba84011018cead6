"""The collector is paused for a pass and always comes back, even when the pass fails."""

from __future__ import annotations

import gc
from datetime import date
from pathlib import Path

import pytest

from addon import pipeline
from addon.backends import SourceUnavailable
from addon.config import load_config
from addon.gc_pause import gc_paused


def test_paused_inside_restored_after_and_nesting_keeps_it_paused() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block does not switch it back on early
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_restored_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_run_that_fails_to_read_leaves_the_collector_on(tmp_path: Path) -> None:
    bad = tmp_path / "book.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    config = load_config(None, overrides={"source": {"excel": str(bad)}, "state_dir": str(tmp_path / "state")})
    with pytest.raises(SourceUnavailable):
        pipeline.check(config, as_of=date(2026, 11, 23))  # fails inside the pass, reading
    assert gc.isenabled()


def test_what_the_block_built_lands_in_the_oldest_generation() -> None:
    with gc_paused():
        built = [[i] for i in range(1000)]
    marker = built[500]
    assert any(o is marker for o in gc.get_objects(generation=2))
    assert not any(o is marker for o in gc.get_objects(generation=0))
