"""Subscriptions over HTTP (SPEC §10, issue 24): subscribe, reload a changed catalog, run the
alerts, receive one signed delivery, see and delete what is stored; the caseworker's
outreach list; every bad input a 422 naming its field."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.main import create_app
from recommender.alerts import AlertsConfig, run_alerts
from recommender.store import Subscriptions
from tests.recommender.alerts_kit import FAST, FIRM, add_policy, catalog_copy
from tests.recommender.smtp_kit import SmtpServer
from tests.recommender.webhook_kit import Receiver

from .api_testkit import CASEWORKER_KEY_ID, KEYS, LiveServer, make_settings, registry_frame


class Service:
    def __init__(self, root: Path, alerts_every_seconds: float = 0) -> None:
        self.catalog = catalog_copy(root)
        self.app = create_app(make_settings(root / "var", catalog_dir=self.catalog, rules_only=True,
                                            alerts_every_seconds=alerts_every_seconds))
        self.server = LiveServer(self.app)
        self.clients: list[httpx.Client] = []

    def run(self) -> dict[str, Any]:
        state = self.app.state.service
        return run_alerts(state.store, state.matcher, FAST, as_of=dt.date.today())

    def client(self, role: str | None = None) -> httpx.Client:
        made = self.server.client(KEYS[role] if role else None)
        self.clients.append(made)
        return made


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = Service(tmp_path)
    with svc.server:
        yield svc
        for c in svc.clients:
            c.close()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One service for the tests that change nothing but subscriptions."""
    svc = Service(tmp_path_factory.mktemp("subscriptions"))
    with svc.server:
        yield svc
        for c in svc.clients:
            c.close()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def _body(url: str, **changes: Any) -> dict[str, Any]:
    return {"profile": FIRM, "webhook_url": url, "consent": True, **changes}


def test_subscribe_reload_run_deliver_once_then_unsubscribe(service: Service, hook: Receiver) -> None:
    public, admin = service.client(), service.client("admin")
    made = public.post("/v1/subscriptions", json=_body(hook.url))
    assert made.status_code == 201, made.text
    sub = made.json()
    assert sorted(sub) == ["expires_at", "id", "secret", "unsubscribe_token"]
    add_policy(service.catalog, "cn-test-alert-a")
    assert admin.post("/v1/admin/reload").status_code == 200
    assert service.run()["delivered"] >= 1
    [got] = hook.received
    assert got.signed_by(sub["secret"]) and not got.signed_by("another secret")
    assert got.json()["subscription_id"] == sub["id"]
    assert [(a["policy_id"], a["verdict"]) for a in got.json()["alerts"] if a["kind"] == "new_match"] == [
        ("cn-test-alert-a", "eligible")]
    service.run()
    assert len(hook.received) == 1                         # run again: none

    shown = public.get(f"/v1/subscriptions/{sub['id']}", params={"token": sub["unsubscribe_token"]})
    assert shown.status_code == 200
    view = shown.json()
    assert (view["firm_id"], view["profile"], view["webhook_url"], view["consent_by"]) == (
        "CQ-001", FIRM, hook.url, "firm")
    assert {"policy_id": "cn-test-alert-a", "kind": "new_match", "window": "2022-01-01..", "channel": "webhook",
            "state": "delivered", "attempts": 1} in view["alerts"]
    page = public.get(f"/v1/subscriptions/{sub['id']}/matches", params={"token": sub["unsubscribe_token"]})
    assert "cn-test-alert-a" in [m["policy_id"] for m in page.json()["matches"]]

    wrong = public.delete(f"/v1/subscriptions/{sub['id']}", params={"token": "not-the-token"})
    assert (wrong.status_code, wrong.json()["issues"]) == (404, [{"field": "token",
                                                                  "reason": "unknown subscription or wrong token"}])
    gone = public.delete(f"/v1/subscriptions/{sub['id']}", params={"token": sub["unsubscribe_token"]})
    assert gone.status_code == 204
    assert public.get(f"/v1/subscriptions/{sub['id']}",
                      params={"token": sub["unsubscribe_token"]}).status_code == 404
    assert Subscriptions(service.app.state.service.store).count() == 0    # the profile is gone
    add_policy(service.catalog, "cn-test-alert-b")
    admin.post("/v1/admin/reload")
    service.run()
    assert len(hook.received) == 1                         # nothing more
    audit = [e.action for e in service.app.state.service.store.audit_entries() if e.job_id == sub["id"]]
    assert audit[0] == "subscription_deleted" and audit[-1] == "subscription_created" and "alert_delivered" in audit


