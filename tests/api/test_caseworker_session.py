"""The caseworker workspace's sign-in: the session cookie (signed, HttpOnly, SameSite=Strict,
Secure over https, expiring), refusal of forged, expired and orphaned cookies, the CSRF token
on every form, and API keys that keep working as before."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from api.main import create_app
from api.security import KeyRing, Principal, key_id
from api.session import COOKIE, LoginRequired, SessionSigner, session_secret, set_session_cookie
from recommender.settings import hash_key
from .api_testkit import KEYS, LiveServer, make_settings

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(make_settings(tmp_path_factory.mktemp("var"), model_dir=Path("/nonexistent-model")))


@pytest.fixture(scope="module")
def live(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as srv:
        yield srv


def _client(live: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live.url, timeout=60)


def _login(client: httpx.Client, key: str, next_: str = "/caseworker") -> httpx.Response:
    form = client.get("/caseworker/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert token is not None
    return client.post("/caseworker/login", data={"key": key, "login_token": token.group(1), "next": next_})


def _csrf(client: httpx.Client, path: str = "/caseworker/outcomes") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def _outcome(csrf: str | None) -> dict[str, str]:
    form = {"firm_id": "CQ-001", "policy_id": "cn-tech-sme-evaluation", "event_date": "2022-05-20",
            "outcome": "applied"}
    return form if csrf is None else {**form, "csrf": csrf}


def test_without_a_session_pages_redirect_to_sign_in_and_the_rest_is_401(live: LiveServer) -> None:
    with _client(live) as c:
        r = c.get("/caseworker/screen?policy_id=cn-tech-sme-evaluation", headers=HTML)
        assert r.status_code == 303
        assert r.headers["location"] == "/caseworker/login?next=/caseworker/screen%3Fpolicy_id%3Dcn-tech-sme-evaluation"
        assert c.get("/caseworker/lists/" + "0" * 32 + ".xlsx").status_code == 401
        assert c.post("/caseworker/outcomes", data=_outcome("x")).status_code == 401
        assert c.get("/caseworker/jobs?fragment=1").status_code == 401


@pytest.mark.parametrize(("key", "message"), [
    ("not-a-key", "密钥无效，请检查后重试。"),
    (KEYS["public"], "该密钥没有窗口工作台权限。"),
    ("", "请输入窗口密钥。"),
    ("x" * 201, "密钥无效，请检查后重试。"),
])
def test_a_wrong_key_is_refused_in_chinese_without_a_cookie(live: LiveServer, key: str, message: str) -> None:
    with _client(live) as c:
        r = _login(c, key)
        assert r.status_code == 200                      # the form again, its error marked (FORM_ERROR_STATUS)
        assert message in r.text and 'aria-invalid="true"' in r.text
        assert COOKIE not in r.cookies and COOKIE not in c.cookies


def test_the_login_form_needs_its_own_token(live: LiveServer) -> None:
    with _client(live) as c:
        r = c.post("/caseworker/login", data={"key": KEYS["caseworker"], "login_token": "forged"})
        assert r.status_code == 200 and "登录表单已过期" in r.text
        assert COOKIE not in c.cookies


def test_signing_in_sets_a_strict_http_only_cookie_and_follows_next_inside_the_workspace(live: LiveServer) -> None:
    with _client(live) as c:
        r = _login(c, KEYS["caseworker"], "/caseworker/policies?q=研发")
        assert r.status_code == 303 and r.headers["location"] == "/caseworker/policies?q=%E7%A0%94%E5%8F%91"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=")
        attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
        assert {"httponly", "samesite", "path", "max-age"} <= attrs and "secure" not in attrs   # plain http here
        assert "samesite=strict" in cookie.lower() and "path=/caseworker" in cookie.lower()
        assert "max-age=28800" in cookie.lower()                                                 # 8 hours
        assert KEYS["caseworker"] not in cookie
        assert c.get("/caseworker/policies", headers=HTML).status_code == 200
    with _client(live) as c:
        assert _login(c, KEYS["caseworker"], "https://elsewhere.example/x").headers["location"] == "/caseworker"
    with _client(live) as c:
        assert _login(c, KEYS["caseworker"], "//elsewhere.example").headers["location"] == "/caseworker"


def test_an_admin_key_opens_the_workspace(live: LiveServer) -> None:
    with _client(live) as c:
        assert _login(c, KEYS["admin"]).status_code == 303
        assert c.get("/caseworker", headers=HTML).status_code == 200


def _parts(cookie: str) -> tuple[dict[str, Any], str]:
    payload, signature = cookie.split(".")
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))), signature


def _encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def test_forged_and_expired_cookies_are_refused(live: LiveServer, app: FastAPI) -> None:
    with _client(live) as c:
        _login(c, KEYS["caseworker"])
        good = c.cookies[COOKIE]
    data, signature = _parts(good)
    signer: SessionSigner = app.state.service.sessions
    admin_id = key_id(KEYS["admin"])
    expired, _ = signer.issue(Principal(key_id(KEYS["caseworker"]), "caseworker"), now=time.time() - 8 * 3600 - 1)
    other_secret = SessionSigner(b"another secret", KeyRing({hash_key(KEYS["caseworker"]): "caseworker"}), 3600)
    forged_elsewhere, _ = other_secret.issue(Principal(key_id(KEYS["caseworker"]), "caseworker"))
    bad = {
        "longer life, same signature": f"{_encode({**data, 'e': data['e'] + 86400})}.{signature}",
        "another key id, same signature": f"{_encode({**data, 'k': admin_id})}.{signature}",
        "signed under another secret": forged_elsewhere,
        "no signature": _encode(data),
        "garbage": "x.y",
        "expired": expired,
    }
    for what, cookie in bad.items():
        with httpx.Client(base_url=live.url, timeout=60, cookies={COOKIE: cookie}) as c:
            r = c.get("/caseworker", headers=HTML)
            assert r.status_code == 303 and r.headers["location"].startswith("/caseworker/login"), what
            assert f'{COOKIE}=""' in r.headers.get("set-cookie", ""), what       # the stale cookie is dropped
    with httpx.Client(base_url=live.url, timeout=60, cookies={COOKIE: good}) as c:
        assert c.get("/caseworker", headers=HTML).status_code == 200


def test_the_signer_says_why(tmp_path: Path) -> None:
    keys = KeyRing({hash_key(KEYS["caseworker"]): "caseworker", hash_key(KEYS["public"]): "public"})
    signer = SessionSigner(b"s" * 32, keys, 3600)
    cookie, session = signer.issue(Principal(key_id(KEYS["caseworker"]), "caseworker"), now=1000.0)
    assert signer.verify(cookie, now=1000.0 + 3599).principal == Principal(key_id(KEYS["caseworker"]), "caseworker")
    assert signer.verify(cookie, now=1000.0 + 3599).csrf == session.csrf
    for now, reason in ((1000.0 + 3600, "the session has expired"), (1000.0 + 3601, "the session has expired")):
        with pytest.raises(LoginRequired, match=reason):
            signer.verify(cookie, now=now)
    with pytest.raises(LoginRequired, match="not signed in"):
        signer.verify(None)
    public_cookie, _ = signer.issue(Principal(key_id(KEYS["public"]), "public"))
    with pytest.raises(LoginRequired, match="no longer valid"):          # a public key never holds a session
        signer.verify(public_cookie)
    without_key = SessionSigner(b"s" * 32, KeyRing({hash_key(KEYS["public"]): "public"}), 3600)
    with pytest.raises(LoginRequired, match="no longer valid"):          # the key was removed
        without_key.verify(cookie, now=1000.0)


def test_the_secret_is_generated_once_per_var_dir_unless_configured(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first = session_secret(settings)
    path = tmp_path / "session.secret"
    assert len(first) == 32 and path.read_bytes() == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert session_secret(make_settings(tmp_path)) == first                  # another worker: the same
    assert session_secret(make_settings(tmp_path / "other")) != first
    assert session_secret(make_settings(tmp_path, session_secret="configured")) == b"configured"


def test_the_cookie_is_secure_over_https() -> None:
    def request(scheme: str) -> Request:
        return Request({"type": "http", "scheme": scheme, "method": "GET", "path": "/caseworker/login",
                        "headers": [], "query_string": b"", "server": ("x", 443), "root_path": ""})
    for scheme, secure in (("https", True), ("http", False)):
        response = Response()
        set_session_cookie(response, request(scheme), "v.s", 60)
        assert ("; secure" in response.headers["set-cookie"].lower()) is secure


def test_forms_need_the_sessions_csrf_token(live: LiveServer) -> None:
    with _client(live) as c, _client(live) as other:
        _login(c, KEYS["caseworker"])
        _login(other, KEYS["caseworker"])
        theirs = _csrf(other)
        for form in (_outcome(None), _outcome(""), _outcome("forged"), _outcome(theirs)):
            r = c.post("/caseworker/outcomes", data=form)
            assert r.status_code == 403 and "安全令牌" in r.text
        assert c.post("/caseworker/logout", data={}).status_code == 403
        r = c.post("/caseworker/outcomes", data=_outcome(_csrf(c)))
        assert r.status_code == 303 and r.headers["location"] == "/caseworker/outcomes?done=new"


def test_api_keys_work_as_before_and_a_cookie_opens_no_api_route(live: LiveServer) -> None:
    with _client(live) as c:
        _login(c, KEYS["caseworker"])
        assert c.get("/v1/jobs").status_code == 401                          # the cookie is the workspace's only
        assert c.get("/v1/jobs", headers={"X-API-Key": KEYS["caseworker"]}).status_code == 200


def test_signing_out_drops_the_cookie(live: LiveServer) -> None:
    with _client(live) as c:
        _login(c, KEYS["caseworker"])
        r = c.post("/caseworker/logout", data={"csrf": _csrf(c, "/caseworker")})
        assert r.status_code == 303 and r.headers["location"] == "/caseworker/login?out=1"
        assert f'{COOKIE}=""' in r.headers["set-cookie"] and "max-age=0" in r.headers["set-cookie"].lower()
        assert COOKIE not in c.cookies
        assert c.get("/caseworker/screen", headers=HTML).status_code == 303


def test_a_list_is_downloaded_by_the_caseworker_who_made_it_only(live: LiveServer, registry_csv: Path) -> None:
    with _client(live) as c, _client(live) as admin:
        _login(c, KEYS["caseworker"])
        _login(admin, KEYS["admin"])
        r = c.post("/caseworker/screen", data={"csrf": _csrf(c, "/caseworker/screen"), "policy_id": "cn-small-low-profit-cit",
                                               "as_of": "2022-06-30"},
                   files={"file": ("a.csv", registry_csv.read_bytes(), "text/csv")})
        assert r.status_code == 200, r.text
        link = re.search(r'/caseworker/lists/[0-9a-f]{32}\.xlsx', r.text)
        assert link is not None
        assert c.get(link.group(0)).status_code == 200
        assert admin.get(link.group(0)).status_code == 404
        assert c.get(link.group(0).replace(".xlsx", ".pdf")).status_code in (404, 422)
