"""What changed for one firm since the last run: its known state and the alerts it earns.

The *known state* of a subscription, per policy of interest, is what the last run (or the
subscription itself) saw: ``{"verdict", "open", "window", "closes", "criteria": {id:
outcome}}`` — the verdict, whether the application window was open, the window as
``opens..closes`` (its key), and each top-level criterion's outcome (``met`` / ``not_met`` /
``unknown``; never a figure). Alerts (issue 24):

* ``new_match`` — a policy is eligible or undetermined **and its window is open** now, and
  was not before (absent: a new policy; or ineligible under the old rule; or its window had
  not opened). Once per policy and window.
* ``deadline`` — an eligible or undetermined policy whose open window closes within
  :data:`DEADLINE_DAYS` days (0 to 14 days left). Once per policy and window.
* ``ended`` — a policy the firm held as **eligible** is no longer eligible (it ended, its
  rule changed, the firm's answers no longer meet it) or left the catalog. Once per policy
  and window.

``reasons`` say why in words: the criteria whose outcome changed (label, old → new), the
window that opened, the closing date; never a firm's figure.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from recommender.alerts.subscription import interested
from recommender.store import AlertKind, OutboxAlert

DEADLINE_DAYS = 14
"""A reminder is sent when an open window closes within this many days (Simpler.Grants.gov's 14)."""
CANDIDATES = ("eligible", "undetermined")


def window_key(window: dict[str, Any]) -> str:
    """``opens..closes`` of an ``application_window`` block (``closes`` empty when open-ended)."""
    return f"{window.get('opens') or ''}..{window.get('closes') or ''}"


def current_state(result: dict[str, Any], families: list[str], policies: list[str]) -> dict[str, Any]:
    """The known state (module docstring) of a SPEC §5 result listing every policy
    (``all=true``), keeping the policies of interest."""
    state: dict[str, Any] = {}
    for m in result["matches"]:
        if not interested(m["policy_id"], m["family"], families, policies):
            continue
        w = m["application_window"]
        state[m["policy_id"]] = {"verdict": m["verdict"], "open": w["status"] == "open", "window": window_key(w),
                                 "closes": w.get("closes"),
                                 "criteria": {c["id"]: c["outcome"] for c in m.get("criteria", [])}}
    return state


def _actionable(entry: dict[str, Any] | None) -> bool:
    return entry is not None and entry["verdict"] in CANDIDATES and bool(entry["open"])


def _criteria_changes(match: dict[str, Any] | None, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """``label: old → new`` for each criterion whose outcome changed."""
    if old is None or new is None:
        return []
    labels = {c["id"]: c.get("label", c["id"]) for c in (match or {}).get("criteria", [])}
    before, after = old.get("criteria", {}), new.get("criteria", {})
    return [f"{labels.get(cid, cid)}: {before.get(cid, '—')} → {outcome}"
            for cid, outcome in after.items() if before.get(cid) != outcome]


def _alert(policy_id: str, kind: AlertKind, window: str, match: dict[str, Any] | None, entry: dict[str, Any] | None,
           reasons: list[str], link: str) -> OutboxAlert:
    payload = {
        "policy_id": policy_id,
        "title": match["title"] if match else None,
        "kind": kind,
        "verdict": match["verdict"] if match else None,
        # what the firm may get: nothing to estimate once it no longer qualifies
        "estimated_benefit": match.get("estimated_benefit") if match and match["verdict"] in CANDIDATES else None,
        "closes_on": entry.get("closes") if entry else None,
        "reasons": reasons,
        "link": link,
    }
    return OutboxAlert(policy_id=policy_id, kind=kind, window=window, payload=payload)


def alerts_for(known: dict[str, Any], current: dict[str, Any], result: dict[str, Any], as_of: dt.date,
               link: str) -> list[OutboxAlert]:
    """The alerts earned between ``known`` and ``current`` on ``as_of`` (each may already
    have been sent: the outbox keeps the first), in catalog order then kind.

    ``result`` is the SPEC §5 result ``current`` was read from (titles, labels, benefits);
    ``link`` the result page, with ``{policy_id}`` filled in per alert.
    """
    matches = {m["policy_id"]: m for m in result["matches"]}
    out: list[OutboxAlert] = []
    for pid, now in current.items():
        match, before = matches[pid], known.get(pid)
        url = link.format(policy_id=pid)
        if _actionable(now) and not _actionable(before):
            if before is None:
                reasons = ["新纳入政策目录 / newly in the catalog"]
            else:
                reasons = _criteria_changes(match, before, now)
                if not before["open"]:
                    w = match["application_window"]
                    reasons.append(f"申报窗口已开放 / application window open: {w['opens']} – {w.get('closes') or '…'}")
                if not reasons:
                    reasons = [f"{before['verdict']} → {now['verdict']}"]
            out.append(_alert(pid, "new_match", now["window"], match, now, reasons, url))
        days = match["application_window"].get("days_left")
        if _actionable(now) and days is not None and 0 <= days <= DEADLINE_DAYS:
            reasons = [f"申报截止 {now['closes']}，还剩 {days} 天 / applications close on {now['closes']}, "
                       f"{days} days left"]
            out.append(_alert(pid, "deadline", now["window"], match, now, reasons, url))
        if before is not None and before["verdict"] == "eligible" and now["verdict"] != "eligible":
            reasons = [c for c in _criteria_changes(match, before, now) if not c.endswith("→ met")]
            out.append(_alert(pid, "ended", before["window"], match, now,
                              reasons or [f"eligible → {now['verdict']}"], url))
    for pid, before in known.items():
        if pid not in current and before["verdict"] == "eligible" and pid not in matches:
            out.append(_alert(pid, "ended", before["window"], None, before,
                              ["已移出政策目录 / no longer in the catalog"], link.format(policy_id=pid)))
    return out
