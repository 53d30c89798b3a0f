"""What a firm sends to subscribe (SPEC §10) and how a subscription is made.

The body reuses :class:`~recommender.profile.FirmProfile` (validated with the reference
tables as pydantic context, like ``POST /v1/match``), adds the delivery targets, the
interests and the consent, and forbids anything else.

Delivery targets: a ``webhook_url`` (SPEC §10), an ``email`` address, or both. E-mail is a
second channel that is off unless the service has an SMTP server (``RECOMMENDER_SMTP_HOST``):
the validation context's ``email_enabled`` says whether it is on; while it is off an address
is refused naming ``email``, and a body without a webhook URL is refused naming
``webhook_url``, exactly as SPEC §10 reads.

Webhook URLs: ``http`` or ``https`` with a host, at most 2,000 characters, no user name or
password in them (a credential in a URL ends up in logs and proxies) and no fragment.
Private-network addresses are allowed on purpose: government intranets deliver to hosts such
as ``10.x`` or ``192.168.x``; the service never follows a redirect and never shows the
receiver's answer to anyone but the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from recommender.errors import FieldIssue
from recommender.profile import FirmProfile
from recommender.rules import Catalog, Family
from recommender.store import NewSubscription, SubscriptionRecord, Subscriptions

MAX_URL_CHARS = 2000
MAX_INTERESTS = 200
MAX_EMAIL_CHARS = 254
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _one_token(text: str, max_chars: int) -> None:
    """Refuse a delivery target longer than ``max_chars`` or with a space or a control character."""
    if len(text) > max_chars:
        raise ValueError(f"at most {max_chars} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("spaces and control characters are not allowed")


def check_email(address: str) -> str:
    """``address`` if it is a plain mailbox this service sends to: ``local@domain``, ASCII
    (an internationalised domain in its ``xn--`` form), at most 254 characters, no display
    name, no spaces or line breaks (nothing that could add a mail header). A domain of one
    label (an intranet host) is allowed.

    Raises
    ------
    ValueError
        Saying what is wrong.

    Examples
    --------
    >>> check_email("zhang.san@firm.example.cn")
    'zhang.san@firm.example.cn'
    >>> check_email("a@b.cn\\r\\nBcc: x@y.cn")
    Traceback (most recent call last):
    ...
    ValueError: spaces and control characters are not allowed
    """
    _one_token(address, MAX_EMAIL_CHARS)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("an address such as name@example.cn is expected")
    if len(local) > 64 or not _LOCAL.fullmatch(local):
        raise ValueError("the part before @ is not a plain mailbox name (ASCII letters, digits, . and "
                         "!#$%&'*+/=?^_`{|}~- only)")
    if not all(_LABEL.fullmatch(label) for label in domain.split(".")):
        raise ValueError("the domain is not a host name (letters, digits and - between dots; "
                         "an internationalised one in its xn-- form)")
    return address


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
    _one_token(url, MAX_URL_CHARS)
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
    """``POST /v1/subscriptions`` (SPEC §10): a profile, a webhook and/or an e-mail address,
    interests, consent. Validate with ``context={"ref": …, "email_enabled": …}``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "profile": {"firm_id": "CQ-001", "region_code": "500112", "industry_code": "C3670", "employees": 180},
        "webhook_url": "https://firm.example.cn/hooks/policy", "families": ["innovation"], "consent": True}]})

    profile: FirmProfile
    email: str | None = Field(None, description="an address the alerts are e-mailed to, where the service has "
                              "e-mail delivery on (an SMTP server); with or instead of webhook_url")
    webhook_url: str | None = Field(None, validate_default=True, description="http(s) URL the alerts are POSTed "
                                    "to (no credentials in it); required unless an email is given")
    families: list[Family] = Field(default_factory=list, max_length=MAX_INTERESTS,
                                   description="policy families of interest (with policies: either matches)")
    policies: list[str] = Field(default_factory=list, max_length=MAX_INTERESTS,
                                description="catalog policy ids of interest; none of either: every policy")
    consent: Literal[True] = Field(description="true: the firm agrees that its profile is stored, evaluated "
                                   "and alerts are sent, until it unsubscribes or the subscription expires")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not (info.context or {}).get("email_enabled", False):
            raise ValueError("e-mail delivery is off on this service (no SMTP server is set): give a webhook_url")
        return check_email(value)

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if "email" in info.data and info.data["email"] is None:     # (absent from data: the email is refused)
                enabled = (info.context or {}).get("email_enabled", False)
                raise ValueError("a webhook_url is required" + (" (or an email)" if enabled else ""))
            return None
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


def unsubscribe_signature(secret: str, subscription_id: str) -> str:
    """The ``sig`` of a subscription's unsubscribe link (its e-mails carry it): the hex
    HMAC-SHA256 of ``unsubscribe:<id>`` with the subscription's secret. It can only delete the
    subscription, as the unsubscribe token can; anyone holding one of the firm's e-mails may."""
    return hmac.new(secret.encode("utf-8"), f"unsubscribe:{subscription_id}".encode("utf-8"),
                    hashlib.sha256).hexdigest()


def unsubscribe_link(base_url: str, subscription_id: str, secret: str) -> str:
    """The page that unsubscribes (a confirmation on GET, the deletion on POST; RFC 8058 one-click)."""
    sig = unsubscribe_signature(secret, subscription_id)
    return f"{base_url}/v1/subscriptions/{subscription_id}/unsubscribe?sig={sig}"


def by_unsubscribe_link(subs: Subscriptions, subscription_id: str, sig: str) -> SubscriptionRecord | None:
    """The subscription whose unsubscribe link this is (compared in constant time), or ``None``
    (unknown id and wrong signature alike)."""
    record = subs.load(subscription_id)
    if record is None or not hmac.compare_digest(unsubscribe_signature(record.secret, record.id), sig):
        return None
    return record


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
        email=request.email,
        families=list(request.families), policies=list(dict.fromkeys(request.policies)),
        profile=profile_json(request.profile), known=known, consent_by=consent_by,
        expires_at=now + dt.timedelta(days=days)))
    return record, token
