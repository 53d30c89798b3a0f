"""Issue 17 item 1: a huge number must not hang the lever search (``x += 1.0`` never moves
``x`` past 2**53), through the search itself, ``match --explain`` and the public API.

Time is bounded by counting comparisons, not by a clock: every search calls the operator of
:data:`recommender.rules.operators.OPS` at most :data:`recommender.advice.levers.MAX_PROBES` times."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from recommender.advice import levers
from recommender.cli.main import app
from recommender.facts import RATIOS
from recommender.advice.levers import MAX_PROBES, Move, least_float, least_integer, smallest_move

HUGE = [10**17, 2**53 + 1, 2**63, 10**20]
HUGE_MONEY = [1e17, 2.0**63, 1e100, 1e300]


class _Counting(dict):  # type: ignore[type-arg]
    """``OPS`` whose operators count their calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        for op, fn in levers.OPS.items():
            self[op] = self._counted(fn)

    def _counted(self, fn):  # type: ignore[no-untyped-def]
        def call(a, b):  # type: ignore[no-untyped-def]
            self.calls += 1
            return fn(a, b)
        return call


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> _Counting:
    ops = _Counting()
    monkeypatch.setattr(levers, "OPS", ops)
    return ops


magnitudes = st.one_of(st.floats(min_value=0, max_value=1e300, allow_nan=False),
                       st.integers(min_value=0, max_value=10**300).map(float))


@settings(max_examples=300, deadline=None)
@given(current=magnitudes, threshold=magnitudes, scale=st.floats(min_value=1e-3, max_value=1e300),
       field=st.sampled_from(["rd_expense", "tech_staff", "rd_intensity", "tech_staff_ratio",
                              "high_tech_revenue_share", "revenue_growth", "years_in_niche"]),
       op=st.sampled_from([">=", ">"]))
def test_every_search_is_bounded_and_exact(current: float, threshold: float, scale: float, field: str,
                                           op: str) -> None:
    ops = _Counting()
    lever, den = levers.lever_of(field)
    ratio = RATIOS.get(field)
    values = {lever: current, **({den: scale} if den else {})}
    original = levers.OPS
    levers.OPS = ops
    try:
        move = smallest_move(field, op, threshold, values)
    finally:
        levers.OPS = original
    assert ops.calls <= MAX_PROBES
    if not isinstance(move, Move):
        return

    def passes(x: float) -> bool:
        v = ratio.of(x, scale) if ratio else x
        return bool(original[op](np.float64(v), np.float64(threshold)))

    assert passes(move.target)
    if move.unit in ("yuan", "count"):
        assert move.target == math.floor(move.target)
        assert move.target > current or passes(current)
        below = math.floor(move.target) - 1          # past 2**53 the float target is rounded
        assert below <= current or below >= 2**53 or not passes(below)
    else:
        assert not passes(float(np.nextafter(move.target, -np.inf)))


def test_least_integer_edges() -> None:
    assert least_integer(lambda x: x >= 10, 10, math.nan) == 10          # at the bound
    assert least_integer(lambda x: x >= 10, 9, math.nan) == 10           # just below
    assert least_integer(lambda x: x >= 10, 11, math.nan) == 11          # above: low itself
    assert least_integer(lambda x: x >= 2**60 + 3, 0, math.nan) == 2**60 + 3
    assert least_integer(lambda x: x >= 2**60 + 3, 0, 2.0**60) == 2**60 + 3   # a rounded hint
    assert least_integer(lambda x: x >= 7, 0, 1e400) == 7                # an infinite hint
    assert least_integer(lambda x: False, 0, math.nan) is None           # nothing passes


def test_least_float_edges() -> None:
    assert least_float(lambda x: x >= 0.5, 0.25) == 0.5
    assert least_float(lambda x: x > 0.5, 0.5) == float(np.nextafter(0.5, 1.0))
    assert least_float(lambda x: x >= -3.0, -1e300) == -3.0
    assert least_float(lambda x: x > 1e308, 1.0) == float(np.nextafter(1e308, np.inf))
    assert least_float(lambda x: False, 0.0) is None
    assert least_float(lambda x: True, math.nan) is None


def test_move_past_two_to_the_53(counted: _Counting) -> None:
    """The reproduction: 1e17 employees put the 3 % R&D bar at ~3e15 yuan; the answer is
    exact to the yuan although floats there are 0.5 apart, and found in bounded steps."""
    move = smallest_move("rd_staff_ratio", ">=", 0.1, {"rd_staff": 30.0, "employees": 1e17})
    assert isinstance(move, Move) and move.target == 1e16
    move = smallest_move("rd_intensity", ">=", 0.03, {"rd_expense": 0.0, "revenue": 1e300})
    assert isinstance(move, Move) and move.target / 1e300 >= 0.03
    assert counted.calls <= 2 * MAX_PROBES


def _sample() -> dict[str, Any]:
    path = Path(__file__).resolve().parents[2] / "data" / "samples" / "firms.jsonl"
    return json.loads(path.read_text(encoding="utf-8").splitlines()[0])


@pytest.mark.parametrize(("field", "value"), [("employees", v) for v in HUGE] + [("revenue", v) for v in HUGE_MONEY])
def test_match_explain_with_huge_numbers_finishes(tmp_path: Path, field: str, value: float) -> None:
    firm = {**_sample(), field: value}
    path = tmp_path / "firm.json"
    path.write_text(json.dumps(firm), encoding="utf-8")
    result = CliRunner().invoke(app, ["match", str(path), "--explain", "--all", "--as-of", "2022-06-30"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.splitlines()[0])
    assert out["firm_id"] == firm["firm_id"] and len(out["matches"]) > 0


@pytest.mark.parametrize(("field", "value"), [("employees", 10**17), ("revenue", 1e17), ("employees", 2**63)])
def test_public_explain_with_huge_numbers_answers(clients, profile, field: str, value: float) -> None:  # type: ignore[no-untyped-def]
    r = clients[None].post("/v1/match", params={"explain": "true"}, json={**profile, field: value},
                           timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["firm_id"] == profile["firm_id"]
    assert clients[None].get("/healthz", timeout=5).status_code == 200
