"""Query parameters shared by several routes, and the dependencies that resolve them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from api.bodies import profile_body, profiles_body
from api.deps import MatcherDep, SettingsDep
from recommender import Family, FirmProfile, MatchOptions, Policy, RankBy

EARLIEST = dt.date(1990, 1, 1)
LATEST = dt.date(2100, 12, 31)
AsOfQuery = Annotated[dt.date | None, Query(ge=EARLIEST, le=LATEST,
                                            description="evaluation date, ISO-8601 (default: today)")]


def as_of_or_today(as_of: dt.date | None) -> dt.date:
    return as_of if as_of is not None else dt.date.today()


class MatchParams:
    """``top_k``, ``as_of``, ``all``, ``family``, ``rank_by``, ``explain``, resolved."""

    def __init__(self, as_of: dt.date, rank_by: RankBy, options: MatchOptions) -> None:
        self.as_of = as_of
        self.rank_by: RankBy = rank_by
        self.options = options


async def match_params(
    top_k: Annotated[int, Query(ge=1, le=100, description="policies per firm (ignored with all=true)")] = 10,
    as_of: AsOfQuery = None,
    all_: Annotated[bool, Query(alias="all", description="every policy of the catalog, best first, "
                                "ineligible ones included")] = False,
    family: Annotated[Family | None, Query(description="only policies of this family")] = None,
    rank_by: Annotated[RankBy, Query(description="relevance: the learned ranker's score; "
                                     "expected_value: approval probability × estimated benefit; "
                                     "rules: the rule order rules-v1 (also the fallback without a "
                                     "model)")] = "relevance",
    explain: Annotated[bool, Query(description="add 'what it takes' and ranking explanations "
                                   "(slower)")] = False,
) -> MatchParams:
    """The match query parameters (an ``async`` dependency: no thread hop)."""
    return MatchParams(as_of_or_today(as_of), rank_by,
                       MatchOptions(top_k=None if all_ else top_k, include_all=all_, explain=explain, family=family))


MatchParamsDep = Annotated[MatchParams, Depends(match_params)]


async def _one_profile(request: Request, matcher: MatcherDep) -> FirmProfile:
    return await profile_body(request, matcher.ref)


async def _batch_profiles(request: Request, matcher: MatcherDep, settings: SettingsDep) -> list[FirmProfile]:
    return await profiles_body(request, matcher.ref, settings.max_batch_profiles)


ProfileBody = Annotated[FirmProfile, Depends(_one_profile)]
ProfilesBody = Annotated[list[FirmProfile], Depends(_batch_profiles)]


async def _policy(matcher: MatcherDep,
            policy_id: Annotated[str, Query(min_length=1, max_length=80, description="a catalog policy id",
                                            examples=["cn-tech-sme-evaluation"])]) -> Policy:
    return matcher.policy(policy_id)


PolicyQueryDep = Annotated[Policy, Depends(_policy)]
OutputFormat = Literal["json", "csv", "xlsx"]
