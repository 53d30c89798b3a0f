"""POST /v1/match and /v1/match/batch: firm profiles → ranked, explained policies (SPEC §5)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.deps import MatcherDep, PublicDep
from api.match_json import batch_response, match_response
from api.openapi import EXAMPLE_PROFILE, errors, json_body
from api.routes.params import MatchParamsDep, ProfileBody, ProfilesBody
from api.schemas import BatchMatchResponse, MatchResult

router = APIRouter(prefix="/v1/match", tags=["match"], responses=errors(401, 403, 413, 415, 422))


@router.post("", response_model=MatchResult, summary="Match one firm",
             openapi_extra=json_body("FirmProfile", example=EXAMPLE_PROFILE))
async def match_one(caller: PublicDep, profile: ProfileBody, params: MatchParamsDep,
                    matcher: MatcherDep) -> Any:
    """One firm profile (SPEC §2) → its policies, best first, each with verdict, score,
    estimated benefit, per-criterion reasons, missing fields and references (SPEC §5).
    Without ``all``, only eligible and undetermined policies are listed."""
    # The prepared one-firm path takes about a millisecond: run it on the event loop. The
    # general path (explain=true) takes tens: run it in the thread pool.
    if matcher.serves_one_fast(params.options, params.rank_by):
        result = matcher.match_one(profile, params.as_of, params.options, params.rank_by)
    else:
        result = await run_in_threadpool(matcher.match_one, profile, params.as_of, params.options,
                                         params.rank_by)
    return match_response(result)


@router.post("/batch", response_model=BatchMatchResponse, summary="Match up to 1,000 firms",
             openapi_extra=json_body("FirmProfile", array=True, max_items=1000, example=[EXAMPLE_PROFILE]))
def match_batch(caller: PublicDep, profiles: ProfilesBody, params: MatchParamsDep,
                matcher: MatcherDep) -> Any:
    """A JSON list of profiles (unique ``firm_id``) → one result per firm, in input order.
    More than ``RECOMMENDER_MAX_BATCH_PROFILES`` (1,000) profiles get 413: use POST /v1/jobs."""
    results = matcher.match(profiles, params.as_of, params.options, params.rank_by) if profiles else []
    return batch_response({"catalog_version": matcher.catalog_version, "model_version": matcher.model_version,
                           "results": results})
