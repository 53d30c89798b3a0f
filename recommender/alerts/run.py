"""Subscribing, unsubscribing, ``alerts run`` and the caseworker's outreach list.

``run_alerts`` (the command ``recommender alerts run`` and the service's periodic task):

1. take the ``alerts-run`` lease (a conditional update on one database row: one host at a
   time; a second runner returns at once with ``lease: busy``);
2. delete expired subscriptions (their profiles with them; audited);
3. for every subscription: match its profile as of ``as_of`` against the current catalog
   (every policy, the one-firm path), compare with its known state
   (:mod:`recommender.alerts.changes`) and, in one transaction, write the alerts to the
   outbox (each ``(subscription, policy, kind, window)`` at most once, ever) and store the
   new known state;
4. deliver what is due (:mod:`recommender.alerts.delivery`: webhooks, and e-mails through
   :mod:`recommender.alerts.mail` where an SMTP server is set), release the lease.

A crash anywhere leaves nothing half done: an alert is in the outbox with the state that
produced it, or neither is; the next run delivers what is pending.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from recommender.alerts.changes import CANDIDATES, alerts_for, current_state
from recommender.alerts.delivery import (DeliveryPolicy, Sender, Transport, deliver_due, webhook_sender,
                                         webhook_transport)
from recommender.alerts.mail import Mailer, MailServer, email_transport, smtp_mailer
from recommender.alerts.subscription import SubscriptionRequest, interested, store_subscription
from recommender.matching import MatchOptions, Matcher
from recommender.profile import FirmProfile, profiles_to_frame
from recommender.rules import Policy
from recommender.settings import Settings
from recommender.store import Store, SubscriptionRecord, Subscriptions

log = logging.getLogger("recommender.alerts")
LEASE = "alerts-run"
EVERY_POLICY = MatchOptions(top_k=None, include_all=True)


@dataclass(frozen=True)
class AlertsConfig:
    """What a run needs from the settings."""

    base_url: str = "http://127.0.0.1:8000"
    delivery: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    subscription_days: int = 365
    lease_seconds: float = 900.0
    mail: MailServer | None = None
    """The SMTP server of the e-mail channel; ``None``: e-mail delivery is off."""

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertsConfig:
        return cls(base_url=settings.public_base_url.rstrip("/"), subscription_days=settings.subscription_days,
                   delivery=DeliveryPolicy(max_attempts=settings.alert_max_attempts,
                                           retry_seconds=settings.alert_retry_seconds,
                                           timeout_seconds=settings.webhook_timeout_seconds),
                   mail=MailServer.from_settings(settings))

    @property
    def email_enabled(self) -> bool:
        return self.mail is not None

    def transports(self, sender: Sender | None = None, mailer: Mailer | None = None) -> dict[str, Transport]:
        """The delivery channels: the webhook always, e-mail where a server is set (``sender``
        and ``mailer`` replace the real network calls)."""
        channels = {"webhook": webhook_transport(sender or webhook_sender(self.delivery.timeout_seconds))}
        if self.mail is not None:
            channels["email"] = email_transport(mailer or smtp_mailer(self.mail), self.mail.from_address,
                                                self.base_url)
        return channels

    def link(self, subscription_id: str) -> str:
        """The firm's result page (its matches today; add ``?token=`` to open it)."""
        return f"{self.base_url}/v1/subscriptions/{subscription_id}/matches#{{policy_id}}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def evaluate(matcher: Matcher, profile: FirmProfile, as_of: dt.date) -> dict[str, Any]:
    """The firm's SPEC §5 result listing every policy (the rule order: the rank does not matter here)."""
    return matcher.match_one(profile, as_of, EVERY_POLICY, "rules")


def _audit(store: Store, matcher: Matcher, key_id: str, role: str, action: str, subscription_id: str,
           n_firms: int = 1) -> None:
    store.audit(key_id=key_id, role=role, action=action, job_id=subscription_id, n_firms=n_firms,
                catalog_version=matcher.catalog_version, model_version=matcher.model_version)


def subscribe(store: Store, matcher: Matcher, request: SubscriptionRequest, config: AlertsConfig, *,
              key_id: str, role: str, consent_by: str = "firm",
              today: dt.date | None = None) -> tuple[SubscriptionRecord, str]:
    """Store a subscription whose current matches (as of ``today``) are known: no alert for
    them. Audited (``subscription_created``). ``(record, unsubscribe_token)``."""
    if request.email is not None and not config.email_enabled:
        raise ValueError("e-mail delivery is off on this service: the subscription needs a webhook_url")
    day = today or dt.date.today()
    known = current_state(evaluate(matcher, request.profile, day), list(request.families), request.policies)
    record, token = store_subscription(Subscriptions(store), request, known, consent_by=consent_by,
                                       days=config.subscription_days, now=_now())
    _audit(store, matcher, key_id, role, "subscription_created", record.id)
    return record, token


