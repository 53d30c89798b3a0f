"""Memory of a long bulk run: freed memory handed back to the operating system only past a
ceiling (doing it after every chunk cost 7 % of a run), and the resident size to measure it."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from typing import Any

import pyarrow as pa


def _release_freed_memory() -> None:
    """Hand memory freed by the last chunks back to the OS (glibc and Arrow's allocator keep it,
    fragmented over a long run, so a bulk run's peak would otherwise creep up with registry size)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
    pa.default_memory_pool().release_unused()      # Arrow's own allocator likewise


def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):          # not glibc: nothing to do
        return None


_MALLOC_TRIM = _malloc_trim()


def resident_bytes() -> int | None:
    """This process's resident memory now (Linux ``/proc/self/statm``); None elsewhere."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class MemoryCeiling:
    """Releases freed memory (:func:`_release_freed_memory`) only when the process's resident
    size passes a ceiling: ``growth`` above its size after the first ``warmup`` chunks (when
    the chunks in flight have reached their working size).

    Each release returns pages that the next chunk faults in and zeroes again: releasing
    after every chunk cost 7 % of a 1M-firm run. Without releases the allocators reuse what
    the last chunk freed and the resident size settles (1M firms 0.90 GiB, 3M 0.92 GiB, from
    0.80 / 0.84 with a release per chunk); a run whose memory still creeps (fragmentation)
    is trimmed each time it passes the ceiling. Without ``/proc`` every call releases.
    """

    def __init__(self, growth: float = 0.10, warmup: int = 4,
                 measure: Callable[[], int | None] = resident_bytes,
                 release: Callable[[], None] | None = None) -> None:
        self._growth, self._warmup = growth, warmup
        self._measure = measure
        self._release = release or _release_freed_memory
        self._ceiling: float | None = None
        self._calls = 0
        self.releases = 0

    def __call__(self) -> None:
        """After a chunk: release if the ceiling is passed (or cannot be measured)."""
        now = self._measure()
        self._calls += 1
        if now is not None:
            if self._ceiling is None:
                if self._calls >= self._warmup:
                    self._ceiling = now * (1 + self._growth)
                return
            if now <= self._ceiling:
                return
        self._release()
        self.releases += 1
