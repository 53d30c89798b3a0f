"""The hand-written policy cases of ``tests/cases/*.yaml`` read as firm profiles.

A case file names a ``policy``, an ``as_of`` date, a ``base`` profile and ``cases``; a case's
profile is the base with the case's ``set`` laid over it, a ``null`` making the field unknown
(left out) and YAML dates written back as ISO text (``tests/cases/README.md``). The case
runner (``tests/recommender/test_policy_cases.py``) and the regression snapshot
(:mod:`recommender.engine.regression`) build profiles through :func:`case_profile`, so the two
cannot build them differently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from recommender.errors import CatalogError


def case_profile(base: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The profile of one case: ``base`` updated by ``overrides``; ``None`` values dropped
    (unknown), dates as ISO-8601 text."""
    merged = {**base, **(overrides or {})}
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in merged.items() if v is not None}


@dataclass(frozen=True)
class PolicyCase:
    """One case: its file's stem, the policy it checks, its name and its profile."""

    file: str
    policy: str
    name: str
    profile: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.policy}::{self.name}"


def read_cases(cases_dir: Path) -> list[PolicyCase]:
    """Every case of every ``*.yaml`` file under ``cases_dir``, in file then case order.

    Raises
    ------
    CatalogError
        A file is not YAML or lacks ``policy``, ``base`` or ``cases`` (the file is named).
    """
    out: list[PolicyCase] = []
    for path in sorted(Path(cases_dir).glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError) as err:
            raise CatalogError(f"not a YAML case file ({err})".replace("\n", " "), file=path.name) from None
        if not isinstance(doc, dict) or not {"policy", "base", "cases"} <= set(doc):
            raise CatalogError("a case file needs policy, base and cases", file=path.name)
        for i, case in enumerate(doc["cases"]):
            out.append(PolicyCase(path.stem, str(doc["policy"]), str(case.get("name", i)),
                                  case_profile(doc["base"], case.get("set"))))
    return out
