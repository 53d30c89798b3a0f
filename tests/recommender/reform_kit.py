"""Reform scenarios for the tests: each is the change list the reform command reads, and the
same change made *by hand* to a copy of the catalog directory (a YAML file edited, added or
deleted), so a reform can be checked against two independent full evaluations."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from recommender.learning.synth import generate_registry, registry_to_parquet_frame
from tests.recommender.registry_kit import planted_registry

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "data" / "catalog"


def criterion(node: Any, cid: str) -> dict[str, Any]:
    """The criterion mapping ``cid`` anywhere in a policy's criteria (test-side search)."""
    if isinstance(node, dict):
        if node.get("id") == cid:
            return node
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            found = criterion(item, cid) if isinstance(item, (dict, list)) else None
            if found is not None:
                return found
    return None  # type: ignore[return-value]


def edit_file(root: Path, rel: str, edit: Callable[[dict[str, Any]], None]) -> None:
    path = root / rel
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(raw)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _set_tier(raw: dict[str, Any]) -> None:
    criterion(raw["criteria"], "rd_intensity")["tiers"][0]["value"] = 0.04


def _add(root: Path) -> None:
    raw = yaml.safe_load((CATALOG / "innovation/cn-tech-sme-evaluation.yaml").read_text(encoding="utf-8"))
    raw["id"] = "cn-tech-sme-pilot"
    raw.pop("relations", None)
    criterion(raw["criteria"], "staff_limit")["value"] = 300
    (root / "innovation/cn-tech-sme-pilot.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")


def added_policy() -> dict[str, Any]:
    """The policy the "added" scenario adds, as the change's value (JSON-ready: dates as text)."""
    raw = yaml.safe_load((CATALOG / "innovation/cn-tech-sme-evaluation.yaml").read_text(encoding="utf-8"))
    raw["id"] = "cn-tech-sme-pilot"
    raw.pop("relations", None)
    criterion(raw["criteria"], "staff_limit")["value"] = 300

    def text(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: text(x) for k, x in v.items()}
        if isinstance(v, list):
            return [text(x) for x in v]
        return v.isoformat() if isinstance(v, dt.date) else v
    return text(raw)


@dataclass(frozen=True)
class Scenario:
    name: str
    changes: list[dict[str, Any]]
    by_hand: Callable[[Path], None]
    touched: tuple[str, ...]
    as_of: dt.date = dt.date(2022, 6, 30)


SCENARIOS = [
    Scenario("threshold", [{"policy_id": "cn-srdi-sme", "path": "criteria.rd_ratio.value", "value": 0.025}],
             lambda root: edit_file(root, "specialized_sme/cn-srdi-sme.yaml",
                                    lambda raw: criterion(raw["criteria"], "rd_ratio").update(value=0.025)),
             ("cn-srdi-sme",)),
    Scenario("threshold-with-cost", [{"policy_id": "cn-small-low-profit-cit",
                                      "path": "criteria.taxable_income_limit.value", "value": 1_000_000}],
             lambda root: edit_file(root, "relief/cn-small-low-profit-cit.yaml",
                                    lambda raw: criterion(raw["criteria"], "taxable_income_limit").update(value=1_000_000)),
             ("cn-small-low-profit-cit",)),
    Scenario("tier", [{"policy_id": "cn-hnte-recognition", "path": "criteria.rd_intensity.tiers.0.value",
                       "value": 0.04}],
             lambda root: edit_file(root, "innovation/cn-hnte-recognition.yaml", _set_tier),
             ("cn-hnte-recognition",)),
    Scenario("date", [{"policy_id": "cq-enterprise-tech-center", "path": "valid_to", "value": "2025-12-31"}],
             lambda root: edit_file(root, "innovation/cq-enterprise-tech-center.yaml",
                                    lambda raw: raw.update(valid_to=dt.date(2025, 12, 31))),
             ("cq-enterprise-tech-center",), dt.date(2025, 10, 1)),
    Scenario("benefit", [{"policy_id": "cn-small-low-profit-cit", "path": "benefit.amount.sub.0.mul.0",
                          "value": 0.3}],
             lambda root: edit_file(root, "relief/cn-small-low-profit-cit.yaml",
                                    lambda raw: raw["benefit"]["amount"]["sub"][0]["mul"].__setitem__(0, 0.3)),
             ("cn-small-low-profit-cit",)),
    Scenario("added", [{"policy_id": "cn-tech-sme-pilot", "path": "", "value": added_policy()}],
             _add, ("cn-tech-sme-pilot",)),
    Scenario("removed", [{"policy_id": "cq-cloud-adoption", "path": "", "value": None}],
             lambda root: (root / "digital/cq-cloud-adoption.yaml").unlink(), ("cq-cloud-adoption",)),
]


def catalog_copy(root: Path, scenario: Scenario) -> Path:
    """A copy of the catalog directory with the scenario's change made by hand."""
    target = root / f"catalog-{scenario.name}"
    shutil.copytree(CATALOG, target)
    scenario.by_hand(target)
    return target


def mixed_registry(n: int, seed: int) -> pd.DataFrame:
    """``n`` synthetic firms followed by the planted bad rows (and a duplicate id) of the
    registry kit: every kind of reject, as text cells."""
    good = registry_to_parquet_frame(generate_registry(n, seed, dt.date(2022, 6, 30))).astype(object)
    good = good.where(good.notna(), None)
    planted, _ = planted_registry()
    planted = planted.assign(firm_id=[f"P{seed}-{f}" if not str(f).startswith("BAD") else f
                                      for f in planted["firm_id"]])
    planted.loc[len(planted) - 1, "firm_id"] = str(good["firm_id"].iloc[0])   # duplicate of the first firm
    text = good.map(lambda v: v if v is None or isinstance(v, str) else
                    (str(v).lower() if isinstance(v, bool) else
                     ";".join(v) if isinstance(v, (list, tuple)) else str(v)))
    return pd.concat([text, planted], ignore_index=True).astype(object)
