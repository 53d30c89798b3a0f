"""Body-size limits (413), the SME web page, and settings/key handling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from .api_testkit import LiveServer, make_settings

from api.main import create_app
from api.security import KeyRing
from recommender.settings import Settings, hash_key

Clients = dict[Any, httpx.Client]


def test_oversize_body_is_413_before_parsing(clients: Clients) -> None:
    big = b"[" + b" " * (5 * 1024 * 1024) + b"]"
    r = clients[None].post("/v1/match/batch", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["issues"][0]["field"] == "body"


def test_streamed_oversize_body_is_413(clients: Clients) -> None:
    def chunks() -> Any:
        for _ in range(6):
            yield b" " * (1024 * 1024)

    r = clients[None].post("/v1/match", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_limits_are_configurable(tmp_path: Path, profile: dict[str, Any]) -> None:
    settings = make_settings(tmp_path, rules_only=True,
                             max_body_bytes=2048, max_batch_profiles=2, public_requires_key=True)
    with LiveServer(create_app(settings)) as srv, srv.client("dev-public-key") as c:
        assert c.post("/v1/match/batch", json=[profile] * 3).status_code == 413
        r = c.post("/v1/match/batch", json=[{**profile, "firm_id": "A"}, {"firm_id": "B", "region_code": "500112",
                                                                           "industry_code": "C3670", "name": "x" * 3000}])
        assert r.status_code == 413
        with srv.client() as anonymous:
            assert anonymous.get("/v1/policies").status_code == 401


def test_sme_page_and_assets(clients: Clients) -> None:
    page = clients[None].get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<form id="basics" class="no-print" novalidate>' in page.text and "/static/sme.js" in page.text
    assert '<option value="500112">渝北区</option>' in page.text                  # Chongqing's districts
    js = clients[None].get("/static/sme.js")
    assert js.status_code == 200 and "/v1/match?explain=true" in js.text and "/v1/reference/industries" in js.text
    assert clients[None].get("/web/app.js").status_code == 404                     # the old page is gone


def test_openapi_lists_every_endpoint_with_examples(clients: Clients) -> None:
    spec = clients[None].get("/openapi.json").json()
    assert set(spec["paths"]) == {
        "/v1/match", "/v1/match/batch", "/v1/screen", "/v1/policies", "/v1/policies/{policy_id}",
        "/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/result", "/v1/jobs/{job_id}/rejects",
        "/v1/outcomes", "/v1/outcomes/export", "/v1/admin/reload", "/v1/admin/audit", "/healthz", "/readyz",
        "/v1/reference/regions", "/v1/reference/industries", "/v1/jobs/{job_id}/fairness",
        "/v1/reforms", "/v1/reforms/{job_id}", "/v1/reforms/{job_id}/report", "/v1/reforms/{job_id}/firms",
        "/v1/subscriptions", "/v1/subscriptions/bulk", "/v1/subscriptions/{subscription_id}",
        "/v1/subscriptions/{subscription_id}/matches", "/v1/subscriptions/{subscription_id}/renew",
        "/v1/alerts"}      # pages (/, /docs, /caseworker) and /metrics are not API operations
    body = spec["paths"]["/v1/match"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/FirmProfile"} and body["example"]["firm_id"]
    assert "FirmProfile" in spec["components"]["schemas"]
    assert clients[None].get("/docs").status_code == 200


def test_keys_are_hashed_and_compared_whole() -> None:
    ring = KeyRing({hash_key("s3cret"): "caseworker"})
    who = ring.identify("s3cret")
    assert who is not None and who.role == "caseworker" and who.key_id == hash_key("s3cret")[:12]
    assert ring.identify("s3cre") is None and ring.identify("s3cret ") is None


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    digest = hash_key("prod-key")
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    monkeypatch.setenv("RECOMMENDER_API_KEYS", f'{{"{digest}": "admin"}}')
    settings = Settings()
    assert settings.resolved_database_url() == "sqlite:////tmp/elsewhere.db"
    assert settings.key_roles() == {digest: "admin"}
    monkeypatch.setenv("RECOMMENDER_DATABASE_URL", "sqlite:////tmp/preferred.db")
    assert Settings().resolved_database_url() == "sqlite:////tmp/preferred.db"


def test_plain_keys_in_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOMMENDER_API_KEYS", '{"my-plain-key": "admin"}')
    with pytest.raises(ValueError, match="sha256 hex digests"):
        Settings()


def test_dev_keys_only_without_configured_keys() -> None:
    assert set(Settings(api_keys=None).key_roles().values()) == {"public", "caseworker", "admin"}
    assert Settings(api_keys={hash_key("k"): "public"}).key_roles() == {hash_key("k"): "public"}
