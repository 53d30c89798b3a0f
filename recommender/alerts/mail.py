"""E-mail, the optional second alert channel: one message per batch of a subscription's alerts.

Off unless the service has an SMTP server (``RECOMMENDER_SMTP_HOST``; port, security, login
and From address beside it). The message carries the alerts twice:

* as text a person reads (Chinese and English): per alert, what happened, the policy, the
  verdict, the estimated value in 万元, the closing date, why, and the link to the firm's
  result page;
* as ``alerts.json``, an attachment holding exactly the bytes a webhook would receive (SPEC
  §10 body), signed the same way: header ``X-Signature: sha256=<HMAC of the attachment with
  the subscription's secret>``, so a firm's system can trust a forwarded message too.

Every message carries the subscription's unsubscribe link, in the text and as
``List-Unsubscribe`` with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 2369,
RFC 8058), so a mail client's "unsubscribe" button works.

``Message-ID`` is ``<batch id@recommender-alerts>``: the same on every retry of a batch (the
idempotency key of the e-mail channel). The address, like every firm figure, is never logged.

A recipient or a message the server refuses with a 5xx (no such mailbox, message rejected) is a
permanent failure: dead-lettered at once. Anything else — a 4xx, a refused connection, a
timeout, a certificate that does not verify, a refused login or sender (configuration the
operator can fix) — is retried with the webhook's back-off. TLS certificates are always
verified: against ``RECOMMENDER_SMTP_CA_FILE`` when set (an intranet CA), else the system's.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Literal

from recommender.alerts.delivery import DeliveryFailed, Transport, body_bytes, signature
from recommender.alerts.subscription import unsubscribe_link
from recommender.settings import Settings
from recommender.store import Delivery

Mailer = Callable[[str, EmailMessage], None]
"""``mailer(to, message)``: hand the message to the mail server, raising :class:`DeliveryFailed`."""

_POLICY = email.policy.SMTP.clone(max_line_length=998)
"""Headers are not folded below RFC 5322's hard limit: ``X-Signature`` (84 characters) stays
one token, which a folded header would not be after parsing (a leading space)."""

KIND_LABELS = {"new_match": "新的适用政策 / New match", "deadline": "申报即将截止 / Deadline near",
               "ended": "政策已结束或不再适用 / Ended or no longer applies"}
VERDICT_LABELS = {"eligible": "符合 / eligible", "undetermined": "待确认（信息不足） / undetermined (facts missing)",
                  "ineligible": "不符合 / not eligible"}


@dataclass(frozen=True)
class MailServer:
    """Where and how alert e-mails are sent (from :class:`~recommender.settings.Settings`)."""

    host: str
    port: int = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str | None = None
    password: str | None = None
    from_address: str = "policy-alerts@localhost"
    timeout_seconds: float = 10.0
    ca_file: Path | None = None

    def tls_context(self) -> ssl.SSLContext:
        """Certificates verified, host name checked; trusting ``ca_file`` when set, else the system."""
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    @classmethod
    def from_settings(cls, settings: Settings) -> MailServer | None:
        """The configured server, or ``None`` when e-mail delivery is off."""
        if not settings.smtp_host:
            return None
        return cls(host=settings.smtp_host, port=settings.smtp_port, security=settings.smtp_security,
                   user=settings.smtp_user,
                   password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
                   from_address=settings.smtp_from, timeout_seconds=settings.smtp_timeout_seconds,
                   ca_file=settings.smtp_ca_file)


def _wan(yuan: Any) -> str:
    return "—" if yuan is None else f"{float(yuan) / 10_000:,.1f} 万元"


def alert_text(d: Delivery, base_url: str) -> str:
    """The readable part of the message (Chinese, then English, on each line); ``base_url``:
    the service as firms reach it (for the unsubscribe link)."""
    lines = [f"您订阅的政策提醒有 {len(d.payloads)} 条更新。/ {len(d.payloads)} policy alert(s) for your subscription.",
             ""]
    for a in d.payloads:
        lines += [f"【{KIND_LABELS.get(str(a.get('kind')), a.get('kind'))}】{a.get('title') or a.get('policy_id')} "
                  f"({a.get('policy_id')})",
                  f"  结论 / verdict: {VERDICT_LABELS.get(str(a.get('verdict')), a.get('verdict'))}",
                  f"  估计价值 / estimated value: {_wan(a.get('estimated_benefit'))}",
                  f"  申报截止 / closes on: {a.get('closes_on') or '—'}"]
        lines += [f"  原因 / why: {r}" for r in a.get("reasons") or []]
        if a.get("link"):
            lines.append(f"  详情 / details: {a['link']}")
        lines.append("")
    lines += ["以上为系统根据您提交的企业信息自动生成的提醒，以主管部门发布的政策原文为准。",
              "These alerts are computed from the profile you gave; the published policy text prevails.",
              f"退订 / unsubscribe: {unsubscribe_link(base_url, d.subscription_id, d.secret)}",
              "机器可读内容见附件 alerts.json（X-Signature 为其 HMAC 签名）。"
              "/ alerts.json holds the same alerts as a webhook body, signed in X-Signature."]
    return "\n".join(lines) + "\n"


def alert_message(d: Delivery, from_address: str, base_url: str) -> EmailMessage:
    """The e-mail of one claimed batch (module docstring): the same bytes in ``alerts.json``
    and the same ``Message-ID`` on every retry."""
    body = body_bytes(d.subscription_id, d.payloads)
    message = EmailMessage(policy=_POLICY)
    message["From"] = from_address
    message["To"] = d.target
    message["Subject"] = f"政策提醒 / Policy alerts ({len(d.payloads)})"
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{d.batch}@recommender-alerts>"
    message["X-Signature"] = signature(d.secret, body)
    message["X-Subscription-Id"] = d.subscription_id
    message["List-Unsubscribe"] = f"<{unsubscribe_link(base_url, d.subscription_id, d.secret)}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(alert_text(d, base_url), charset="utf-8", cte="base64")   # 7-bit safe through any relay
    message.add_attachment(body, maintype="application", subtype="json", filename="alerts.json")
    return message


def smtp_mailer(server: MailServer) -> Mailer:
    """The real mailer: one SMTP conversation per message, ``timeout_seconds`` for the
    connection and each answer, TLS as configured (certificates verified), login if a user is set."""
    def send(to: str, message: EmailMessage) -> None:
        try:
            if server.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout_seconds,
                                                        context=server.tls_context())
            else:
                client = smtplib.SMTP(server.host, server.port, timeout=server.timeout_seconds)
            with client:
                if server.security == "starttls":
                    client.starttls(context=server.tls_context())
                if server.user:
                    client.login(server.user, server.password or "")
                client.send_message(message, from_addr=server.from_address, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as err:
            [(code, _)] = err.recipients.values()
            raise DeliveryFailed(f"SMTP {code}: the recipient was refused", permanent=500 <= code < 600) from None
        except smtplib.SMTPDataError as err:
            raise DeliveryFailed(f"SMTP {err.smtp_code}: the message was refused",
                                 permanent=500 <= err.smtp_code < 600) from None
        except smtplib.SMTPAuthenticationError as err:
            raise DeliveryFailed(f"SMTP {err.smtp_code}: the login was refused (RECOMMENDER_SMTP_USER, "
                                 "RECOMMENDER_SMTP_PASSWORD)") from None
        except smtplib.SMTPResponseException as err:
            raise DeliveryFailed(f"SMTP {err.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as err:
            raise DeliveryFailed(f"{type(err).__name__}: {err}"[:200]) from None
    return send


def email_transport(mailer: Mailer, from_address: str, base_url: str) -> Transport:
    """The e-mail channel: the batch's message handed to ``mailer``."""
    def send(d: Delivery) -> None:
        mailer(d.target, alert_message(d, from_address, base_url))
    return send
