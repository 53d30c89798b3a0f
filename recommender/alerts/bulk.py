"""A caseworker subscribes the firms of a registry upload, each with its own recorded consent.

The registry (CSV, XLSX or Parquet; SPEC §2 columns, read by the one registry reader with its
rules) carries more columns per firm: ``consent`` (yes/no, as any yes/no cell: ``true``,
``1``, ``yes``, ``是`` … — only a yes subscribes the firm), ``webhook_url`` and, where the
service sends e-mail, ``email`` (a row needs one of the two). A row is subscribed, or
rejected with its row number, field and reason (a profile error, no consent, a bad webhook
URL or address): every row is accounted for. Consent is recorded as given through the
caseworker (``consent_by`` = their key id).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from recommender.alerts.run import AlertsConfig, subscribe
from recommender.alerts.subscription import SubscriptionRequest
from recommender.errors import InputFileError
from recommender.matching import Matcher
from recommender.profile import PROFILE_KINDS, YES_WORDS, FirmProfile, iter_raw_chunks, read_registry
from recommender.store import Store

EXTRA_COLUMNS = ("consent", "webhook_url", "email")


def _integer_fields() -> frozenset[str]:
    props = FirmProfile.model_json_schema()["properties"]
    return frozenset(name for name, prop in props.items() if '"integer"' in json.dumps(prop))


def _profile_dict(row: pd.Series, integers: frozenset[str]) -> dict[str, Any]:
    """A validated registry row (typed frame cells) as the profile's JSON-like fields."""
    out: dict[str, Any] = {}
    for name, kind in PROFILE_KINDS.items():
        value = row.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
            continue
        if kind == "bool":
            out[name] = bool(value)
        elif kind == "number":
            out[name] = int(value) if name in integers else float(value)
        elif kind == "date":
            out[name] = pd.Timestamp(value).date()
        elif name == "certifications":
            out[name] = [c for c in str(value).split(";") if c]
        else:
            out[name] = value
    return out


def _text(cell: Any) -> str:
    """A cell as trimmed text; an empty or missing cell (``None``, NaN) as ``""``."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return ""
    return str(cell).strip()


def _extra_cells(path: Path) -> dict[int, dict[str, Any]]:
    """Row number (as the registry reader numbers rows) → its consent, webhook and e-mail cells.

    Raises
    ------
    InputFileError
        The header names a column that is neither a profile field nor one of these two.
    """
    cells: dict[int, dict[str, Any]] = {}
    row = 1
    for raw in iter_raw_chunks(path):
        unknown = sorted(str(c) for c in raw.columns
                         if c not in PROFILE_KINDS and c not in EXTRA_COLUMNS and not str(c).startswith(" "))
        if unknown:
            raise InputFileError(f"unknown column(s) {', '.join(unknown)} (SPEC §2 fields, consent, "
                                 "webhook_url and email only)", path=str(path))
        for record in raw.to_dict("records"):
            cells[row] = {c: record.get(c) for c in EXTRA_COLUMNS}
            row += 1
    return cells


def subscribe_registry(store: Store, matcher: Matcher, path: Path, config: AlertsConfig, *, families: list[str],
                       policies: list[str], key_id: str, role: str, max_rows: int = 1000,
                       today: dt.date | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Subscribe each consenting firm of the registry at ``path``; ``(subscribed, rejects)``.

    ``subscribed`` rows: ``row, firm_id, id, unsubscribe_token, secret, expires_at`` (the
    token and secret to hand to the firm; shown only here). ``rejects``: ``row, firm_id,
    field, reason``. ``families`` and ``policies`` (already checked) apply to every firm.

    Raises
    ------
    InputFileError
        An unknown column, an unreadable file, more than ``max_rows`` rows.
    """
    extra = _extra_cells(path)
    if len(extra) > max_rows:
        raise InputFileError(f"{len(extra)} rows; at most {max_rows} firms per upload", path=path.name)
    valid, bad = read_registry(path, matcher.ref, allow_unknown_columns=True)
    rejects = [{"row": int(r.row), "firm_id": r.firm_id if isinstance(r.firm_id, str) else None,
                "field": str(r.field), "reason": str(r.reason)} for r in bad.itertuples()
               if str(r.field) not in EXTRA_COLUMNS]
    integers = _integer_fields()
    subscribed: list[dict[str, Any]] = []
    for _, row in valid.iterrows():
        number = int(row["_row"])
        firm_id = str(row["firm_id"])
        cells = extra.get(number, {})
        consent = _text(cells.get("consent")).lower() in YES_WORDS
        if not consent:
            rejects.append({"row": number, "firm_id": firm_id, "field": "consent",
                            "reason": "no consent recorded for this firm (the consent column must say yes)"})
            continue
        url, email = _text(cells.get("webhook_url")), _text(cells.get("email"))
        try:
            request = SubscriptionRequest.model_validate(
                {"profile": _profile_dict(row, integers), "email": email or None, "webhook_url": url or None,
                 "families": families, "policies": policies, "consent": True},
                context={"ref": matcher.ref, "email_enabled": config.email_enabled})
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(p) for p in first["loc"][1:]) if first["loc"][0] == "profile" else str(first["loc"][0])
            rejects.append({"row": number, "firm_id": firm_id, "field": field,
                            "reason": str(first["msg"]).removeprefix("Value error, ")})
            continue
        record, token = subscribe(store, matcher, request, config, key_id=key_id, role=role,
                                  consent_by=key_id, today=today)
        subscribed.append({"row": number, "firm_id": firm_id, "id": record.id, "unsubscribe_token": token,
                           "secret": record.secret, "expires_at": record.expires_at})
    return subscribed, sorted(rejects, key=lambda r: (r["row"], r["field"]))
