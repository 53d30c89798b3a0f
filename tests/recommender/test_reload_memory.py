"""Caches belong to what they describe: loading the catalog and matcher again and again (a
service's reloads) leaves the process-wide caches and the memory flat."""

from __future__ import annotations

import datetime as dt
import gc
import json

import weakref

import psutil

from recommender.matching.results import MatchOptions
from recommender.profile.model import parse_profile
from recommender.matching.runtime import load_matcher
from recommender.settings import Settings
from tests.conftest import ROOT

AS_OF = dt.date(2026, 12, 6)


def _serve_once(firms: list[dict]) -> weakref.ref:  # type: ignore[type-arg]
    """Load as a reload does, serve a few requests, drop it; a weak reference to its catalog."""
    matcher = load_matcher(Settings(), one_firm=True)
    for raw in firms:
        profile = parse_profile(raw, ref=matcher.ref)
        matcher.match_one(profile, AS_OF, MatchOptions(explain=True))
        matcher.match_one(profile, dt.date(2022, 6, 30), MatchOptions())
    return weakref.ref(matcher.catalog)


def test_twenty_reloads_leave_caches_and_memory_flat() -> None:
    firms = [json.loads(line) for line in (ROOT / "data" / "samples" / "firms.jsonl").read_text().splitlines()[:4]]
    process = psutil.Process()
    catalogs, rss = [], []
    for _ in range(20):
        catalogs.append(_serve_once(firms))
        gc.collect()
        rss.append(process.memory_info().rss)
    alive = [i for i, ref in enumerate(catalogs) if ref() is not None]
    assert alive == [], f"catalogs still held after their reload: {alive}"
    grown_mib = (rss[-1] - rss[4]) / 2**20
    assert grown_mib < 24, f"RSS grew {grown_mib:.1f} MiB over 15 reloads: {[round(r / 2**20) for r in rss]}"
