"""Freed memory is handed back only when the process passes its ceiling."""

from __future__ import annotations

from recommender.bulk.memory import MemoryCeiling, resident_bytes


def _ceiling(sizes: list[int | None], **kw):  # type: ignore[no-untyped-def]
    calls: list[int] = []
    it = iter(sizes)
    guard = MemoryCeiling(measure=lambda: next(it), release=lambda: calls.append(1), **kw)
    return guard, calls


def test_no_release_while_warming_up_or_below_the_ceiling() -> None:
    guard, calls = _ceiling([500, 800, 900, 1000, 1050, 1100, 1100], growth=0.10, warmup=4)
    for _ in range(7):
        guard()
    assert calls == [] and guard.releases == 0          # ceiling 1000 × 1.1 = 1100: not passed


def test_release_each_time_the_ceiling_is_passed() -> None:
    guard, calls = _ceiling([900, 1000, 1101, 900, 1200, 1100], growth=0.10, warmup=2)
    for _ in range(6):
        guard()
    assert guard.releases == 2                            # 1101 and 1200 pass 1100; 1100 does not


def test_without_a_measure_every_call_releases() -> None:
    guard, calls = _ceiling([None, None, None], warmup=1)
    for _ in range(3):
        guard()
    assert len(calls) == 3


def test_resident_bytes_is_this_process() -> None:
    rss = resident_bytes()
    assert rss is None or 10 * 2**20 < rss < 64 * 2**30
