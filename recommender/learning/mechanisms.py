"""What drives applications and approvals in a synthetic history: the generator zoo.

:func:`recommender.learning.synth.generate_interactions` walks every (year, policy) of the
history and, for the policy's candidate firms, asks a *mechanism* for two logits: whether a
firm applies and whether an application is approved. Everything else (dates, pending
applications, the registry) is shared. The mechanisms differ in what the process depends on:

* ``margins`` (the default, :class:`Margins`): eligibility, how far a firm clears the bars,
  documents, awareness, sector affinity — things the pair features can see.
* ``trend`` (:class:`Trend`): each policy's activity rises and falls across the years
  (budget, campaigns); eligibility matters little. The pair features cannot see the trend.
* ``taste`` (:class:`Taste`): each firm has its own taste for each policy family and its own
  competence, independent of its figures and of the margins.
* ``imbalanced`` (:class:`Margins` with offsets): the default process with far fewer
  applications and approvals (heavy class imbalance).

Each draws its noise from the generator's one random stream, in a fixed order, so a seed fixes
the output; the default's draws are those of the generator before the zoo (same bytes).
See ``data/synthetic_data_card.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

# --- the default process's terms (documented in the data card) ------------------------------
# Sector affinity per policy family (added to the apply logit).
AFFINITY: dict[str, dict[str, float]] = {
    "innovation": {"electronics": 0.8, "software": 0.9, "research": 1.0, "chemicals": 0.5,
                   "machinery": 0.5, "auto": 0.4, "trade": -0.6, "hospitality": -0.8},
    "specialized_sme": {"auto": 0.6, "electronics": 0.7, "machinery": 0.7, "chemicals": 0.4,
                        "other_mfg": 0.4, "trade": -0.6, "hospitality": -0.8},
    "digital": {"auto": 0.7, "electronics": 0.6, "machinery": 0.6, "software": 0.3},
    "green": {"chemicals": 0.8, "other_mfg": 0.5, "food": 0.3, "auto": 0.3},
    "trade": {"electronics": 0.6, "auto": 0.4, "trade": 0.4},
    "employment": {"hospitality": 0.6, "business_services": 0.5, "trade": 0.3, "logistics": 0.4},
    "relief": {"hospitality": 0.5, "trade": 0.4, "logistics": 0.3},
    "finance": {},
}
# Application burden by benefit kind and true size class (micro, small, medium, large): a
# recognition file, a project subsidy or a loan needs audited accounts, evidence and often an
# agent, which a micro firm lacks; a tax preference is claimed on the tax return it files anyway.
PAPERWORK_KINDS: frozenset[str] = frozenset({"recognition", "cash_award", "subsidy", "service", "loan"})
BURDEN: tuple[float, ...] = (-0.7, -0.2, 0.2, 0.4)
SELF_DECLARED = 0.5
"""Apply-logit shift of kinds claimed on the tax return (tax_saving, deferral, refund, fee_waiver)."""
# Cultivation pool: firms already holding a title of the ladder (tech-SME → innovative →
# specialised → little giant; HNTE) are listed in the authorities' pool and are told about
# the next recognition of the innovation and specialised-SME families.
POOL_BONUS = 1.5
POOL_FAMILIES: frozenset[str] = frozenset({"innovation", "specialized_sme"})
# Approval: a firm that clears every numeric bar by at least COMFORT (relative) is rarely
# queried; a borderline file is audited and often sent back.
COMFORT = 0.2
COMFORT_BONUS = 2.0
# Weight of document quality in the approval logit by true size class: large firms have a
# finance department or an agent that files complete documents whatever their general quality.
DOC_WEIGHT: tuple[float, ...] = (1.2, 0.9, 0.6, 0.3)
SELF_DECLARED_DOC_WEIGHT = 0.2
"""A claim on the tax return is checked against figures already filed: documents matter little."""
# Applicants who clear every numeric bar comfortably know they qualify; borderline firms hesitate.
SURE_BONUS = 0.8


def application_shift(kind: str, family: str, size: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Apply-logit terms of effort (benefit kind × true size class) and the cultivation pool.

    >>> application_shift("recognition", "specialized_sme", np.array([0, 3]), np.array([True, False])).tolist()
    [0.8, 0.4]
    >>> application_shift("tax_saving", "relief", np.array([0, 3]), np.array([True, False])).tolist()
    [0.5, 0.5]
    """
    size = np.asarray(size, dtype=int)
    effort = np.asarray(BURDEN)[size] if kind in PAPERWORK_KINDS else np.full(len(size), SELF_DECLARED)
    if family in POOL_FAMILIES and kind == "recognition":
        effort = effort + POOL_BONUS * np.asarray(pool, dtype=bool)
    return effort


