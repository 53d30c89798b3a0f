"""API-only envelopes: errors, pages, batch and screening wrappers, job and health views.

Firm fields are never redeclared here: request bodies are :class:`recommender.FirmProfile`
(or lists of it) and outcome rows are :class:`recommender.store.OutcomeRecord`. Match results
follow SPEC §5; their models list the documented keys and allow the extra keys a richer
ranker adds (``approval_probability``, ``expected_value``, explanations).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Issue(BaseModel):
    """One problem with the request: where (dotted path) and why."""

    field: str = Field(description="dotted path, e.g. body.revenue, body.3.region_code, query.as_of")
    reason: str


class ErrorBody(BaseModel):
    """Every error response."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "detail": "invalid request", "issues": [{"field": "body.revenue", "reason": "Input should be greater than or equal to 0"}]}]})
    detail: str
    issues: list[Issue] = []


# --- match ----------------------------------------------------------------------------
class CriterionResult(BaseModel):
    """One criterion of one policy for one firm (SPEC §5)."""

    model_config = ConfigDict(extra="allow")
    id: str
    label: str
    outcome: Literal["met", "not_met", "unknown"]
    observed: Any = None
    required: str | None = None
    gap: float | None = None
    clause: str | None = None


class PolicyMatch(BaseModel):
    """One policy in a firm's ranked list (SPEC §5)."""

    model_config = ConfigDict(extra="allow")
    policy_id: str
    title: str
    family: str
    rank: int
    verdict: Literal["eligible", "ineligible", "undetermined"]
    score: float
    estimated_benefit: float | None = None
    benefit: dict[str, Any] | None = None
    criteria: list[CriterionResult] = []
    missing_fields: list[str] = []
    verify_yourself: list[dict[str, Any]] = []
    references: list[str] = []
    rank_reasons: list[str] | None = Field(
        None, description="with explain=true and the learned ranker: the largest feature "
                          "contributions to this policy's rank, in words")


class MatchResult(BaseModel):
    """A firm's ranked policies, stamped with the versions that produced them (SPEC §5)."""

    model_config = ConfigDict(extra="allow")
    firm_id: str
    as_of: dt.date
    catalog_version: str
    model_version: str
    derived: dict[str, Any]
    total_estimated_benefit: float | None = None
    matches: list[PolicyMatch]


class BatchMatchResponse(BaseModel):
    """Results in input order."""

    catalog_version: str
    model_version: str
    results: list[MatchResult]


# --- screening ------------------------------------------------------------------------
class ScreeningRow(BaseModel):
    """One applicant's verdict on the screened policy."""

    firm_id: str
    name: str | None = Field(None, description="registered name, as uploaded")
    credit_code: str | None = Field(None, description="Unified Social Credit Code, as uploaded")
    district: str | None = Field(None, description="name of the region_code's division (e.g. 渝北区)")
    policy_id: str
    verdict: Literal["eligible", "ineligible", "undetermined"]
    score: float
    estimated_benefit: float | None = None
    failed_criteria: list[str] = Field(description="criteria carrying an ineligible verdict (none for "
                                       "an eligible firm: failed alternatives are not listed)")
    unknown_criteria: list[str]
    missing_fields: list[str] = Field(description="profile fields to supply")
    verify_yourself: list[str] = Field(description="conditions no field expresses, with their clause: "
                                       "the caseworker checks them")


class RejectedRow(BaseModel):
    """An uploaded row that could not be screened: its row number (1-based data rows), field and reason."""

    row: int
    firm_id: str | None = None
    field: str
    reason: str


class ScreeningResponse(BaseModel):
    """Applicants, eligible first, then by score; rejected upload rows listed separately."""

    policy_id: str
    as_of: dt.date
    catalog_version: str
    model_version: str
    counts: dict[str, int] = Field(description="per verdict, plus 'rejected'")
    results: list[ScreeningRow]
    rejects: list[RejectedRow] = []


# --- policies ---------------------------------------------------------------------------
class PolicySummary(BaseModel):
    """A policy in the list view."""

    model_config = ConfigDict(extra="allow")
    id: str
    title_zh: str
    title_en: str
    family: str
    issuer: dict[str, str]
    region_prefixes: list[str]
    valid_from: dt.date
    valid_to: dt.date | None
    in_force: bool | None
    confidence: str
    benefit_kind: str
    references: list[str]


class CriterionWords(BaseModel):
    """A node of a policy's criteria tree, in words."""

    id: str
    kind: str
    label_zh: str
    label_en: str
    clause: str | None = None
    requirement: str
    fields: list[str] | None = None
    children: list[CriterionWords] | None = None


class PolicyDetail(PolicySummary):
    """A policy with its description, references, benefit and criteria in words."""

    description_zh: str
    description_en: str
    reference_documents: list[dict[str, Any]]
    uncertain: list[str]
    benefit: dict[str, Any]
    criteria: CriterionWords


class PolicyPage(BaseModel):
    """One page of a catalog search."""

    catalog_version: str
    total: int
    page: int
    per_page: int
    items: list[PolicySummary]


# --- jobs -------------------------------------------------------------------------------
class JobView(BaseModel):
    """A bulk job: state, progress and row counts (counts are final once succeeded)."""

    id: str
    state: Literal["queued", "running", "succeeded", "failed"]
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    input_name: str
    as_of: dt.date
    top_k: int
    rows_done: int = Field(description="rows validated and matched so far")
    chunks_done: int
    rows_read: int | None
    firms_matched: int | None
    rows_rejected: int | None
    error: str | None
    catalog_version: str | None
    model_version: str | None
    result_url: str
    rejects_url: str


class JobPage(BaseModel):
    """One page of the caller's jobs (an admin's: every job), newest first."""

    items: list[JobView]
    total: int = Field(description="jobs in all")
    limit: int
    offset: int
    next: str | None = Field(description="the next page's URL (null on the last page)")


# --- outcomes, health, admin ------------------------------------------------------------
class OutcomesRecorded(BaseModel):
    recorded: int
    duplicates: int = Field(description="rows identical to one already stored (ignored)")


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    catalog_version: str | None
    model_version: str | None
    policies: int
    database: Literal["ok", "unreachable"]
    jobs: Literal["ok"] = Field("ok", description="every job-runner thread alive, and looping or making progress")
    loaded_at: dt.datetime | None
    model_error: str | None = Field(None, description="why the configured model is not in use")


class ReloadResult(BaseModel):
    previous_catalog_version: str
    previous_model_version: str
    catalog_version: str
    model_version: str
    policies: int


class AuditView(BaseModel):
    """One audit-log entry (no keys, no firm figures)."""

    at: dt.datetime
    key_id: str
    role: str
    action: str
    policy_id: str | None
    job_id: str | None
    n_firms: int
    catalog_version: str
    model_version: str
