"""Subscriptions (SPEC §10): a firm subscribes to alerts with its profile, a webhook and its
consent; with the unsubscribe token it sees, renews or deletes what is stored.

``GET``, ``DELETE``, ``/renew`` and ``/matches`` answer 404 alike for an unknown id and a
wrong token (the token is compared with the stored digest in constant time), so the id alone
reveals nothing. Deleting removes the profile and every pending alert; the audit log keeps
that it happened (subscription id, never the profile).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import tempfile
from pathlib import Path as FilePath

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from api.bodies import SPREADSHEET_TYPES, save_upload, subscription_body, upload_suffix
from api.deps import CaseworkerDep, MatcherDep, PublicDep, SettingsDep, StoreDep
from api.errors import ApiError
from api.match_json import match_response
from api.openapi import EXAMPLE_PROFILE, errors, json_body
from api.pages import render
from api.routes.params import AsOfQuery, as_of_or_today
from api.schemas import MatchResult
from recommender import (AlertsConfig, FirmProfile, Matcher, MatchOptions, Settings, Store, SubscriptionRequest,
                         Subscriptions, by_unsubscribe_link, interest_issues, renew, subscribe, subscribe_registry,
                         unsubscribe)

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"], responses=errors(401, 403, 422, 503))
_EXAMPLE = {"profile": EXAMPLE_PROFILE, "webhook_url": "https://firm.example.cn/hooks/policy",
            "families": ["innovation"], "consent": True}


class SubscriptionCreated(BaseModel):
    id: str = Field(description="the subscription id (in every alert's subscription_id)")
    unsubscribe_token: str = Field(description="shown once: needed to see, renew or delete the subscription")
    secret: str = Field(description="shown once: the key of each alert's X-Signature HMAC")
    expires_at: dt.datetime = Field(description="deleted then unless renewed (POST …/renew)")


class SubscriptionView(BaseModel):
    id: str
    firm_id: str
    profile: dict[str, Any] = Field(description="the profile as given (SPEC §2)")
    webhook_url: str | None
    email: str | None = Field(description="where alerts are e-mailed (none: webhook only)")
    families: list[str]
    policies: list[str]
    consent_at: dt.datetime
    consent_by: str = Field(description="firm, or the key id of the caseworker who subscribed it")
    created_at: dt.datetime
    expires_at: dt.datetime
    alerts: list[dict[str, Any]] = Field(description="the alerts decided so far: policy, kind, window, "
                                         "channel (webhook or email), delivery state, attempts")


class Renewed(BaseModel):
    id: str
    expires_at: dt.datetime


async def _body(request: Request, matcher: MatcherDep, settings: SettingsDep) -> SubscriptionRequest:
    body = await subscription_body(request, matcher.ref, email_enabled=settings.email_enabled)
    bad = interest_issues(body.policies, matcher.catalog, prefix="body.")
    if bad:
        raise ApiError(422, "policies of interest that are not in the catalog",
                       [(i.field, i.reason) for i in bad][:50])
    return body


IdPath = Annotated[str, Path(min_length=1, max_length=36, description="the subscription id")]
TokenQuery = Annotated[str, Query(min_length=1, max_length=200, description="the unsubscribe token")]


def _owned(store: Store, subscription_id: str, token: str) -> Any:
    record = Subscriptions(store).get(subscription_id, token)
    if record is None:
        raise ApiError(404, "no subscription with this id and token",
                       [("token", "unknown subscription or wrong token")])
    return record


@router.post("", status_code=201, response_model=SubscriptionCreated, summary="Subscribe a firm to alerts",
             responses=errors(413, 415), openapi_extra=json_body("SubscriptionRequest", example=_EXAMPLE))
def create_subscription(caller: PublicDep, body: Annotated[SubscriptionRequest, Depends(_body)],
                        store: StoreDep, matcher: MatcherDep, settings: SettingsDep) -> Any:
    """Store the profile for alerts (``consent: true`` is required). The firm's current
    matches are recorded as known: it is alerted only to what changes from now on (a policy
    newly eligible or undetermined, a deadline within 14 days, a policy it held that ended).
    The token and secret are shown only in this answer."""
    record, token = subscribe(store, matcher, body, AlertsConfig.from_settings(settings),
                              key_id=caller.key_id, role=str(caller.role))
    return {"id": record.id, "unsubscribe_token": token, "secret": record.secret, "expires_at": record.expires_at}


@router.get("/{subscription_id}", response_model=SubscriptionView, responses=errors(404),
            summary="What is stored for a subscription")
def show_subscription(caller: PublicDep, subscription_id: IdPath, token: TokenQuery, store: StoreDep) -> Any:
    record = _owned(store, subscription_id, token)
    alerts = [{k: row[k] for k in ("policy_id", "kind", "window", "channel", "state", "attempts")}
              for row in Subscriptions(store).outbox(record.id)]
    return {"id": record.id, "firm_id": record.firm_id, "profile": record.profile, "webhook_url": record.webhook_url,
            "email": record.email,
            "families": record.families, "policies": record.policies, "consent_at": record.consent_at,
            "consent_by": record.consent_by, "created_at": record.created_at, "expires_at": record.expires_at,
            "alerts": alerts}


@router.delete("/{subscription_id}", status_code=204, response_class=Response, responses=errors(404),
               summary="Unsubscribe: delete the subscription and its profile")
def delete_subscription(caller: PublicDep, subscription_id: IdPath, token: TokenQuery, store: StoreDep,
                        matcher: MatcherDep) -> Response:
    record = _owned(store, subscription_id, token)
    unsubscribe(store, matcher, record.id, key_id=caller.key_id, role=str(caller.role))
    return Response(status_code=204)


SigQuery = Annotated[str, Query(max_length=128, description="the signature of the e-mail's unsubscribe link")]


@router.get("/{subscription_id}/unsubscribe", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_page(request: Request, subscription_id: IdPath, store: StoreDep, sig: SigQuery = "") -> HTMLResponse:
    """The unsubscribe link of an alert e-mail: a page asking to confirm (a GET never deletes:
    mail scanners open links)."""
    record = by_unsubscribe_link(Subscriptions(store), subscription_id, sig)
    if record is None:
        return render(request, "unsubscribe.html", status_code=404, state="invalid")
    return render(request, "unsubscribe.html", state="confirm", firm_id=record.firm_id,
                  action=f"/v1/subscriptions/{record.id}/unsubscribe?sig={sig}")


@router.post("/{subscription_id}/unsubscribe", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_by_link(request: Request, subscription_id: IdPath, store: StoreDep, matcher: MatcherDep,
                        sig: SigQuery = "") -> HTMLResponse:
    """Delete the subscription and its profile: the page's button, or a mail client's
    one-click unsubscribe (RFC 8058: ``List-Unsubscribe=One-Click`` posted to the link)."""
    record = by_unsubscribe_link(Subscriptions(store), subscription_id, sig)
    if record is None:
        return render(request, "unsubscribe.html", status_code=404, state="invalid")
    unsubscribe(store, matcher, record.id, key_id="unsubscribe-link", role="public")
    return render(request, "unsubscribe.html", state="done")


@router.post("/{subscription_id}/renew", response_model=Renewed, responses=errors(404),
             summary="Keep a subscription for another term")
def renew_subscription(caller: PublicDep, subscription_id: IdPath, token: TokenQuery, store: StoreDep,
                       settings: SettingsDep) -> Any:
    """Extend the subscription by ``RECOMMENDER_SUBSCRIPTION_DAYS`` (365) from now."""
    record = _owned(store, subscription_id, token)
    return {"id": record.id, "expires_at": renew(store, record.id, AlertsConfig.from_settings(settings))}


@router.get("/{subscription_id}/matches", response_model=MatchResult, responses=errors(404),
            summary="The subscribed firm's matches (the page alerts link to)")
def subscription_matches(caller: PublicDep, subscription_id: IdPath, token: TokenQuery, store: StoreDep,
                         matcher: MatcherDep, as_of: AsOfQuery = None) -> Any:
    """The SPEC §5 result of the stored profile (eligible and undetermined policies, best first)."""
    record = _owned(store, subscription_id, token)
    profile = FirmProfile.model_validate(record.profile, context={"ref": matcher.ref})
    return match_response(matcher.match_one(profile, as_of_or_today(as_of), MatchOptions(top_k=None)))


class BulkSubscribed(BaseModel):
    subscribed: list[dict[str, Any]] = Field(description="row, firm_id, id, unsubscribe_token, secret, expires_at: "
                                             "hand each firm its own token and secret (shown only here)")
    rejects: list[dict[str, Any]] = Field(description="row, firm_id, field, reason: not subscribed")


def _listed(text: object) -> list[str]:
    return [t.strip() for t in str(text or "").split(",") if t.strip()]


def _bulk(upload: UploadFile, families: list[str], policies: list[str], caller_key: str, caller_role: str,
          store: Store, matcher: Matcher, settings: Settings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    suffix = upload_suffix(upload, SPREADSHEET_TYPES)
    with tempfile.TemporaryDirectory(prefix="subscribe-") as tmp:
        path = FilePath(tmp) / f"registry{suffix}"
        if save_upload(upload, path) == 0:
            raise ApiError(422, "the uploaded file is empty", [("file", "empty file")])
        return subscribe_registry(store, matcher, path, AlertsConfig.from_settings(settings), families=families,
                                  policies=policies, key_id=caller_key, role=caller_role,
                                  max_rows=settings.max_screen_applicants)


@router.post("/bulk", status_code=201, response_model=BulkSubscribed, responses=errors(413, 415),
             summary="Subscribe the consenting firms of a registry")
def bulk_subscribe(
    caller: CaseworkerDep, store: StoreDep, matcher: MatcherDep, settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV or XLSX: SPEC §2 columns plus consent (a yes/no cell "
                                                 "per firm) and webhook_url")],
    families: Annotated[str | None, Form(max_length=2000, description="comma-separated families of interest "
                                                                      "(default: every policy)")] = None,
    policies: Annotated[str | None, Form(max_length=20_000, description="comma-separated policy ids of "
                                                                        "interest")] = None,
) -> Any:
    """A caseworker uploads a registry with each firm's consent (``consent`` column) and
    webhook (``webhook_url`` column); every consenting, valid row is subscribed (its current
    matches known), every other row is listed under ``rejects`` with the field and reason."""
    wanted_families, wanted_policies = _listed(families), _listed(policies)
    known_families = {p.header.family for p in matcher.catalog}
    bad = [(f"body.families.{i}", f"unknown family {f!r}") for i, f in enumerate(wanted_families)
           if f not in known_families]
    bad += [(i.field, i.reason) for i in interest_issues(wanted_policies, matcher.catalog, prefix="body.")]
    if bad:
        raise ApiError(422, "unknown families or policies of interest", bad[:50])
    subscribed, rejects = _bulk(file, wanted_families, wanted_policies, caller.key_id, str(caller.role), store,
                                matcher, settings)
    return {"subscribed": subscribed, "rejects": rejects}
