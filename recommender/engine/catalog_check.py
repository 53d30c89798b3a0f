"""``recommender catalog check``: validate every policy file and report what needs a human eye.

Unlike :func:`recommender.rules.catalog.load_catalog`, which stops at the first bad file, the check
validates each file on its own and lists every error, then reports, for the files that load:
uncertain facts (the ``uncertain`` notes and confidence of each policy), policies expired or
with a closed window on ``as_of``, and criteria no sample firm meets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from recommender import tristate as ts
from recommender.rules import (Declaration, Policy, UniqueKeyLoader, check_relations, parse_policy, policy_files,
                               window_status)
from recommender.engine.eligibility import evaluate_catalog
from recommender.errors import CatalogError, RecommenderError
from recommender.profile import ReferenceTables, profiles_to_frame, read_profiles


@dataclass
class CheckReport:
    """Findings of one check; ``errors`` make the catalog invalid, the rest are notes."""

    files: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    uncertain: list[dict[str, Any]] = field(default_factory=list)
    expired: list[dict[str, Any]] = field(default_factory=list)
    never_met: list[dict[str, Any]] = field(default_factory=list)
    samples: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "files": self.files, "errors": self.errors, "uncertain": self.uncertain,
                "expired": self.expired, "never_met": self.never_met, "samples": self.samples}


def _load_each(root: Path, ref: ReferenceTables, report: CheckReport) -> list[Policy]:
    policies: dict[str, Policy] = {}
    for path in policy_files(root):
        rel = str(path.relative_to(root))
        report.files += 1
        try:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)  # noqa: S506 - safe loader subclass
            policy = parse_policy(raw, rel, ref)
            if path.parent.name != policy.header.family:
                raise CatalogError(f"file must live under {policy.header.family}/ (its family)",
                                   file=rel, policy_id=policy.id)
            if policy.id in policies:
                raise CatalogError(f"duplicate policy id (also in {policies[policy.id].file})",
                                   file=rel, policy_id=policy.id)
        except yaml.YAMLError as err:
            report.errors.append({"file": rel, "error": f"invalid YAML: {err}".replace("\n", " ")})
            continue
        except CatalogError as err:
            report.errors.append({"file": rel, "error": str(err)})
            continue
        policies[policy.id] = policy
    try:
        check_relations(policies)
    except CatalogError as err:
        report.errors.append({"file": err.file or "", "error": str(err)})
    return [policies[k] for k in sorted(policies)]


def check_catalog(root: Path, ref: ReferenceTables, as_of: dt.date,
                  samples: Path | None = None) -> CheckReport:
    """Validate every file under ``root`` and collect the notes described in the module docstring.

    Parameters
    ----------
    root : Path
        The catalog directory (``data/catalog``).
    ref : ReferenceTables
        Reference tables used to validate codes.
    as_of : datetime.date
        Date for expiry, windows and the sample evaluation.
    samples : Path, optional
        JSON Lines of sample firms; criteria none of them meets are listed.
    """
    report = CheckReport()
    if not root.is_dir():
        report.errors.append({"file": str(root), "error": "catalog directory does not exist"})
        return report
    policies = _load_each(root, ref, report)
    for p in policies:
        notes = list(p.header.uncertain) + ([p.header.benefit.uncertain] if p.header.benefit.uncertain else [])
        if notes or p.header.confidence != "H":
            report.uncertain.append({"policy_id": p.id, "confidence": p.header.confidence, "notes": notes})
        window = window_status(p, as_of)
        if not p.in_force(as_of) or window["status"] == "closed":
            report.expired.append({"policy_id": p.id, "valid_from": p.header.valid_from.isoformat(),
                                   "valid_to": p.header.valid_to.isoformat() if p.header.valid_to else None,
                                   "window": window})
    if samples is not None and policies:
        try:
            frame = profiles_to_frame(read_profiles(samples, ref))
        except RecommenderError as err:
            report.errors.append({"file": str(samples), "error": str(err)})
            return report
        report.samples = len(frame)
        elig = evaluate_catalog(policies, frame, as_of, ref)
        for o in elig.outcomes.values():
            for leaf in o.leaves():
                if isinstance(leaf, Declaration):
                    continue
                if not np.any(o.nodes[leaf.path] == ts.MET):
                    report.never_met.append({"policy_id": o.policy.id, "criterion": leaf.id,
                                             "label": f"{leaf.label_zh} / {leaf.label_en}"})
    return report


def render(report: CheckReport) -> str:
    """The report as text for the terminal."""
    lines = [f"catalog check: {report.files} files, {len(report.errors)} errors"
             + (f", {report.samples} sample firms" if report.samples else "")]
    for e in report.errors:
        lines.append(f"ERROR {e['error']}" if e["file"] in e["error"] else f"ERROR {e['file']}: {e['error']}")
    lines.append(f"\nuncertain facts ({sum(len(u['notes']) for u in report.uncertain)} in "
                 f"{len(report.uncertain)} policies):")
    for u in report.uncertain:
        lines.append(f"  {u['policy_id']} (confidence {u['confidence']})")
        lines += [f"    - {n}" for n in u["notes"]]
    lines.append(f"\nnot in force or window not open on the check date ({len(report.expired)}):")
    lines += [f"  {x['policy_id']}: valid {x['valid_from']} .. {x['valid_to'] or 'open'}, window "
              f"{x['window']['status']}" for x in report.expired]
    lines.append(f"\ncriteria no sample firm meets ({len(report.never_met)}):")
    lines += [f"  {x['policy_id']}: {x['criterion']} — {x['label']}" for x in report.never_met]
    return "\n".join(lines)