def unsubscribe(store: Store, matcher: Matcher, subscription_id: str, *, key_id: str, role: str,
                action: str = "subscription_deleted") -> bool:
    """Delete a subscription, its profile and its pending alerts; audited. Whether it existed."""
    gone = Subscriptions(store).delete(subscription_id)
    if gone:
        _audit(store, matcher, key_id, role, action, subscription_id)
    return gone


def renew(store: Store, subscription_id: str, config: AlertsConfig) -> dt.datetime:
    """Extend a subscription by ``subscription_days`` from now; the new expiry."""
    until = _now() + dt.timedelta(days=config.subscription_days)
    Subscriptions(store).renew(subscription_id, until)
    return until


def _profile(record: SubscriptionRecord, matcher: Matcher) -> FirmProfile | None:
    try:
        return FirmProfile.model_validate(record.profile, context={"ref": matcher.ref})
    except ValidationError as err:          # e.g. reference tables changed; the figures are not logged
        log.warning("subscription %s: the stored profile no longer validates (%d issue(s)); skipped",
                    record.id, err.error_count())
        return None


def run_alerts(store: Store, matcher: Matcher, config: AlertsConfig, *, as_of: dt.date | None = None,
               sender: Sender | None = None, mailer: Mailer | None = None, holder: str | None = None,
               use_lease: bool = True, now: dt.datetime | None = None) -> dict[str, Any]:
    """Evaluate every subscription and deliver the alerts due (module docstring).

    Parameters
    ----------
    as_of : date, optional
        The evaluation date (default: today).
    sender : callable, optional
        Posts a webhook (default: :func:`~recommender.alerts.delivery.webhook_sender`).
    mailer : callable, optional
        Hands an e-mail to the server (default: :func:`~recommender.alerts.mail.smtp_mailer`
        of ``config.mail``; unused while e-mail delivery is off).
    holder : str, optional
        Who holds the lease (default: host, process and thread).
    use_lease : bool, default True
        False skips the lease (tests of what the outbox alone guarantees).

    Returns
    -------
    dict
        ``as_of``, ``lease`` (``held`` or ``busy``), ``subscriptions`` evaluated, ``skipped``
        (stored profile invalid), ``expired``, ``alerts`` written, ``delivered``, ``retrying``, ``dead``.
    """
    day = as_of or dt.date.today()
    summary: dict[str, Any] = {"as_of": day.isoformat(), "lease": "held", "subscriptions": 0, "skipped": 0,
                               "expired": 0, "alerts": 0, "delivered": 0, "retrying": 0, "dead": 0}
    subs = Subscriptions(store)
    who = holder or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:64]
    if use_lease and not subs.take_lease(LEASE, who, config.lease_seconds):
        summary["lease"] = "busy"
        return summary
    try:
        moment = now or _now()
        for sid in subs.expired(moment):
            summary["expired"] += unsubscribe(store, matcher, sid, key_id="alerts", role="system",
                                              action="subscription_expired")
        for sid in subs.ids():
            record = subs.load(sid)
            profile = None if record is None else _profile(record, matcher)
            if record is None or profile is None:
                summary["skipped"] += record is not None
                continue
            result = evaluate(matcher, profile, day)
            current = current_state(result, record.families, record.policies)
            alerts = alerts_for(record.known, current, result, day, config.link(sid))
            summary["alerts"] += subs.record_run(sid, alerts, current, moment)
            summary["subscriptions"] += 1
        counts = deliver_due(store, config.transports(sender, mailer), config.delivery,
                             catalog_version=matcher.catalog_version, model_version=matcher.model_version,
                             now=moment)
        summary.update(delivered=counts.delivered, retrying=counts.retrying, dead=counts.dead)
    finally:
        if use_lease:
            subs.release_lease(LEASE, who)
    log.info("alerts run %s: %d subscription(s), %d alert(s) written, %d delivered, %d to retry, %d dead",
             day, summary["subscriptions"], summary["alerts"], summary["delivered"], summary["retrying"],
             summary["dead"])
    return summary


def outreach(store: Store, matcher: Matcher, policy: Policy, as_of: dt.date,
             keep: Sequence[str] = CANDIDATES) -> list[dict[str, Any]]:
    """Screening rows (eligible first) of the subscribed firms interested in ``policy``
    that qualify for it on ``as_of``: the 免申即享 outreach list. One row per firm id (the
    most recent subscription's profile)."""
    subs = Subscriptions(store)
    profiles: dict[str, FirmProfile] = {}
    for sid in subs.ids():
        record = subs.load(sid)
        if record is None or not interested(policy.id, policy.header.family, record.families, record.policies):
            continue
        profile = _profile(record, matcher)
        if profile is not None:
            profiles[profile.firm_id] = profile
    if not profiles:
        return []
    return matcher.screen(policy, profiles_to_frame(list(profiles.values())), as_of, keep=tuple(keep))
