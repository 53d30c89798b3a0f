"""The loaded matcher: catalog, reference tables and ranker, built once and shared.

Both front ends (the CLI and the API) need the same bundle: the catalog parsed and
validated, the reference tables, the learned ranker when a model is configured (the rule
order ``rules-v1`` otherwise) and the versions that stamp every result. :func:`load_matcher`
builds it from :class:`~recommender.settings.Settings`; the :class:`Matcher` is immutable, so
a service can swap in a new one with a single reference assignment and a request that holds
the old one finishes on it (never a half-loaded state).
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from recommender.rules import Catalog, Policy, load_catalog
from recommender.errors import ModelArtifactError
from recommender.profile import FirmProfile, ReferenceTables, load_reference, profile_arrays, profiles_to_frame
from recommender.matching.results import MatchOptions, Ranker, match_frame
from recommender.matching.one_firm import OneFirmMatcher
from recommender.ranking import RuleRanker
from recommender.engine import VERDICTS
from recommender.matching.screening import screen_frame
from recommender.settings import Settings

RankBy = Literal["relevance", "expected_value", "rules"]
"""``relevance``: the learned ranker's LambdaRank score; ``expected_value``: its calibrated
approval probability × estimated benefit; ``rules``: the rule order ``rules-v1`` (verdict,
estimated benefit, share of criteria met). Without a loaded model every choice is the rule
order (and results say ``model_version: rules-v1``). The verdict always comes first."""

log = logging.getLogger(__name__)

__all__ = ["Matcher", "RankBy", "load_matcher", "load_ranker"]


def load_ranker(model_dir: Path | None, catalog: Catalog, *, required: bool = False,
                compiled_dir: Path | None = None, compile_missing: bool = False) -> Ranker | None:
    """The ranker stored in ``model_dir`` — the learned ranker, or the baseline the out-of-time
    gate shipped instead (popularity; ``None`` for the rule order) — or ``None`` without one.

    Parameters
    ----------
    model_dir : Path or None
        A model directory (``manifest.json`` and boosters); ``None`` means no model.
    catalog : Catalog
        The catalog the model must have been trained for.
    required : bool, default False
        Raise instead of falling back when this build has no learned ranker.
    compiled_dir : Path, optional
        Where the compiled trees are kept (:class:`LearnedRanker`); used when present.
    compile_missing : bool, default False
        Compile them for a large batch when missing (bulk runs).

    Raises
    ------
    ModelArtifactError
        The model directory is broken, or ``required`` and the learned ranker is unavailable.
    """
    if model_dir is None:
        return None
    from models.artifacts import model_kind
    kind = model_kind(Path(model_dir))
    if kind == "rules":                     # the gate shipped the rule order
        return None
    if kind in ("popularity", "logistic"):
        from recommender.ranking import LinearRanker, PopularityRanker
        baseline: Ranker = (PopularityRanker if kind == "popularity" else LinearRanker)(Path(model_dir), catalog)
        return baseline
    try:
        from recommender.ranking import LearnedRanker
    except ImportError:
        if required:
            raise ModelArtifactError(f"{model_dir}: this build has no learned ranker") from None
        return None
    ranker: Ranker = LearnedRanker(Path(model_dir), catalog, compiled_dir=compiled_dir,
                                   compile_missing=compile_missing)
    return ranker


@dataclass(frozen=True, eq=False)
class Matcher:
    """Everything matching needs, loaded once: catalog, reference tables, ranker, versions."""

    catalog: Catalog
    ref: ReferenceTables
    ranker: Ranker | None
    model_error: str | None = None            # why the configured model is not in use
    one_firm: OneFirmMatcher | None = None    # the prepared one-firm path (services load it)
    loaded_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    @property
    def catalog_version(self) -> str:
        return self.catalog.version

    @property
    def model_version(self) -> str:
        """The learned model's version, or ``rules-v1``."""
        return (self.ranker or RuleRanker()).version

    def policy(self, policy_id: str) -> Policy:
        """The policy with this id; :class:`~recommender.errors.UnknownPolicyError` if none."""
        return self.catalog.get(policy_id)

    def ranker_for(self, rank_by: RankBy) -> Ranker:
        if rank_by == "rules" or self.ranker is None:
            return RuleRanker()
        if rank_by == "expected_value" and getattr(self.ranker, "rank_by", None) == "relevance":
            variant = copy.copy(self.ranker)          # shares the loaded boosters
            variant.rank_by = "expected_value"        # type: ignore[attr-defined]  # a learned ranker variant; the Ranker protocol does not declare it
            return variant
        return self.ranker

    def match(self, profiles: Sequence[FirmProfile], as_of: dt.date, options: MatchOptions,
              rank_by: RankBy = "relevance") -> list[dict[str, Any]]:
        """SPEC §5 results, one per profile, in input order."""
        frame = profiles_to_frame(list(profiles))
        return match_frame(frame, self.catalog, as_of, self.ref, options, self.ranker_for(rank_by))

    def serves_one_fast(self, options: MatchOptions, rank_by: RankBy = "relevance") -> bool:
        """Whether :meth:`match_one` takes the prepared one-firm path for these options."""
        return self.one_firm is not None and self.one_firm.supports(options, self.ranker_for(rank_by))

    def match_one(self, profile: FirmProfile, as_of: dt.date, options: MatchOptions,
                  rank_by: RankBy = "relevance") -> dict[str, Any]:
        """The SPEC §5 result of one profile: ``match([profile], …)[0]``, by the prepared
        one-firm path when it serves these options (:class:`~recommender.matching.one_firm.OneFirmMatcher`)."""
        ranker = self.ranker_for(rank_by)
        if self.one_firm is not None and self.one_firm.supports(options, ranker):
            return self.one_firm.match(profile, as_of, options, ranker)
        return match_frame(profile_arrays([profile]), self.catalog, as_of, self.ref, options, ranker)[0]

    def screen(self, policy: Policy, applicants: pd.DataFrame, as_of: dt.date,
               keep: tuple[str, ...] = VERDICTS) -> list[dict[str, Any]]:
        """Screening rows of a typed profile frame against one policy, eligible first (only
        the verdicts in ``keep``: ``("eligible", "undetermined")`` lists the firms to reach)."""
        return screen_frame(applicants, policy, as_of, self.ref, keep=keep)