def approval_logit(base: np.ndarray, margin: np.ndarray, doc_quality: np.ndarray, size: np.ndarray,
                   rating_a: np.ndarray, unknown: np.ndarray, paperwork: bool = True) -> np.ndarray:
    """Approval logit before noise: ``base + tanh(2·margin) + 2·[margin ≥ 0.2] + w·q
    + 0.4·[rating A] − 0.3·unknown`` (``margin`` 0 where the policy has no numeric bar); ``w``
    is ``DOC_WEIGHT[size]`` for a file to prepare, 0.2 for a claim on the tax return."""
    margin = np.asarray(margin, dtype="float64")
    w = (np.asarray(DOC_WEIGHT)[np.asarray(size, dtype=int)] if paperwork
         else np.full(len(margin), SELF_DECLARED_DOC_WEIGHT))
    return (base + np.tanh(2.0 * margin) + COMFORT_BONUS * (margin >= COMFORT)
            + w * doc_quality
            + 0.4 * np.asarray(rating_a, dtype=float) - 0.3 * np.asarray(unknown, dtype=float))


def policy_rng(policy_id: str, seed: int, stream: int | None = None) -> np.random.Generator:
    """A random stream fixed by the policy id and the seed (and ``stream``, when given)."""
    code = sum(ord(c) * 31 ** i for i, c in enumerate(policy_id)) % 2**32
    return np.random.default_rng([seed, code] if stream is None else [seed, code, stream])


def _appeal(policy_id: str, seed: int) -> float:
    """A fixed per-policy appeal (publicity, ease of application) in [-0.4, 0.4]."""
    return float(policy_rng(policy_id, seed).uniform(-0.4, 0.4))


# --- what a mechanism sees ------------------------------------------------------------------
@dataclass(frozen=True)
class Firms:
    """Latent and observed columns of the registry rows a block covers (see
    :func:`recommender.learning.synth.generate_registry`)."""

    group: np.ndarray        # sector group
    doc_quality: np.ndarray
    awareness: np.ndarray
    rating_a: np.ndarray     # tax credit rating A (as written)
    size: np.ndarray         # true size class, 0 micro … 3 large
    pool: np.ndarray         # holds a title of the innovation ladder

    @classmethod
    def of(cls, registry: pd.DataFrame) -> Firms:
        return cls(group=registry["_group"].to_numpy(dtype=object),
                   doc_quality=registry["_doc_quality"].to_numpy(dtype="float64"),
                   awareness=registry["_awareness"].to_numpy(dtype="float64"),
                   rating_a=(registry["tax_credit_rating"] == "A").to_numpy(dtype=bool),
                   size=registry["_size"].to_numpy(dtype=int),
                   pool=registry["_pool"].to_numpy(dtype=bool))

    def __getitem__(self, rows: slice) -> Firms:
        return Firms(self.group[rows], self.doc_quality[rows], self.awareness[rows],
                     self.rating_a[rows], self.size[rows], self.pool[rows])


