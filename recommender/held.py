"""Caches held by the object they describe, so a catalog reload frees them with the catalog.

A module-level cache keyed by ``id()`` or by policy objects keeps every catalog ever loaded
alive (or, bounded, the last few dozen). :func:`held` keeps a computed value in the owner's own
``__dict__`` instead (a policy, a criterion node): the value lives exactly as long as the
owner. Values computed from several policies are held by the first of them; the key names
them all.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")
_SLOT = "_held"


def held(owner: object, key: Hashable, compute: Callable[[], T], *, limit: int = 64) -> T:
    """``compute()``, computed once per ``key`` and kept on ``owner`` (at most ``limit``
    values per owner; the oldest goes first). Safe under threads: a race computes twice and
    keeps one."""
    store: dict[Hashable, object] | None = owner.__dict__.get(_SLOT)
    if store is None:
        store = owner.__dict__.setdefault(_SLOT, {})
    try:
        return store[key]  # type: ignore[return-value]  # the store holds what compute made for this key
    except KeyError:
        pass
    value = compute()
    if len(store) >= limit:
        try:
            store.pop(next(iter(store)))
        except (StopIteration, KeyError, RuntimeError):   # emptied or changed by another thread
            pass
    store[key] = value
    return value


def held_count(owner: object) -> int:
    """How many values ``owner`` holds (for tests of cache growth)."""
    return len(owner.__dict__.get(_SLOT, ()))
