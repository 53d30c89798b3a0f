"""A hand-made registry and match output for the fairness tests: six firms in two districts
whose figures can be worked out by hand (see test_fairness_metrics.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

NAN = float("nan")

# firm_id, region_code, industry_code, ownership, employees, revenue
FIRMS: list[tuple[str, str, str, str | None, int | None, float | None]] = [
    ("F1", "500112", "C3670", "private", 10, 100_000.0),
    ("F2", "500112", "C36", "private", 10, 100_000.0),
    ("F3", "500112", "C3670", "state", 10, 100_000.0),
    ("F4", "500101", "C3670", "private", 10, 100_000.0),
    ("F5", "500101", "A0111", "state", 10, 100_000.0),
    ("F6", "500101", "C3670", None, None, None),
]
# firm_id, rank, policy_id, verdict, estimated_benefit, approval_probability
MATCHES: list[tuple[str, int, str, str, float, float]] = [
    ("F1", 1, "P1", "eligible", 100.0, 0.8),
    ("F1", 2, "P2", "undetermined", 50.0, 0.5),
    ("F1", 3, "P3", "eligible", NAN, 0.4),
    ("F2", 1, "P2", "undetermined", NAN, 0.3),
    ("F2", 2, "P1", "eligible", 200.0, 0.6),
    ("F3", 0, "", "", NAN, NAN),
    ("F4", 1, "P1", "eligible", 300.0, 0.9),
    ("F5", 1, "P3", "undetermined", NAN, 0.2),
    ("F6", 1, "P4", "eligible", 1000.0, 0.7),
    ("F6", 2, "P1", "eligible", 500.0, 0.6),
]
# firm_id, policy_id, event_date, outcome
OUTCOMES: list[tuple[str, str, str, str]] = [
    ("F1", "P1", "2023-01-05", "approved"),
    ("F1", "P3", "2023-02-05", "rejected"),
    ("F2", "P1", "2023-03-05", "approved"),
    ("F4", "P1", "2023-03-06", "applied"),
    ("F5", "P9", "2023-03-07", "rejected"),
    ("ZZ", "P1", "2023-03-08", "approved"),
]


def registry_frame() -> pd.DataFrame:
    return pd.DataFrame([{"firm_id": f, "region_code": r, "industry_code": i, "ownership": o, "employees": e,
                          "revenue": v} for f, r, i, o, e, v in FIRMS])


def matches_frame() -> pd.DataFrame:
    return pd.DataFrame(MATCHES, columns=["firm_id", "rank", "policy_id", "verdict", "estimated_benefit",
                                          "approval_probability"])


def write_case(folder: Path, *, matches: pd.DataFrame | None = None, suffix: str = ".parquet") -> dict[str, Any]:
    """The registry (CSV), the matches (``suffix``) and the outcomes (CSV) under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    registry, out, outcomes = folder / "registry.csv", folder / f"matches{suffix}", folder / "outcomes.csv"
    registry_frame().to_csv(registry, index=False)
    frame = matches_frame() if matches is None else matches
    if suffix == ".csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    pd.DataFrame(OUTCOMES, columns=["firm_id", "policy_id", "event_date", "outcome"]).to_csv(outcomes, index=False)
    return {"registry": registry, "matches": out, "outcomes": outcomes}
