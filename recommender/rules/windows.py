"""Application windows (申报时间): is a policy open, upcoming or closed on ``as_of``?

A policy file may list ``windows: [{opens, closes, note_zh, note_en}]``; either bound may be
left out (open-ended). Windows are clipped to the policy's validity (``valid_from`` ..
``valid_to``). A policy without windows is ``open`` while it is in force. ``days_left`` counts
calendar days from ``as_of`` to the closing day (0 on the closing day itself) and is ``null``
when the window has no closing date or is not open.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from recommender.rules.catalog import Policy, Window

Status = Literal["open", "upcoming", "closed"]


def _bounds(policy: Policy, window: Window | None) -> tuple[dt.date, dt.date | None]:
    """``(opens, closes)`` of a window clipped to the policy's validity."""
    h = policy.header
    opens = h.valid_from if window is None or window.opens is None else max(window.opens, h.valid_from)
    closes = h.valid_to if window is None or window.closes is None else (
        window.closes if h.valid_to is None else min(window.closes, h.valid_to))
    return opens, closes


def _block(status: Status, opens: dt.date, closes: dt.date | None, as_of: dt.date,
           window: Window | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": status,
        "opens": opens.isoformat(),
        "closes": closes.isoformat() if closes else None,
        "days_left": (closes - as_of).days if status == "open" and closes is not None else None,
    }
    if status == "upcoming":
        out["days_until_open"] = (opens - as_of).days
    if window is not None and (window.note_zh or window.note_en):
        out["note"] = f"{window.note_zh} / {window.note_en}".strip(" /")
    return out


def window_status(policy: Policy, as_of: dt.date) -> dict[str, Any]:
    """The ``application_window`` block of a match: ``{status, opens, closes, days_left}``.

    Parameters
    ----------
    policy : Policy
        The policy, with its optional ``windows``.
    as_of : datetime.date
        The evaluation date.

    Returns
    -------
    dict
        ``status`` is ``open`` (as_of inside a window, bounds inclusive), ``upcoming`` (a later
        window exists; ``days_until_open`` is given) or ``closed``; ``opens``/``closes`` are ISO
        dates of the window concerned (``closes`` null when open-ended).

    Examples
    --------
    A policy in force from 2022-01-01 to 2022-12-31 without windows is open on 2022-06-30
    with 184 days left.
    """
    windows: list[Window | None] = list(policy.header.windows) or [None]
    spans = sorted(((w, *_bounds(policy, w)) for w in windows), key=lambda t: t[1])
    spans = [s for s in spans if s[2] is None or s[1] <= s[2]]   # drop windows outside validity
    for w, opens, closes in spans:
        if opens <= as_of and (closes is None or as_of <= closes):
            return _block("open", opens, closes, as_of, w)
    for w, opens, closes in spans:
        if as_of < opens:
            return _block("upcoming", opens, closes, as_of, w)
    if spans:
        w, opens, closes = spans[-1]
        return _block("closed", opens, closes, as_of, w)
    opens, closes = _bounds(policy, None)
    return _block("closed", opens, closes, as_of, None)


def window_table(policies: list[Policy], as_of: dt.date) -> dict[str, dict[str, Any]]:
    """``policy_id → application_window`` for every policy (the same for every firm)."""
    return {p.id: window_status(p, as_of) for p in policies}