def test_renew_moves_the_expiry(shared: Service, hook: Receiver) -> None:
    public = shared.client()
    sub = public.post("/v1/subscriptions", json=_body(hook.url)).json()
    renewed = public.post(f"/v1/subscriptions/{sub['id']}/renew", params={"token": sub["unsubscribe_token"]})
    assert renewed.status_code == 200
    assert dt.datetime.fromisoformat(renewed.json()["expires_at"]) >= dt.datetime.fromisoformat(sub["expires_at"])
    assert public.post(f"/v1/subscriptions/{sub['id']}/renew", params={"token": "x"}).status_code == 404


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"consent": False}, "body.consent", "Input should be True"),
    ({"consent": None}, "body.consent", "Input should be True"),
    ({"webhook_url": "ftp://hooks.example.cn/x"}, "body.webhook_url", "the scheme must be http or https, not 'ftp'"),
    ({"webhook_url": "https://user:pw@hooks.example.cn/x"}, "body.webhook_url",
     "credentials in the URL are not allowed (the receiver checks X-Signature instead)"),
    ({"webhook_url": "https:///nohost"}, "body.webhook_url", "a host is required"),
    ({"webhook_url": "javascript:alert(1)"}, "body.webhook_url", "the scheme must be http or https, not 'javascript'"),
    ({"policies": ["cn-tech-sme-evaluation", "no-such-policy"]}, "body.policies.1", "unknown policy id 'no-such-policy'"),
    ({"families": ["sports"]}, "body.families.0", None),
    ({"profile": {**FIRM, "revenue": -1}}, "body.profile.revenue", "Input should be greater than or equal to 0"),
    ({"profile": {**FIRM, "established_on": "1850-01-01"}}, "body.profile.established_on",
     "1850-01-01 is before 1900-01-01"),
    ({"email": "a@example.cn"}, "body.email",
     "e-mail delivery is off on this service (no SMTP server is set): give a webhook_url"),
    ({"webhook_url": None}, "body.webhook_url", "a webhook_url is required"),
    ({"colour": "red"}, "body.colour", "unknown field (not in SPEC §2)"),
])
def test_bad_subscriptions_are_422_naming_the_field(shared: Service, change: dict[str, Any], field: str,
                                                     reason: str | None) -> None:
    got = shared.client().post("/v1/subscriptions", json=_body("https://hooks.example.cn/x", **change))
    assert got.status_code == 422, got.text
    issues = {i["field"]: i["reason"] for i in got.json()["issues"]}
    assert field in issues
    if reason is not None:
        assert issues[field] == reason


def test_consent_is_required(shared: Service) -> None:
    body = _body("https://hooks.example.cn/x")
    del body["consent"]
    got = shared.client().post("/v1/subscriptions", json=body)
    assert (got.status_code, [i["field"] for i in got.json()["issues"]]) == (422, ["body.consent"])


def test_a_private_network_webhook_is_accepted(shared: Service) -> None:
    got = shared.client().post("/v1/subscriptions", json=_body("http://10.20.30.40:8080/政务/hook"))
    assert got.status_code == 201


def test_the_outreach_list_names_subscribed_firms_that_qualify(service: Service, hook: Receiver) -> None:
    public, caseworker, admin = service.client(), service.client("caseworker"), service.client("admin")
    firm = {**FIRM, "name": "=HYPERLINK(\"http://x\")"}
    assert public.post("/v1/subscriptions", json=_body(hook.url, profile=firm)).status_code == 201
    other = {**FIRM, "firm_id": "BIG-1", "employees": 900}
    assert public.post("/v1/subscriptions", json=_body(hook.url, profile=other)).status_code == 201
    add_policy(service.catalog, "cn-test-alert-a")
    admin.post("/v1/admin/reload")
    listed = caseworker.get("/v1/alerts", params={"policy_id": "cn-test-alert-a"})
    assert listed.status_code == 200
    body = listed.json()
    assert ([r["firm_id"] for r in body["results"]], body["counts"]) == (
        ["CQ-001"], {"eligible": 1, "undetermined": 0, "ineligible": 0, "rejected": 0})
    as_csv = caseworker.get("/v1/alerts", params={"policy_id": "cn-test-alert-a", "format": "csv"})
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[1][:5] == ["name", "credit_code", "district", "firm_id", "verdict"]
    assert rows[2][0] == "'=HYPERLINK(\"http://x\")" and rows[2][3] == "CQ-001"
    as_xlsx = caseworker.get("/v1/alerts", params={"policy_id": "cn-test-alert-a", "format": "xlsx"})
    assert as_xlsx.content[:2] == b"PK"
    assert service.client("public").get("/v1/alerts", params={"policy_id": "cn-test-alert-a"}).status_code == 403
    assert public.get("/v1/alerts", params={"policy_id": "cn-test-alert-a"}).status_code == 401
    assert caseworker.get("/v1/alerts", params={"policy_id": "no-such"}).status_code == 404


