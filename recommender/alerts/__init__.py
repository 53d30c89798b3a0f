"""Subscriptions and alerts (issue 24, SPEC §10): a firm subscribes with its profile and a
webhook and/or an e-mail address; ``alerts run`` tells it when a policy newly fits, a deadline nears or a policy it
held ends — each alert once, signed, retried, audited.

The names below are the package's public surface, imported lazily (PEP 562)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.alerts.bulk import subscribe_registry
    from recommender.alerts.changes import DEADLINE_DAYS, alerts_for, current_state
    from recommender.alerts.delivery import (DeliveryFailed, DeliveryPolicy, Sender, body_bytes, signature,
                                             webhook_sender)
    from recommender.alerts.mail import MailServer, Mailer, alert_message, smtp_mailer
    from recommender.alerts.run import AlertsConfig, outreach, renew, run_alerts, subscribe, unsubscribe
    from recommender.alerts.subscription import (SubscriptionRequest, by_unsubscribe_link, check_email,
                                                 check_webhook_url, interest_issues, unsubscribe_link)

_EXPORTS: dict[str, str] = {
    "AlertsConfig": "run",
    "DEADLINE_DAYS": "changes",
    "DeliveryFailed": "delivery",
    "DeliveryPolicy": "delivery",
    "MailServer": "mail",
    "Mailer": "mail",
    "Sender": "delivery",
    "SubscriptionRequest": "subscription",
    "alert_message": "mail",
    "alerts_for": "changes",
    "body_bytes": "delivery",
    "by_unsubscribe_link": "subscription",
    "check_email": "subscription",
    "check_webhook_url": "subscription",
    "current_state": "changes",
    "interest_issues": "subscription",
    "outreach": "run",
    "renew": "run",
    "run_alerts": "run",
    "signature": "delivery",
    "smtp_mailer": "mail",
    "subscribe": "run",
    "subscribe_registry": "bulk",
    "unsubscribe": "run",
    "unsubscribe_link": "subscription",
    "webhook_sender": "delivery",
}
__all__ = [
    "AlertsConfig", "DEADLINE_DAYS", "DeliveryFailed", "DeliveryPolicy", "MailServer", "Mailer", "Sender",
    "SubscriptionRequest", "alert_message", "alerts_for", "body_bytes", "by_unsubscribe_link", "check_email",
    "check_webhook_url", "current_state", "interest_issues", "outreach", "renew", "run_alerts", "signature",
    "smtp_mailer", "subscribe", "subscribe_registry", "unsubscribe", "unsubscribe_link", "webhook_sender",
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
