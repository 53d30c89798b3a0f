"""Caseworker sessions for the web workspace: a signed cookie in place of the API key.

A caseworker signs in once with their key (``POST /caseworker/login``); the workspace then
recognises them by a cookie, so the key is not sent (or stored by the browser) again. The
API keeps its keys as they are: this module is used by the workspace pages only.

The cookie holds ``payload.signature``: the payload (base64url JSON) names the key id (never
the key), the session's expiry and its CSRF token; the signature is HMAC-SHA256 of the
payload under a server-side secret (``RECOMMENDER_SESSION_SECRET``, else 32 random bytes
generated once into ``<var_dir>/session.secret``, readable by the service only, shared by
its worker processes). A cookie is refused when its signature does not match, when it has
expired, or when its key is no longer configured with a role of at least ``caseworker`` (a
removed key ends its sessions at once). The cookie is ``HttpOnly`` (scripts cannot read
it), ``SameSite=Strict`` (another site cannot make the browser send it) and ``Secure`` when
the page is served over https.

Since a cookie authenticates, every form that changes something carries the session's CSRF
token (a hidden ``csrf`` field), compared in constant time (:meth:`Session.check_csrf`). The
login form, before any session exists, uses a double-submit token: a random value in a
short-lived cookie and in the form, which must agree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from api.security import KeyRing, Principal
from recommender import Settings

COOKIE = "cw_session"
LOGIN_COOKIE = "cw_login"
SECRET_NAME = "session.secret"
LOGIN_SECONDS = 30 * 60


class LoginRequired(Exception):
    """No valid session: pages answer with a redirect to the login form (see ``caseworker_auth``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CsrfRefused(Exception):
    """A form posted without this session's token (403)."""


@dataclass(frozen=True)
class Session:
    """A signed-in caseworker: who (key id and role), until when, and the forms' CSRF token."""

    principal: Principal
    expires: int
    csrf: str

    def check_csrf(self, sent: object) -> None:
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), self.csrf.encode()):
            raise CsrfRefused("the form's security token is missing or wrong")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def session_secret(settings: Settings) -> bytes:
    """The signing secret: the configured one, or the var directory's own (made on first use)."""
    if settings.session_secret:
        return settings.session_secret.get_secret_value().encode("utf-8")
    path = settings.var_dir / SECRET_NAME
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SECRET_NAME}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(32))
    try:
        os.link(tmp, path)            # the first worker to get here wins; the others read its secret
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_bytes()


class SessionSigner:
    """Makes and checks session cookies under one secret."""

    def __init__(self, secret: bytes, keys: KeyRing, lifetime_seconds: int) -> None:
        self._secret = secret
        self._keys = keys
        self.lifetime = lifetime_seconds

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest())

    def issue(self, principal: Principal, now: float | None = None) -> tuple[str, Session]:
        """A new session for ``principal``: ``(cookie value, session)``."""
        expires = int((now if now is not None else time.time()) + self.lifetime)
        session = Session(principal, expires, secrets.token_urlsafe(24))
        payload = _b64(json.dumps({"k": principal.key_id, "e": expires, "c": session.csrf},
                                  separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._sign(payload)}", session

    def verify(self, cookie: str | None, now: float | None = None) -> Session:
        """The session a cookie carries; :class:`LoginRequired` saying why when there is none."""
        if not cookie:
            raise LoginRequired("not signed in")
        payload, _, signature = cookie.partition(".")
        if not payload or not hmac.compare_digest(signature.encode("ascii", "replace"),
                                                  self._sign(payload).encode("ascii")):
            raise LoginRequired("the session cookie is not valid")
        try:
            data = json.loads(_unb64(payload))
            key_id, expires, csrf = str(data["k"]), int(data["e"]), str(data["c"])
        except (ValueError, KeyError, TypeError):
            raise LoginRequired("the session cookie is not valid") from None
        if expires <= (now if now is not None else time.time()):
            raise LoginRequired("the session has expired")
        role = self._keys.role_of(key_id)
        principal = Principal(key_id=key_id, role=role)
        if not principal.may("caseworker"):
            raise LoginRequired("the key of this session is no longer valid")
        return Session(principal, expires, csrf)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, value: str, lifetime: int) -> None:
    response.set_cookie(COOKIE, value, max_age=lifetime, path="/caseworker", httponly=True,
                        samesite="strict", secure=is_https(request))


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path="/caseworker", httponly=True, samesite="strict",
                           secure=is_https(request))


def login_token(request: Request) -> str:
    """The login form's double-submit token (the cookie's, or a new one)."""
    current = request.cookies.get(LOGIN_COOKIE)
    return current if current and len(current) <= 64 else secrets.token_urlsafe(24)


def set_login_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(LOGIN_COOKIE, token, max_age=LOGIN_SECONDS, path="/caseworker/login", httponly=True,
                        samesite="strict", secure=is_https(request))


def login_token_ok(request: Request, sent: object) -> bool:
    cookie = request.cookies.get(LOGIN_COOKIE)
    return bool(cookie) and isinstance(sent, str) and hmac.compare_digest(sent.encode(), str(cookie).encode())


def signer_for(settings: Settings, keys: KeyRing) -> SessionSigner:
    return SessionSigner(session_secret(settings), keys, int(settings.session_hours * 3600))
