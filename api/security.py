"""API keys and roles: keys are stored as sha256 digests and compared in constant time.

A request presents its key in the ``X-API-Key`` header (or ``Authorization: Bearer <key>``).
Roles are ordered ``public < caseworker < admin``; a route names the least role it needs.
The key id recorded in the audit log is the first 12 hex digits of the digest: enough to
tell keys apart, useless for recovering the key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from recommender import ROLES, Role

KEY_HEADER = "X-API-Key"
ANONYMOUS_KEY_ID = "anonymous"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id (never the key) and its role."""

    key_id: str
    role: Role | None                # None: no key presented

    def may(self, needed: Role) -> bool:
        return self.role is not None and ROLES.index(self.role) >= ROLES.index(needed)


class KeyRing:
    """The configured keys: sha256 digest → role."""

    def __init__(self, digests: dict[str, Role]) -> None:
        self._entries = [(bytes.fromhex(d), role) for d, role in digests.items()]

    def identify(self, key: str) -> Principal | None:
        """The principal holding ``key``, or ``None`` for an unknown key.

        Every stored digest is compared (with :func:`hmac.compare_digest`), so the time taken
        does not depend on which key, if any, matched.
        """
        digest = _digest(key)
        found: Principal | None = None
        for stored, role in self._entries:
            if hmac.compare_digest(stored, digest):
                found = Principal(key_id=digest.hex()[:12], role=role)
        return found

    def role_of(self, key_id: str) -> Role | None:
        """The role of the configured key recorded as ``key_id`` (``None``: no such key now)."""
        roles = {stored.hex()[:12]: role for stored, role in self._entries}
        return roles.get(key_id)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def key_id(key: str) -> str:
    """The id under which ``key`` is recorded (audit log, job owner): 12 hex digits of its digest."""
    return _digest(key).hex()[:12]
