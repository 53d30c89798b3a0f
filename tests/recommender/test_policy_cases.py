"""Runs every hand-written policy case under ``tests/cases/*.yaml``.

Each file names a policy, an ``as_of`` date, a ``base`` profile and cases that override it;
each case states the verdict expected from the official facts (written by hand, never copied
from the code's output), optionally the exact sets of ``not_met`` / ``unknown`` leaf ids and
the estimated ``benefit`` in yuan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from recommender import tristate as ts
from recommender.engine import VERDICTS, case_profile, evaluate_catalog
from recommender.profile.frame import profiles_to_frame
from recommender.profile.model import parse_profile

CASES_DIR = Path(__file__).resolve().parent.parent / "cases"
_ALLOWED_FILE = {"policy", "as_of", "source", "base", "cases"}
_ALLOWED_CASE = {"name", "set", "verdict", "not_met", "unknown", "benefit", "as_of"}


def _load() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        extra = set(doc) - _ALLOWED_FILE
        if extra or not {"policy", "as_of", "base", "cases"} <= set(doc):
            raise ValueError(f"{path.name}: needs policy, as_of, base, cases; unknown keys {sorted(extra)}")
        for i, case in enumerate(doc["cases"]):
            if "verdict" not in case or case["verdict"] not in VERDICTS:
                raise ValueError(f"{path.name} case {i}: every case needs a verdict from {VERDICTS}")
            if set(case) - _ALLOWED_CASE:
                raise ValueError(f"{path.name} case {i}: unknown keys {sorted(set(case) - _ALLOWED_CASE)}")
            out.append((f"{doc['policy']}::{case.get('name', i)}", doc, case))
    return out


CASES = _load()


def test_every_case_file_names_a_catalog_policy(catalog) -> None:
    ids = set(catalog.ids)
    missing = sorted({doc["policy"] for _, doc, _ in CASES} - ids)
    assert missing == []


@pytest.mark.parametrize(("name", "doc", "case"), CASES, ids=[c[0] for c in CASES])
def test_policy_case(name: str, doc: dict[str, Any], case: dict[str, Any], catalog, ref) -> None:
    profile = case_profile(doc["base"], case.get("set"))   # the snapshot builds it the same way
    as_of = case.get("as_of", doc["as_of"])
    policy = catalog.get(doc["policy"])
    result = evaluate_catalog([policy], profiles_to_frame([parse_profile(profile, ref=ref)]), as_of, ref)
    outcome = result.outcomes[policy.id]
    leaves = {leaf.id: int(outcome.nodes[leaf.path][0]) for leaf in outcome.leaves()}
    got = VERDICTS[int(outcome.verdict[0])]
    assert got == case["verdict"], f"{name}: verdict {got}, leaves {leaves}"
    if "not_met" in case:
        assert sorted(k for k, v in leaves.items() if v == ts.NOT_MET) == sorted(case["not_met"])
    if "unknown" in case:
        assert sorted(k for k, v in leaves.items() if v == ts.UNKNOWN) == sorted(case["unknown"])
    if "benefit" in case:
        low, high = policy.estimate(result.frame)
        expected = case["benefit"]
        if expected is None:
            assert low[0] != low[0]  # NaN: not estimable for this firm
        else:
            assert low[0] == pytest.approx(expected, abs=0.01)