def test_a_caseworker_subscribes_the_consenting_firms_of_a_registry(shared: Service, hook: Receiver) -> None:
    rows = [{**FIRM, "firm_id": "R-1", "consent": "是", "webhook_url": hook.url},
            {**FIRM, "firm_id": "R-2", "consent": "no", "webhook_url": hook.url},
            {**FIRM, "firm_id": "R-3", "consent": "yes", "webhook_url": "ftp://x.example.cn/"},
            {**FIRM, "firm_id": "R-4", "consent": "TRUE", "revenue": -5, "webhook_url": hook.url},
            {**FIRM, "firm_id": "R-5", "consent": "", "webhook_url": hook.url}]
    data = registry_frame(rows).to_csv(index=False).encode("utf-8")
    caseworker = shared.client("caseworker")
    got = caseworker.post("/v1/subscriptions/bulk", files={"file": ("firms.csv", data, "text/csv")},
                          data={"families": "relief,innovation"})
    assert got.status_code == 201, got.text
    body = got.json()
    assert [(s["row"], s["firm_id"]) for s in body["subscribed"]] == [(1, "R-1")]
    no_consent = "no consent recorded for this firm (the consent column must say yes)"
    assert body["rejects"] == [
        {"row": 2, "firm_id": "R-2", "field": "consent", "reason": no_consent},
        {"row": 3, "firm_id": "R-3", "field": "webhook_url", "reason": "the scheme must be http or https, not 'ftp'"},
        {"row": 4, "firm_id": "R-4", "field": "revenue", "reason": "must be >= 0"},
        {"row": 5, "firm_id": "R-5", "field": "consent", "reason": no_consent}]
    [made] = body["subscribed"]
    view = shared.client().get(f"/v1/subscriptions/{made['id']}", params={"token": made["unsubscribe_token"]}).json()
    assert (view["families"], view["consent_by"]) == (["relief", "innovation"], CASEWORKER_KEY_ID)
    bad_family = caseworker.post("/v1/subscriptions/bulk", files={"file": ("firms.csv", data, "text/csv")},
                                 data={"families": "sports"})
    assert (bad_family.status_code, bad_family.json()["issues"]) == (
        422, [{"field": "body.families.0", "reason": "unknown family 'sports'"}])
    extra = registry_frame([{**rows[0], "colour": "red"}]).to_csv(index=False).encode("utf-8")
    unknown = caseworker.post("/v1/subscriptions/bulk", files={"file": ("firms.csv", extra, "text/csv")})
    assert unknown.status_code == 422 and "unknown column(s) colour" in unknown.json()["issues"][0]["reason"]
    assert shared.client("public").post("/v1/subscriptions/bulk",
                                        files={"file": ("firms.csv", data, "text/csv")}).status_code == 403


def test_the_job_runner_runs_alerts_periodically(tmp_path: Path, hook: Receiver) -> None:
    """The service itself runs the alerts (RECOMMENDER_ALERTS_EVERY_SECONDS): a subscription
    and a reload are enough for the delivery to arrive."""
    svc = Service(tmp_path, alerts_every_seconds=0.2)
    with svc.server:
        public, admin = svc.client(), svc.client("admin")
        sub = public.post("/v1/subscriptions", json=_body(hook.url)).json()
        add_policy(svc.catalog, "cn-test-alert-a")
        admin.post("/v1/admin/reload")
        deadline = time.monotonic() + 20
        while not hook.received and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)                                    # more turns of the task: still one delivery
        for c in svc.clients:
            c.close()
    assert len(hook.received) == 1
    assert hook.received[0].json()["subscription_id"] == sub["id"]


@pytest.mark.parametrize(("raw", "field"), [
    ('{"profile": ' * 5000 + "{}" + "}" * 5000, "body"),
    ('{"profile": {"firm_id": "F", "region_code": "500112", "industry_code": "C3670", "revenue": NaN}, '
     '"webhook_url": "https://x.example.cn/", "consent": true}', "body.profile.revenue"),
    ('{"profile": {"firm_id": "F", "region_code": "500112", "industry_code": "C3670", "revenue": 1e400}, '
     '"webhook_url": "https://x.example.cn/", "consent": true}', "body.profile.revenue"),
    ('{"profile": {"firm_id": "F", "region_code": "500112", "industry_code": "C3670"}, '
     '"webhook_url": "https://x.example.cn/#top", "consent": true}', "body.webhook_url"),
    ('{"profile": {"firm_id": "F", "region_code": "500112", "industry_code": "C3670"}, '
     '"webhook_url": "https://x.example.cn/' + "a" * 2000 + '", "consent": true}', "body.webhook_url"),
    ('{"profile": {"firm_id": "F", "region_code": "500112", "industry_code": "C3670"}, '
     '"webhook_url": "https://x.example.cn:99999/", "consent": true}', "body.webhook_url"),
])
def test_hostile_subscription_bodies_are_422(shared: Service, raw: str, field: str) -> None:
    got = shared.client().post("/v1/subscriptions", content=raw, headers={"Content-Type": "application/json"})
    assert got.status_code == 422, got.text
    assert field in [i["field"] for i in got.json()["issues"]]


