"""E-mail, the optional second alert channel (issue 24): off by default; with an SMTP server
set, a firm subscribed by address gets one signed e-mail per batch, retried on a temporary
refusal with the same Message-ID, dead-lettered at once on a permanent one, once per channel
when it also has a webhook; over STARTTLS or TLS with a login, certificates always verified.
A real SMTP conversation with a local server every time."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from pydantic import ValidationError

from recommender.alerts import AlertsConfig, MailServer, check_email, run_alerts, subscribe, unsubscribe
from recommender.store import Subscriptions, open_store
from tests.recommender.alerts_kit import AS_OF, FAST, add_policy, catalog_copy, matcher_for, request, settings_for
from tests.recommender.smtp_kit import SmtpServer
from tests.recommender.webhook_kit import Receiver

ADDRESS = "zhang.san@firm.example.cn"


@pytest.fixture(autouse=True)
def _on_backend(on_backend: str) -> str:
    return on_backend


class World:
    """A catalog copy, its matcher, a store, a local mail server and the config that uses it."""

    def __init__(self, root: Path, smtp: SmtpServer) -> None:
        self.catalog = catalog_copy(root)
        self.settings = settings_for(root, self.catalog)
        self.matcher = matcher_for(self.settings)
        self.store = open_store(self.settings.resolved_database_url())
        self.smtp = smtp
        self.config = dataclasses.replace(FAST, mail=MailServer(host="127.0.0.1", port=smtp.port, security="none",
                                                                from_address="alerts@service.test",
                                                                timeout_seconds=5))

    def subscribe(self, **fields: Any) -> tuple[str, str, str]:
        body = request(self.matcher, email_enabled=True, **{"email": ADDRESS, **fields})
        record, token = subscribe(self.store, self.matcher, body, self.config, key_id="anonymous", role="public",
                                  today=AS_OF)
        return record.id, token, record.secret

    def new_policy(self, pid: str = "cn-test-alert-a") -> None:
        add_policy(self.catalog, pid)
        self.matcher = matcher_for(self.settings)

    def run(self) -> dict[str, Any]:
        return run_alerts(self.store, self.matcher, self.config, as_of=AS_OF)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with SmtpServer() as smtp:
        w = World(tmp_path, smtp)
        yield w
        w.store.close()


def test_an_email_subscription_gets_one_signed_email_naming_the_new_policy(world: World) -> None:
    sid, _, secret = world.subscribe()
    assert world.run()["alerts"] == 0
    world.new_policy()
    summary = world.run()
    assert (summary["alerts"], summary["delivered"], summary["retrying"]) == (1, 1, 0)
    [mail] = world.smtp.accepted
    assert (mail.sender, mail.recipients) == ("alerts@service.test", [ADDRESS])
    message = mail.message
    assert message["To"] == ADDRESS and message["From"] == "alerts@service.test"
    assert message["Subject"] == "政策提醒 / Policy alerts (1)"
    [row] = Subscriptions(world.store).outbox()
    assert message["Message-ID"] == f"<{row['batch']}@recommender-alerts>"
    assert (row["channel"], row["state"]) == ("email", "delivered")
    assert mail.signed_by(secret) and not mail.signed_by("another secret")
    link = f"http://service.test/v1/subscriptions/{sid}/matches#cn-test-alert-a"
    expected_sig = hmac.new(secret.encode(), f"unsubscribe:{sid}".encode(), hashlib.sha256).hexdigest()
    leave = f"http://service.test/v1/subscriptions/{sid}/unsubscribe?sig={expected_sig}"
    assert json.loads(mail.attachment()) == {"subscription_id": sid, "alerts": [{
        "policy_id": "cn-test-alert-a", "title": "测试政策A / Test policy A", "kind": "new_match",
        "verdict": "eligible", "estimated_benefit": 4_800_000.0, "closes_on": None,
        "reasons": ["新纳入政策目录 / newly in the catalog"], "link": link}]}
    text = mail.text()
    for line in ("【新的适用政策 / New match】测试政策A / Test policy A (cn-test-alert-a)",
                 "  结论 / verdict: 符合 / eligible", "  估计价值 / estimated value: 480.0 万元",
                 "  申报截止 / closes on: —", "  原因 / why: 新纳入政策目录 / newly in the catalog",
                 f"  详情 / details: {link}", f"退订 / unsubscribe: {leave}"):
        assert line in text.splitlines()
    assert (message["List-Unsubscribe"], message["List-Unsubscribe-Post"]) == (f"<{leave}>",
                                                                              "List-Unsubscribe=One-Click")
    assert world.run()["alerts"] == 0 and len(world.smtp.received) == 1          # never twice
    actions = [(e.action, e.policy_id) for e in world.store.audit_entries() if e.job_id == sid]
    assert actions == [("alert_emailed", "cn-test-alert-a"), ("subscription_created", None)]


def test_a_webhook_and_an_address_each_get_the_alert_once(tmp_path: Path) -> None:
    with SmtpServer() as smtp, Receiver() as hook:
        world = World(tmp_path, smtp)
        sid, _, secret = world.subscribe(webhook_url=hook.url)
        world.new_policy()
        summary = world.run()
        assert (summary["alerts"], summary["delivered"]) == (1, 2)       # one alert, two deliveries
        [post], [mail] = hook.received, smtp.received
        assert post.body == mail.attachment() and post.signed_by(secret) and mail.signed_by(secret)
        assert post.headers["Idempotency-Key"] != mail.message["Message-ID"]  # one batch per channel
        assert sorted(r["channel"] for r in Subscriptions(world.store).outbox()) == ["email", "webhook"]
        assert world.run()["delivered"] == 0 and len(hook.received) == len(smtp.received) == 1
        world.store.close()


def test_a_temporary_refusal_is_retried_with_the_same_message(tmp_path: Path) -> None:
    with SmtpServer(fail_first=2) as smtp:
        world = World(tmp_path, smtp)
        world.subscribe()
        world.new_policy()
        runs = [world.run() for _ in range(3)]
        assert [[r[k] for k in ("delivered", "retrying", "dead")] for r in runs] == [[0, 1, 0], [0, 1, 0], [1, 0, 0]]
        assert len(smtp.received) == 3 and len(smtp.accepted) == 1
        assert len({m.message["Message-ID"] for m in smtp.received}) == 1
        assert len({m.attachment() for m in smtp.received}) == 1
        [row] = Subscriptions(world.store).outbox()
        assert (row["state"], row["attempts"]) == ("delivered", 3)
        world.store.close()


def test_a_refused_mailbox_is_dead_lettered_at_once(tmp_path: Path) -> None:
    with SmtpServer(refuse=frozenset({ADDRESS})) as smtp:
        world = World(tmp_path, smtp)
        sid, _, _ = world.subscribe()
        world.new_policy()
        assert world.run()["dead"] == 1                              # a 550 is not retried
        assert world.run()["dead"] == 0 and smtp.received == []
        [row] = Subscriptions(world.store).outbox()
        assert (row["state"], row["attempts"], row["last_error"]) == ("dead", 1, "SMTP 550: the recipient was refused")
        assert [e.action for e in world.store.audit_entries() if e.job_id == sid] == ["alert_dead",
                                                                                      "subscription_created"]
        world.store.close()


def test_no_server_listening_is_retried_then_dead(tmp_path: Path) -> None:
    with SmtpServer() as smtp:
        world = World(tmp_path, smtp)
    world.subscribe()                                          # the server has stopped: nothing listens
    world.new_policy()
    assert [world.run()["dead"] for _ in range(3)] == [0, 0, 1]   # FAST: three attempts
    [row] = Subscriptions(world.store).outbox()
    assert row["state"] == "dead" and row["last_error"].startswith("ConnectionRefusedError")
    world.store.close()


def test_unsubscribing_stops_the_emails_and_forgets_the_address(world: World) -> None:
    sid, _, _ = world.subscribe()
    assert unsubscribe(world.store, world.matcher, sid, key_id="anonymous", role="public")
    world.new_policy()
    assert world.run()["subscriptions"] == 0 and world.smtp.received == []
    assert Subscriptions(world.store).load(sid) is None


def test_an_address_is_refused_while_email_is_off(world: World) -> None:
    with pytest.raises(ValidationError, match="e-mail delivery is off on this service"):
        request(world.matcher, email=ADDRESS)
    body = request(world.matcher, email_enabled=True, email=ADDRESS)
    with pytest.raises(ValueError, match="e-mail delivery is off on this service"):
        subscribe(world.store, world.matcher, body, FAST, key_id="anonymous", role="public", today=AS_OF)
    assert Subscriptions(world.store).count() == 0


def test_without_a_webhook_or_an_address_nothing_is_subscribed(world: World) -> None:
    for enabled, reason in ((False, "a webhook_url is required"), (True, "a webhook_url is required (or an email)")):
        with pytest.raises(ValidationError) as refused:
            request(world.matcher, email_enabled=enabled)
        assert [(e["loc"], e["msg"]) for e in refused.value.errors()] == [(("webhook_url",), f"Value error, {reason}")]


@pytest.mark.parametrize("address", [
    ADDRESS, "a@b", "first.last+tag@sub.example.cn", "x@xn--fiqs8s.cn", "o'neil@example.cn", "a" * 64 + "@b.cn"])
def test_plain_mailboxes_are_accepted(address: str) -> None:
    assert check_email(address) == address


@pytest.mark.parametrize(("address", "reason"), [
    ("a@b.cn\r\nBcc: victim@example.cn", "spaces and control characters are not allowed"),
    ("Zhang San <z@b.cn>", "spaces and control characters are not allowed"),
    ("no-at-sign.example.cn", "an address such as name@example.cn is expected"),
    ("@example.cn", "an address such as name@example.cn is expected"),
    ("a@", "an address such as name@example.cn is expected"),
    ("a..b@example.cn", "the part before @ is not a plain mailbox name (ASCII letters, digits, . and "
                        "!#$%&'*+/=?^_`{|}~- only)"),
    ("张三@example.cn", "the part before @ is not a plain mailbox name (ASCII letters, digits, . and "
                       "!#$%&'*+/=?^_`{|}~- only)"),
    ("a" * 65 + "@b.cn", "the part before @ is not a plain mailbox name (ASCII letters, digits, . and "
                         "!#$%&'*+/=?^_`{|}~- only)"),
    ("a@-b.cn", "the domain is not a host name (letters, digits and - between dots; an internationalised one "
                "in its xn-- form)"),
    ("a@b..cn", "the domain is not a host name (letters, digits and - between dots; an internationalised one "
                "in its xn-- form)"),
    ("a@例子.cn", "the domain is not a host name (letters, digits and - between dots; an internationalised one "
                 "in its xn-- form)"),
    ("a@" + "b" * 250 + ".cn", "at most 254 characters"),
])
def test_anything_but_a_plain_mailbox_is_refused_saying_why(address: str, reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_email(address)
    assert str(refused.value) == reason


def test_email_is_off_unless_an_smtp_server_is_set(tmp_path: Path) -> None:
    from recommender.settings import Settings
    assert AlertsConfig.from_settings(Settings(var_dir=tmp_path)).mail is None
    on = Settings(var_dir=tmp_path, smtp_host="mail.gov.test", smtp_port=25, smtp_security="none",
                  smtp_from="alerts@gov.test", smtp_user="svc", smtp_password="pw")
    assert on.email_enabled
    assert AlertsConfig.from_settings(on).mail == MailServer(host="mail.gov.test", port=25, security="none",
                                                             user="svc", password="pw",
                                                             from_address="alerts@gov.test", timeout_seconds=10.0,
                                                             ca_file=None)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """A throw-away CA (trustme): the mail server's TLS context with a certificate for
    127.0.0.1 that it signed, and the CA certificate as a PEM file (RECOMMENDER_SMTP_CA_FILE)."""
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    pem = tmp_path_factory.mktemp("ca") / "intranet-ca.pem"
    authority.cert_pem.write_to_path(str(pem))
    return server, pem


def _secured(world: World, **server: Any) -> None:
    world.config = dataclasses.replace(world.config, mail=dataclasses.replace(world.config.mail, **server))


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_with_a_login_through_an_intranet_ca(tmp_path: Path, ca: tuple[ssl.SSLContext, Path],
                                                 security: str) -> None:
    context, pem = ca
    with SmtpServer(tls=context, implicit_tls=security == "tls", login=("svc-alerts", "s3cret")) as smtp:
        world = World(tmp_path, smtp)
        _secured(world, security=security, ca_file=pem, user="svc-alerts", password="s3cret")
        sid, _, secret = world.subscribe()
        world.new_policy()
        assert world.run()["delivered"] == 1
        [mail] = smtp.accepted
        assert (mail.secure, mail.user, mail.recipients) == (True, "svc-alerts", [ADDRESS])
        assert mail.signed_by(secret)
        world.store.close()


def test_a_certificate_the_service_does_not_trust_sends_nothing(tmp_path: Path,
                                                                 ca: tuple[ssl.SSLContext, Path]) -> None:
    context, _ = ca
    with SmtpServer(tls=context) as smtp:
        world = World(tmp_path, smtp)
        _secured(world, security="starttls")                    # the system's trust store: not our CA
        world.subscribe()
        world.new_policy()
        assert world.run()["retrying"] == 1
        [row] = Subscriptions(world.store).outbox()
        assert row["state"] == "pending" and row["last_error"].startswith("SSLCertVerificationError")
        assert smtp.received == []
        world.store.close()


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it(tmp_path: Path) -> None:
    with SmtpServer() as smtp:                                   # no STARTTLS in its EHLO
        world = World(tmp_path, smtp)
        _secured(world, security="starttls")
        world.subscribe()
        world.new_policy()
        assert world.run()["retrying"] == 1 and smtp.received == []
        [row] = Subscriptions(world.store).outbox()
        assert row["last_error"] == "SMTPNotSupportedError: STARTTLS extension not supported by server."
        world.store.close()


def test_a_refused_login_is_retried_not_dead_lettered(tmp_path: Path, ca: tuple[ssl.SSLContext, Path]) -> None:
    """A wrong password is the operator's to fix: the alerts wait for it."""
    context, pem = ca
    with SmtpServer(tls=context, login=("svc-alerts", "s3cret")) as smtp:
        world = World(tmp_path, smtp)
        _secured(world, security="starttls", ca_file=pem, user="svc-alerts", password="wrong")
        world.subscribe()
        world.new_policy()
        assert world.run()["retrying"] == 1 and smtp.received == []
        [row] = Subscriptions(world.store).outbox()
        assert (row["state"], row["last_error"]) == (
            "pending", "SMTP 535: the login was refused (RECOMMENDER_SMTP_USER, RECOMMENDER_SMTP_PASSWORD)")
        world.store.close()
