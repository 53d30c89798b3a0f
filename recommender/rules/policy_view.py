"""Policies as plain JSON for people: header facts, references and the criteria in words.

The words come from the same criterion objects that evaluate (``required_text`` of each
leaf, evaluated for a firm about which nothing is known), so the text shown to an SME or a
caseworker cannot drift from the logic. Also a simple catalog filter and Chinese/English
substring search (:func:`search_policies`); a ranked n-gram search may replace it later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from recommender.rules.catalog import Catalog, Policy
from recommender.rules.criteria import Compare, Membership, Tiered
from recommender.rules.node import Criterion
from recommender.facts import EvalFrame
from recommender.profile import PROFILE_KINDS, ReferenceTables, coerce_frame
from recommender.held import held

__all__ = ["PolicyQuery", "criteria_in_words", "policy_detail", "policy_summary", "search_policies"]

_COMPOSITE_WORDS = {"all": "all of / 全部满足", "any": "any of / 满足其一", "not": "not / 不得"}


def _unknown_firm_frame(as_of: dt.date, ref: ReferenceTables) -> EvalFrame:
    """A one-row frame of a firm about which nothing is known."""
    raw = pd.DataFrame({name: [None] for name in PROFILE_KINDS})
    return EvalFrame.from_profiles(coerce_frame(raw), as_of, ref)


def _requirement(node: Criterion, frame: EvalFrame) -> str:
    text = node.required_text(frame, 0)
    if isinstance(node, (Compare, Tiered, Membership)):
        return f"{node.field} {text}"
    return text


def _node_words(node: Criterion, frame: EvalFrame) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": node.id, "kind": node.kind, "label_zh": node.label_zh, "label_en": node.label_en,
        "clause": node.clause or None,
    }
    kids = node.children()
    if kids:
        out["requirement"] = _COMPOSITE_WORDS.get(node.kind, node.kind)
        out["children"] = [_node_words(k, frame) for k in kids]
    else:
        out["requirement"] = _requirement(node, frame)
        out["fields"] = sorted(node.fields())
    return out


def criteria_in_words(policy: Policy, as_of: dt.date, ref: ReferenceTables) -> dict[str, Any]:
    """The criteria tree with each leaf's requirement in words, thresholds as of ``as_of``."""
    return _node_words(policy.criteria, _unknown_firm_frame(as_of, ref))


def policy_summary(policy: Policy, as_of: dt.date | None = None) -> dict[str, Any]:
    """List view: identity, family, issuer, validity (and whether in force on ``as_of``), benefit kind."""
    h = policy.header
    return {
        "id": h.id, "title_zh": h.title_zh, "title_en": h.title_en, "family": h.family,
        "issuer": {"name_zh": h.issuer.name_zh, "name_en": h.issuer.name_en, "level": h.issuer.level},
        "region_prefixes": list(h.region_prefixes),
        "valid_from": h.valid_from.isoformat(),
        "valid_to": h.valid_to.isoformat() if h.valid_to else None,
        "in_force": policy.in_force(as_of) if as_of is not None else None,
        "confidence": h.confidence,
        "benefit_kind": h.benefit.kind,
        "references": policy.references_text(),
    }


def policy_detail(policy: Policy, as_of: dt.date, ref: ReferenceTables) -> dict[str, Any]:
    """Everything a person needs to judge a policy: summary, description, references with
    clauses, benefit and its formula, uncertainties, and the criteria in words."""
    h = policy.header
    b = h.benefit
    out = policy_summary(policy, as_of)
    out.update({
        "description_zh": h.description_zh, "description_en": h.description_en,
        "reference_documents": [{"document": r.document, "title": r.title, "clause": r.clause,
                                 "issued_on": r.issued_on.isoformat() if r.issued_on else None}
                                for r in h.references],
        "uncertain": list(h.uncertain),
        "benefit": {
            "kind": b.kind, "description_zh": b.description_zh, "description_en": b.description_en,
            "formula": policy.benefit_formula.text(as_of) if policy.benefit_formula else None,
            "range": list(b.range) if b.range else None, "years": b.years, "clause": b.clause,
            "uncertain": b.uncertain,
        },
        "criteria": criteria_in_words(policy, as_of, ref),
    })
    return out


@dataclass(frozen=True)
class PolicyQuery:
    """Filters of a catalog search; ``None`` means "any"."""

    q: str | None = None
    family: str | None = None
    issuer_level: str | None = None
    benefit_kind: str | None = None
    region_code: str | None = None          # policies that apply to a firm registered here
    in_force_on: dt.date | None = None


def _haystack(policy: Policy) -> str:
    return held(policy, "haystack", lambda: _haystack_of(policy))


def _haystack_of(policy: Policy) -> str:
    h = policy.header
    parts = [h.id, h.title_zh, h.title_en, h.description_zh, h.description_en, h.issuer.name_zh,
             h.issuer.name_en, h.benefit.description_zh, h.benefit.description_en,
             *policy.references_text()]
    parts += [f"{c.label_zh} {c.label_en}" for c in policy.criteria.walk()]
    return "\n".join(parts).casefold()


def _matches(policy: Policy, query: PolicyQuery) -> bool:
    h = policy.header
    if query.family is not None and h.family != query.family:
        return False
    if query.issuer_level is not None and h.issuer.level != query.issuer_level:
        return False
    if query.benefit_kind is not None and h.benefit.kind != query.benefit_kind:
        return False
    if query.region_code is not None and h.region_prefixes and not any(
            query.region_code.startswith(p) for p in h.region_prefixes):
        return False
    if query.in_force_on is not None and not policy.in_force(query.in_force_on):
        return False
    if query.q:
        hay = _haystack(policy)
        return all(term in hay for term in query.q.casefold().split())
    return True


def _relevance(policy: Policy, q: str | None) -> int:
    """Title hits count more than hits elsewhere; no query keeps catalog (id) order."""
    if not q:
        return 0
    title = f"{policy.header.title_zh} {policy.header.title_en}".casefold()
    return sum(term in title for term in q.casefold().split())


def search_policies(catalog: Catalog, query: PolicyQuery) -> list[Policy]:
    """Policies passing every filter whose text contains every whitespace-separated term of
    ``query.q`` (case-insensitive substring match, so Chinese needs no word segmentation);
    title matches first, then catalog order."""
    hits = [p for p in catalog if _matches(p, query)]
    return sorted(hits, key=lambda p: -_relevance(p, query.q))