@dataclass(frozen=True)
class Block:
    """One policy's candidate firms (registry rows ``rows``) in one year of the history."""

    year: int
    policy_id: str
    family: str
    kind: str                # benefit kind
    rows: slice
    firms: Firms             # the rows' columns
    verdict: np.ndarray      # 0 ineligible, 1 undetermined, 2 eligible (as of 1 July)
    margin: np.ndarray       # smallest relative margin to a numeric bar (NaN: none or unknown)
    unknown: np.ndarray      # criteria that could not be decided
    benefit: np.ndarray      # estimated benefit, yuan (midpoint; 50,000 where unknown)


class Mechanism(Protocol):
    """Apply and approval logits of a block's firms; noise drawn from ``rng``."""

    def apply_logit(self, block: Block, rng: np.random.Generator) -> np.ndarray: ...

    def approval_logit(self, block: Block, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...


def _sector_affinity(family: str, group: np.ndarray) -> np.ndarray:
    table = AFFINITY.get(family, {})
    return np.array([table.get(g, 0.0) for g in group])


class Margins:
    """Applications follow eligibility, awareness, benefit, sector affinity, effort and the
    cultivation pool; approvals follow eligibility, the margin to the bars (with a jump at a
    comfortable 20 %), documents, tax rating and unknown criteria (the data card's formulas).
    ``apply_offset`` / ``approval_offset`` shift both logits (``imbalanced``)."""

    def __init__(self, registry: pd.DataFrame, policy_ids: Sequence[str], seed: int, *,
                 apply_offset: float = 0.0, approval_offset: float = 0.0) -> None:
        self.appeal = {p: _appeal(p, seed) for p in policy_ids}
        self.apply_offset, self.approval_offset = apply_offset, approval_offset

    def apply_logit(self, block: Block, rng: np.random.Generator) -> np.ndarray:
        f, v = block.firms, block.verdict
        logit = (-3.4 + 1.2 * (v == 2) + 0.5 * f.awareness + 0.35 * np.log10(1 + block.benefit / 1e4)
                 + 2.0 * _sector_affinity(block.family, f.group) + self.appeal[block.policy_id]
                 + application_shift(block.kind, block.family, f.size, f.pool)
                 + rng.normal(0, 0.5, len(v)))
        sure = np.nan_to_num(block.margin, nan=0.0) >= COMFORT
        logit = np.where(v == 0, logit - 4.5, logit + SURE_BONUS * sure)
        return logit + self.apply_offset if self.apply_offset else logit

    def approval_logit(self, block: Block, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        f, v = block.firms, block.verdict[idx]
        base = np.select([v == 2, v == 1], [0.5, -0.5], -4.0)
        logit = (approval_logit(base, np.nan_to_num(block.margin[idx], nan=0.0), f.doc_quality[idx],
                                f.size[idx], f.rating_a[idx], block.unknown[idx], block.kind in PAPERWORK_KINDS)
                 + rng.normal(0, 0.3, len(idx)))
        return logit + self.approval_offset if self.approval_offset else logit


IMBALANCED_APPLY_OFFSET = -2.0
IMBALANCED_APPROVAL_OFFSET = -4.5


def imbalanced(registry: pd.DataFrame, policy_ids: Sequence[str], seed: int) -> Margins:
    """The default process with the apply logit lowered by 2 and the approval logit by 4.5:
    heavy class imbalance with the default's drivers. Under 2 % of the candidate (firm, policy
    in force, year) pairs are approved (the default: over 10 % on the test catalog, whose
    policies are easy) and under 35 % of the decided applications (the default: over 80 %)."""
    return Margins(registry, policy_ids, seed, apply_offset=IMBALANCED_APPLY_OFFSET,
                   approval_offset=IMBALANCED_APPROVAL_OFFSET)


TREND_PERIODS = (2.5, 5.0)
"""A policy's activity is a sine of the year with a period drawn in this range (years) and a
random phase: it ramps up and down within a typical four-year history."""


class Trend:
    """Applications and approvals follow each policy's activity in the year (a budget or a
    campaign: ``sin(2π·year/period + phase)``, period 2.5–5 years, per policy), which no pair
    feature sees; eligibility shifts the apply logit by only 0.3 (ineligible −1.5) and the
    approval logit by 0.2 (ineligible −1); margins and documents play no part."""

    def __init__(self, registry: pd.DataFrame, policy_ids: Sequence[str], seed: int) -> None:
        self.shape: dict[str, tuple[float, float]] = {}
        for p in policy_ids:
            r = policy_rng(p, seed, stream=3)
            self.shape[p] = (float(r.uniform(*TREND_PERIODS)), float(r.uniform(0, 2 * np.pi)))

    def activity(self, policy_id: str, year: int) -> float:
        """The policy's activity in ``year``, in [-1, 1]."""
        period, phase = self.shape[policy_id]
        return float(np.sin(2 * np.pi * year / period + phase))

    def apply_logit(self, block: Block, rng: np.random.Generator) -> np.ndarray:
        v = block.verdict
        return (-2.6 + 1.6 * self.activity(block.policy_id, block.year) + 0.3 * (v == 2) - 1.5 * (v == 0)
                + 0.2 * block.firms.awareness + rng.normal(0, 0.5, len(v)))

    def approval_logit(self, block: Block, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        v = block.verdict[idx]
        return (-0.2 + 2.5 * self.activity(block.policy_id, block.year) + 0.2 * (v == 2) - 1.0 * (v == 0)
                + rng.normal(0, 0.3, len(idx)))


class Taste:
    """Each firm has a taste for each policy family and a competence, both N(0, 1) and drawn
    independently of its figures: applications follow taste (×2), approvals taste (×1) and
    competence (×1.2); eligibility shifts the apply logit by 0.4 (ineligible −2.5) and the
    approval logit by 0.3 (ineligible −2); margins and documents play no part."""

    def __init__(self, registry: pd.DataFrame, policy_ids: Sequence[str], seed: int,
                 families: Sequence[str] = tuple(AFFINITY)) -> None:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 4]))
        self.families = {f: k for k, f in enumerate(sorted(families))}
        self.taste = rng.normal(0.0, 1.0, (len(registry), len(self.families)))
        self.competence = rng.normal(0.0, 1.0, len(registry))

    def firm_taste(self, block: Block) -> np.ndarray:
        """The block's firms' taste for its policy's family (0 for a family not listed)."""
        k = self.families.get(block.family)
        return np.zeros(len(block.verdict)) if k is None else self.taste[block.rows, k]

    def apply_logit(self, block: Block, rng: np.random.Generator) -> np.ndarray:
        v = block.verdict
        return (-3.6 + 2.0 * self.firm_taste(block) + 0.4 * (v == 2) - 2.5 * (v == 0)
                + rng.normal(0, 0.5, len(v)))

    def approval_logit(self, block: Block, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        v = block.verdict[idx]
        return (0.0 + 1.0 * self.firm_taste(block)[idx] + 1.2 * self.competence[block.rows][idx]
                + 0.3 * (v == 2) - 2.0 * (v == 0) + rng.normal(0, 0.3, len(idx)))


MECHANISMS: dict[str, Callable[[pd.DataFrame, Sequence[str], int], Mechanism]] = {
    "margins": Margins, "trend": Trend, "taste": Taste, "imbalanced": imbalanced}
"""The zoo by name (``recommender synth --mechanism NAME``); ``margins`` is the default."""
DEFAULT_MECHANISM = "margins"


def make_mechanism(name: str, registry: pd.DataFrame, policy_ids: Sequence[str], seed: int) -> Mechanism:
    """The mechanism ``name`` set up for ``registry`` and the catalog's policies.

    Raises
    ------
    ValueError
        When ``name`` is not in :data:`MECHANISMS`.
    """
    if name not in MECHANISMS:
        raise ValueError(f"unknown mechanism {name!r}; one of {', '.join(MECHANISMS)}")
    return MECHANISMS[name](registry, policy_ids, seed)
