"""Pause Python's cyclic garbage collector around bulk work.

A run builds about a million small acyclic records (rows, follow-ups, statuses, cells). With the
collector on, every few hundred allocations it rescans young objects, and once they are old it
rescans all of them: at 500,000 follow-ups that is seconds of work that never finds a cycle.
Reference counting still frees everything as usual; the collector resumes afterwards, with what
the block built already in its oldest generation (the collector visits that rarely).
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
            # What the block built is promoted to the oldest generation in one step; otherwise the
            # young collections that follow would each walk all of it again before it gets there.
            gc.freeze()
            gc.unfreeze()
            gc.enable()
