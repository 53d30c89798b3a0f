"""What a firm sends to subscribe (SPEC §10) and how a subscription is made.

The body reuses :class:`~recommender.profile.FirmProfile` (validated with the reference
tables as pydantic context, like ``POST /v1/match``), adds the delivery target, the
interests and the consent, and forbids anything else.

Webhook URLs: ``http`` or ``https`` with a host, at most 2,000 characters, no user name or
password in them (a credential in a URL ends up in logs and proxies) and no fragment.
Private-network addresses are allowed on purpose: government intranets deliver to hosts such
as ``10.x`` or ``192.168.x``; the service never follows a redirect and never shows the
receiver's answer to anyone but the log.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from recommender.errors import FieldIssue
from recommender.profile import FirmProfile
from recommender.rules import Catalog, Family
from recommender.store import NewSubscription, SubscriptionRecord, Subscriptions

MAX_URL_CHARS = 2000
MAX_INTERESTS = 200


def check_webhook_url(url: str) -> str:
    """``url`` if it is a webhook target this service delivers to (see the module docstring).

    Raises
    ------
    ValueError
        Saying what is wrong: scheme, host, credentials, fragment, length, spaces.

    Examples
    --------
    >>> check_webhook_url("https://10.1.2.3:8443/hook?x=1")
    'https://10.1.2.3:8443/hook?x=1'
    >>> check_webhook_url("ftp://example.org/")
    Traceback (most recent call last):
    ...
    ValueError: the scheme must be http or https, not 'ftp'
    """
    if len(url) > MAX_URL_CHARS:
        raise ValueError(f"at most {MAX_URL_CHARS} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise ValueError("spaces and control characters are not allowed")
    try:
        parts = urlsplit(url)
        port = parts.port                     # raises on a port out of range or not a number
    except ValueError as err:
        raise ValueError(f"not a URL: {err}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"the scheme must be http or https, not {parts.scheme!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in the URL are not allowed (the receiver checks X-Signature instead)")
    if not parts.hostname:
        raise ValueError("a host is required")
    if parts.fragment:
        raise ValueError("a fragment (#…) is not allowed")
    del port
    return url


class SubscriptionRequest(BaseModel):
    """``POST /v1/subscriptions`` (SPEC §10): a profile, a webhook, interests, consent."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "profile": {"firm_id": "CQ-001", "region_code": "500112", "industry_code": "C3670", "employees": 180},
        "webhook_url": "https://firm.example.cn/hooks/policy", "families": ["innovation"], "consent": True}]})

    profile: FirmProfile
    webhook_url: str = Field(description="http(s) URL the alerts are POSTed to (no credentials in it)")
    families: list[Family] = Field(default_factory=list, max_length=MAX_INTERESTS,
                                   description="policy families of interest (with policies: either matches)")
    policies: list[str] = Field(default_factory=list, max_length=MAX_INTERESTS,
                                description="catalog policy ids of interest; none of either: every policy")
    consent: Literal[True] = Field(description="true: the firm agrees that its profile is stored, evaluated "
                                   "and alerts are sent, until it unsubscribes or the subscription expires")

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_webhook_url(value)


def interest_issues(policies: list[str], catalog: Catalog, prefix: str = "") -> list[FieldIssue]:
    """Policy ids that are not in ``catalog`` (field ``<prefix>policies.<i>``)."""
    known = set(catalog.ids)
    return [FieldIssue(f"{prefix}policies.{i}", f"unknown policy id {pid!r}")
            for i, pid in enumerate(policies) if pid not in known]


def interested(policy_id: str, family: str, families: list[str], policies: list[str]) -> bool:
    """Whether a subscription with these interests wants alerts about this policy."""
    if not families and not policies:
        return True
    return policy_id in policies or family in families


def profile_json(profile: FirmProfile) -> dict[str, Any]:
    """The profile as stored: what the firm gave (unset fields left out), JSON types."""
    return profile.model_dump(mode="json", exclude_unset=True)


def new_credentials() -> tuple[str, str]:
    """``(unsubscribe_token, secret)``: 256 random bits each, URL-safe text and hex."""
    return secrets.token_urlsafe(32), secrets.token_hex(32)


def store_subscription(subs: Subscriptions, request: SubscriptionRequest, known: dict[str, Any], *,
                       consent_by: str, days: int, now: dt.datetime) -> tuple[SubscriptionRecord, str]:
    """Store a subscription with its known state; ``(record, unsubscribe_token)`` (the token
    is shown once, here: only its digest is kept)."""
    token, secret = new_credentials()
    record = subs.create(NewSubscription(
        firm_id=request.profile.firm_id, token=token, secret=secret, webhook_url=request.webhook_url,
        families=list(request.families), policies=list(dict.fromkeys(request.policies)),
        profile=profile_json(request.profile), known=known, consent_by=consent_by,
        expires_at=now + dt.timedelta(days=days)))
    return record, token
