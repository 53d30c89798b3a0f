"""What ends soon: ``recommender catalog expiring [--within N] [--as-of DATE]``.

Two lists, both over the loaded catalog:

* **ending** — a policy whose validity (``valid_to``) or an application window's closing day
  (``windows[].closes``) falls within ``N`` days of ``as_of``, both ends inclusive: on
  ``as_of`` itself (0 days left) up to ``as_of + N`` (N days left); ``as_of + N + 1`` is not
  listed. A window is listed only when it closes before the policy's validity ends (when it
  closes with or after it, the ``valid_to`` row says so) and not before the policy starts.
* **ended without a successor** — a policy whose ``valid_to`` is before ``as_of`` and that has
  no successor (``relations.replaced_by`` on it, ``relations.replaces`` on the new version; the
  loader requires both sides): the catalog may be missing what replaced it (or the measure
  simply ended without one).

Each row names the successors found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from recommender.rules.catalog import Policy

Ending = Literal["valid_to", "window"]


@dataclass(frozen=True)
class Expiry:
    """One thing that ends: ``what`` ended or ends on ``ends_on`` (``days_left`` from
    ``as_of``, negative once past)."""

    policy_id: str
    title_zh: str
    title_en: str
    what: Ending
    ends_on: dt.date
    days_left: int
    successors: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"policy_id": self.policy_id, "title_zh": self.title_zh, "title_en": self.title_en,
                "what": self.what, "ends_on": self.ends_on.isoformat(), "days_left": self.days_left,
                "successors": list(self.successors)}


@dataclass(frozen=True)
class ExpiryReport:
    as_of: dt.date
    within: int
    ending: tuple[Expiry, ...]
    ended_without_successor: tuple[Expiry, ...]

    def as_dict(self) -> dict[str, Any]:
        """The ``catalog expiring --json`` document (``docs/catalog-tools.md``)."""
        return {"as_of": self.as_of.isoformat(), "within_days": self.within,
                "ending": [e.as_dict() for e in self.ending],
                "ended_without_successor": [e.as_dict() for e in self.ended_without_successor]}


def successors_of(policies: Iterable[Policy]) -> dict[str, tuple[str, ...]]:
    """``policy id → its successors`` (sorted): the ids in its ``relations.replaced_by`` and those
    of the policies whose ``relations.replaces`` names it (the loader checks both sides agree)."""
    out: dict[str, set[str]] = {}
    for p in policies:
        out.setdefault(p.id, set()).update(p.header.relations.replaced_by)
        for old in p.header.relations.replaces:
            out.setdefault(old, set()).add(p.id)
    return {k: tuple(sorted(v)) for k, v in out.items() if v}


def _ends(policy: Policy) -> list[tuple[Ending, dt.date]]:
    h = policy.header
    out: list[tuple[Ending, dt.date]] = []
    if h.valid_to is not None:
        out.append(("valid_to", h.valid_to))
    for w in h.windows:
        if w.closes is None or w.closes < h.valid_from:
            continue
        if h.valid_to is None or w.closes < h.valid_to:
            out.append(("window", w.closes))
    return out


def expiring(policies: Iterable[Policy], as_of: dt.date, within: int) -> ExpiryReport:
    """The report described in the module docstring.

    Parameters
    ----------
    policies : iterable of Policy
        The catalog.
    as_of : datetime.date
        The day counted from.
    within : int
        Days ahead, at least 0; an end on ``as_of + within`` is listed.

    Raises
    ------
    ValueError
        ``within`` is negative.

    Examples
    --------
    A policy valid to 2026-03-06 is listed on 2026-12-06 with ``--within 90`` (90 days left)
    and not with ``--within 89``.
    """
    if within < 0:
        raise ValueError(f"within must be at least 0 days; got {within}")
    chosen = list(policies)
    after = successors_of(chosen)
    last = as_of + dt.timedelta(days=within)
    ending: list[Expiry] = []
    ended: list[Expiry] = []
    for p in chosen:
        h, succ = p.header, after.get(p.id, ())
        for what, day in _ends(p):
            if as_of <= day <= last:
                ending.append(Expiry(p.id, h.title_zh, h.title_en, what, day, (day - as_of).days, succ))
        if h.valid_to is not None and h.valid_to < as_of and not succ:
            ended.append(Expiry(p.id, h.title_zh, h.title_en, "valid_to", h.valid_to, (h.valid_to - as_of).days, ()))
    ending.sort(key=lambda e: (e.ends_on, e.policy_id, e.what))
    ended.sort(key=lambda e: (e.ends_on, e.policy_id))
    return ExpiryReport(as_of, within, tuple(ending), tuple(ended))
