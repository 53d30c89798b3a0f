"""Delivering the outbox: one signed webhook POST (or one e-mail, :mod:`recommender.alerts.mail`)
per batch of a subscription's alerts on a channel.

The body is ``{"subscription_id": …, "alerts": [...]}`` (SPEC §10) as compact UTF-8 JSON,
built from the stored alerts in outbox order, so every retry sends the same bytes. Headers:
``Content-Type: application/json``, ``Idempotency-Key: <batch id>`` (the same on every
retry of the batch) and ``X-Signature: sha256=<hex HMAC-SHA256 of the body with the
subscription's secret>``. A receiver checks the signature over the raw body and drops a
repeated Idempotency-Key: a POST is repeated only after a failure (no 2xx answer) or when a
runner died before recording the answer.

A 2xx answer delivers the batch; anything else (an error status, a redirect — never
followed —, a refused connection, a timeout) is a failed attempt, retried after
``retry_seconds × 2^(attempt − 1)`` (at most a day) until ``max_attempts``, then the batch
is dead-lettered (``dead``; ``recommender alerts outbox`` lists it); a failure the channel
knows to be permanent (an SMTP 5xx: no such mailbox) is dead-lettered at once. Every delivery
and every failed attempt is written to the audit log, with the subscription id and policy,
never the payload.

A channel is a *transport*: a function that sends one claimed :class:`Delivery` or raises
:class:`DeliveryFailed`. :func:`deliver_due` takes one per channel; a batch on a channel it
has no transport for (e-mail after the SMTP server was unset) fails its attempt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from recommender.store import Delivery, Store, Subscriptions

log = logging.getLogger("recommender.alerts")
MAX_RETRY_SECONDS = 86_400.0
DELIVERY_THREADS = 8
"""Webhook POSTs in flight at once during a run."""
Sender = Callable[[str, bytes, dict[str, str]], None]
"""``sender(url, body, headers)``: POST, raising :class:`DeliveryFailed` unless answered 2xx."""
Transport = Callable[[Delivery], None]
"""Sends one claimed batch on its channel, raising :class:`DeliveryFailed` unless it was accepted."""


class DeliveryFailed(Exception):
    """An attempt was not accepted (no 2xx answer, a refused e-mail); the reason is logged and
    stored (no payload). ``permanent``: retrying cannot help (dead-lettered at once)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class DeliveryPolicy:
    """How deliveries are attempted (from :class:`~recommender.settings.Settings`)."""

    max_attempts: int = 6
    retry_seconds: float = 60.0
    timeout_seconds: float = 10.0


def body_bytes(subscription_id: str, alerts: list[dict[str, Any]]) -> bytes:
    """The webhook body: compact UTF-8 JSON, keys in their documented order."""
    return json.dumps({"subscription_id": subscription_id, "alerts": alerts}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """The ``X-Signature`` header value: ``sha256=`` and the hex HMAC-SHA256 of ``body``.

    >>> signature("s3cret", b'{"a":1}')
    'sha256=5910e62016ef5034272c926c27071992a465c2335cecf41851bda071577f4f6d'
    """
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None                                   # a 3xx is then an HTTPError: a failed attempt


def webhook_sender(timeout: float) -> Sender:
    """The real sender: urllib POST with ``timeout`` seconds to connect and to read, no
    redirects, no proxies from the environment."""
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))

    def send(url: str, body: bytes, headers: dict[str, str]) -> None:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with opener.open(request, timeout=timeout) as answer:
                status = int(answer.status)
        except urllib.error.HTTPError as err:
            raise DeliveryFailed(f"HTTP {err.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            raise DeliveryFailed(f"{type(err).__name__}: {reason}"[:200]) from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"HTTP {status}")

    return send


def webhook_transport(sender: Sender) -> Transport:
    """The webhook channel: the batch as the SPEC §10 body, POSTed with its Idempotency-Key and
    X-Signature headers through ``sender``."""
    def send(d: Delivery) -> None:
        body = body_bytes(d.subscription_id, d.payloads)
        headers = {"Content-Type": "application/json", "Idempotency-Key": d.batch,
                   "X-Signature": signature(d.secret, body), "User-Agent": "recommender-alerts/1"}
        sender(d.target, body, headers)
    return send


def retry_delay(attempts: int, policy: DeliveryPolicy) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones (doubling, at most a day).

    >>> [retry_delay(n, DeliveryPolicy(retry_seconds=60)) for n in (1, 2, 3)]
    [60.0, 120.0, 240.0]
    """
    return min(policy.retry_seconds * 2.0 ** (attempts - 1), MAX_RETRY_SECONDS)


@dataclass
class DeliveryCounts:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0


def _attempt(subs: Subscriptions, d: Delivery, transports: Mapping[str, Transport], policy: DeliveryPolicy,
             audit: Callable[..., None]) -> tuple[str, int]:
    """Send one claimed batch on its channel and record the answer; ``(outcome, alerts)`` with
    outcome ``delivered``, ``retrying`` or ``dead``."""
    try:
        transport = transports.get(d.channel)
        if transport is None:
            raise DeliveryFailed(f"{d.channel} delivery is off on this service")
        transport(d)
    except DeliveryFailed as err:
        give_up = err.permanent or d.attempts >= policy.max_attempts
        retry_at = None if give_up else d.claimed_at + dt.timedelta(seconds=retry_delay(d.attempts, policy))
        subs.failed(d.batch, str(err), retry_at=retry_at)
        log.warning("alerts for subscription %s (%s): attempt %d failed (%s)%s", d.subscription_id, d.channel,
                    d.attempts, err,
                    "; dead-lettered" if give_up else f"; next attempt at {retry_at:%Y-%m-%d %H:%M:%S}Z")
        audit(action="alert_dead" if give_up else "alert_attempt_failed", job_id=d.subscription_id,
              n_firms=1, policy_id=None)
        return ("dead" if give_up else "retrying"), len(d.payloads)
    subs.delivered(d.batch)
    for pid in d.policy_ids:
        audit(action="alert_emailed" if d.channel == "email" else "alert_delivered", job_id=d.subscription_id,
              n_firms=1, policy_id=pid)
    return "delivered", len(d.payloads)


def deliver_due(store: Store, transports: Mapping[str, Transport], policy: DeliveryPolicy, *,
                catalog_version: str, model_version: str, now: dt.datetime | None = None) -> DeliveryCounts:
    """Attempt every batch due at ``now`` (default: now), :data:`DELIVERY_THREADS` at a time
    (a slow receiver holds one thread, not the run); the alerts delivered, to be retried and
    dead-lettered by this call."""
    subs = Subscriptions(store)
    now = now or dt.datetime.now(dt.timezone.utc)

    def audit(**fields: Any) -> None:
        store.audit(key_id="alerts", role="system", catalog_version=catalog_version, model_version=model_version,
                    **fields)

    def one(batch: str) -> tuple[str, int]:
        # the claim runs from when it is made (a long run's start may be long past), or from
        # ``now`` when that is later (a test's clock)
        at = max(now, dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
        delivery = subs.claim(batch, due=now, at=at, claim_seconds=2 * policy.timeout_seconds + 30)
        if delivery is None:                           # another runner has it
            return "skipped", 0
        return _attempt(subs, delivery, transports, policy, audit)

    subs.release_stale(now)
    counts = DeliveryCounts()
    batches = subs.due_batches(now)
    with ThreadPoolExecutor(max_workers=DELIVERY_THREADS, thread_name_prefix="alert-delivery") as pool:
        for outcome, n in pool.map(one, batches):
            if outcome != "skipped":
                setattr(counts, outcome, getattr(counts, outcome) + n)
    return counts
