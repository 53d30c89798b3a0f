"""Dependencies: the loaded state, the caller's role, and typed ``Annotated`` aliases.

Handlers never touch ``app.state`` or headers themselves; they declare what they need::

    def handler(matcher: MatcherDep, caller: CaseworkerDep) -> ...

Authorisation lives here, once: :func:`require` returns a dependency that answers 401 when
no valid key is presented (unless the route is public and public routes are open) and 403
when the key's role is too low.

Every dependency here is ``async``: they only read memory, and FastAPI runs a plain ``def``
dependency in its thread pool (a thread hop per dependency per request).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from api.jobs import JobRunner
from api.security import ANONYMOUS_KEY_ID, Principal
from api.state import ServiceState
from recommender import Matcher, Role, Settings, Store

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False,
                        description="API key; roles public < caseworker < admin (see docs/api.md)")
_bearer = HTTPBearer(auto_error=False, description="the same API key as a bearer token")
_UNAUTHORISED = {"WWW-Authenticate": 'Bearer realm="recommender"'}


async def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]


async def get_settings(state: StateDep) -> Settings:
    return state.settings


async def get_matcher(state: StateDep) -> Matcher:
    """The matcher current when the request started (a consistent snapshot)."""
    return state.matcher


async def get_store(state: StateDep) -> Store:
    return state.store


async def get_jobs(state: StateDep) -> JobRunner:
    return state.jobs


SettingsDep = Annotated[Settings, Depends(get_settings)]
MatcherDep = Annotated[Matcher, Depends(get_matcher)]
StoreDep = Annotated[Store, Depends(get_store)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting callers whose key has at least ``role``."""

    async def check(state: StateDep,
              api_key: Annotated[str | None, Security(_api_key)] = None,
              bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None) -> Principal:
        key = api_key or (bearer.credentials if bearer else None)
        if key is None:
            if role == "public" and not state.settings.public_requires_key:
                return Principal(key_id=ANONYMOUS_KEY_ID, role=None)
            raise ApiError(401, "an API key is required (X-API-Key header)",
                           [("header.X-API-Key", "missing")], headers=_UNAUTHORISED)
        principal = state.keys.identify(key)
        if principal is None:
            raise ApiError(401, "unknown API key", [("header.X-API-Key", "not a valid key")],
                           headers=_UNAUTHORISED)
        if not principal.may(role):
            raise ApiError(403, f"this endpoint needs the {role} role; the key has {principal.role}",
                           [("header.X-API-Key", f"role {principal.role} is not allowed")])
        return principal

    return check


PublicDep = Annotated[Principal, Depends(require("public"))]
CaseworkerDep = Annotated[Principal, Depends(require("caseworker"))]
AdminDep = Annotated[Principal, Depends(require("admin"))]