def load_matcher(settings: Settings, *, model_fallback: bool = False, one_firm: bool = False) -> Matcher:
    """Load catalog, reference tables and ranker as ``settings`` says.

    Parameters
    ----------
    settings : Settings
    model_fallback : bool, default False
        When the configured model cannot be loaded (e.g. it was trained for another catalog
        version), use the rule order and say why in ``Matcher.model_error`` instead of
        raising. A service starting up wants this; a reload does not.
    one_firm : bool, default False
        Also prepare the one-firm path (:meth:`Matcher.match_one`; a service wants it, a
        bulk run does not). If the catalog or model needs something it does not build, it is
        left out with a warning and every request takes the general path.

    Raises
    ------
    CatalogError
        A policy file is broken (naming file, policy and criterion).
    ModelArtifactError
        The configured model cannot be loaded for this catalog (unless ``model_fallback``).
    """
    ref = load_reference(settings.data_dir)
    catalog = load_catalog(settings.resolved_catalog_dir(), data_dir=settings.data_dir)
    model_error = None
    try:
        ranker = load_ranker(settings.resolved_model_dir(), catalog, required=settings.model_dir is not None,
                             compiled_dir=settings.compiled_dir)
    except ModelArtifactError as err:
        if not model_fallback:
            raise
        ranker, model_error = None, str(err)
    prepared = _prepare_one_firm(catalog, ref, ranker) if one_firm else None
    return Matcher(catalog=catalog, ref=ref, ranker=ranker, model_error=model_error, one_firm=prepared)


def _prepare_one_firm(catalog: Catalog, ref: ReferenceTables, ranker: Ranker | None) -> OneFirmMatcher | None:
    try:
        return OneFirmMatcher(catalog, ref, ranker, warm=(dt.date.today(),))
    except (ValueError, TypeError) as err:
        log.warning("one-firm path not prepared, every match takes the general path: %s", err)
        return None