def test_with_an_smtp_server_firms_subscribe_by_email(tmp_path: Path) -> None:
    """E-mail delivery on (RECOMMENDER_SMTP_HOST): a firm subscribes with an address and no
    webhook, a caseworker's registry carries an email column, both get the new policy by
    e-mail, through the service's own delivery settings."""
    with SmtpServer() as smtp:
        catalog = catalog_copy(tmp_path)
        settings = make_settings(tmp_path / "var", catalog_dir=catalog, rules_only=True, alerts_every_seconds=0,
                                 smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
                                 smtp_from="alerts@service.test")
        app = create_app(settings)
        server = LiveServer(app)
        with server, server.client() as public, server.client(KEYS["caseworker"]) as caseworker, \
                server.client(KEYS["admin"]) as admin:
            made = public.post("/v1/subscriptions", json={"profile": FIRM, "email": "li.si@firm.example.cn",
                                                          "consent": True})
            assert made.status_code == 201, made.text
            sub = made.json()
            view = public.get(f"/v1/subscriptions/{sub['id']}", params={"token": sub["unsubscribe_token"]}).json()
            assert (view["email"], view["webhook_url"]) == ("li.si@firm.example.cn", None)
            for body, field, reason in (
                    ({"profile": FIRM, "consent": True}, "body.webhook_url", "a webhook_url is required (or an email)"),
                    ({"profile": FIRM, "consent": True, "email": "a@b.cn\r\nBcc: x@y.cn"}, "body.email",
                     "spaces and control characters are not allowed")):
                refused = public.post("/v1/subscriptions", json=body)
                assert (refused.status_code, refused.json()["issues"]) == (422, [{"field": field, "reason": reason}])
            rows = [{**FIRM, "firm_id": "R-1", "consent": "是", "email": "r1@firm.example.cn"},
                    {**FIRM, "firm_id": "R-2", "consent": "yes", "email": "not-an-address"},
                    {**FIRM, "firm_id": "R-3", "consent": "yes"}]
            data = registry_frame(rows).to_csv(index=False).encode("utf-8")
            bulk = caseworker.post("/v1/subscriptions/bulk", files={"file": ("firms.csv", data, "text/csv")})
            assert bulk.status_code == 201, bulk.text
            assert [s["firm_id"] for s in bulk.json()["subscribed"]] == ["R-1"]
            assert bulk.json()["rejects"] == [
                {"row": 2, "firm_id": "R-2", "field": "email", "reason": "an address such as name@example.cn is expected"},
                {"row": 3, "firm_id": "R-3", "field": "webhook_url", "reason": "a webhook_url is required (or an email)"}]
            add_policy(catalog, "cn-test-alert-a")
            assert admin.post("/v1/admin/reload").status_code == 200
            state = app.state.service
            config = dataclasses.replace(AlertsConfig.from_settings(settings), delivery=FAST.delivery)
            assert run_alerts(state.store, state.matcher, config, as_of=dt.date.today())["delivered"] == 2
            assert sorted(m.recipients[0] for m in smtp.accepted) == ["li.si@firm.example.cn", "r1@firm.example.cn"]
            [mail] = [m for m in smtp.accepted if m.recipients == ["li.si@firm.example.cn"]]
            assert mail.signed_by(sub["secret"])
            # the e-mail's unsubscribe link: GET asks (a link scanner deletes nothing), POST deletes
            leave = mail.message["List-Unsubscribe"].strip("<>")
            assert leave.startswith(f"http://127.0.0.1:8000/v1/subscriptions/{sub['id']}/unsubscribe?sig=")
            path = leave.removeprefix("http://127.0.0.1:8000")
            page = public.get(path)
            assert page.status_code == 200 and "确认退订" in page.text and "CQ-001" in page.text
            assert public.get(f"/v1/subscriptions/{sub['id']}", params={"token": sub["unsubscribe_token"]}).status_code == 200
            for forged in (path[:-1] + ("0" if path[-1] != "0" else "1"), path.split("?")[0], path + "0" * 200):
                refused = public.post(forged, data={"List-Unsubscribe": "One-Click"})
                assert refused.status_code in (404, 422) and "确认退订" not in refused.text
            done = public.post(path, data={"List-Unsubscribe": "One-Click"})           # RFC 8058 one-click
            assert done.status_code == 200 and "已退订" in done.text
            assert public.get(f"/v1/subscriptions/{sub['id']}", params={"token": sub["unsubscribe_token"]}).status_code == 404
            assert public.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 404   # once
            actions = [e.action for e in state.store.audit_entries() if e.job_id == sub["id"]]
            assert actions[0] == "subscription_deleted"
