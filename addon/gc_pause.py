"""Pause Python's cyclic garbage collector around bulk work.

A run builds about a million small acyclic records (rows, follow-ups, statuses, cells). With the
collector on, every few hundred allocations it rescans young objects, and once they are old it
rescans all of them: at 500,000 follow-ups that is seconds of work that never finds a cycle.
Reference counting still frees everything as usual; the collector resumes afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collector off inside the block (nesting is fine), back to its previous state after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
