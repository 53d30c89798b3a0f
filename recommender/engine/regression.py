"""The catalog regression snapshot: known firms' verdicts and benefits, pinned.

The snapshot holds, for a few fixed dates (:data:`SNAPSHOT_DATES`), the verdict and the
estimated benefit (low and high, yuan) of

* every sample firm (``data/samples/firms.jsonl``) for every policy of the catalog, and
* every hand-written case (``tests/cases/*.yaml``) for the policy it was written for
  (its profile built by :func:`recommender.engine.policy_cases.case_profile`).

It is stored in ``tests/snapshots/catalog-regression.json``: one line per (subject, policy)
with one cell per date, sorted, so a review diff shows each moved line whole. A cell reads
``"eligible 120000"``, ``"undetermined 50000..200000"`` (low..high) or ``"ineligible"`` (no
estimate); amounts are rounded to the fen. A test recomputes the snapshot and fails on every
move; ``recommender catalog snapshot --update --reason "…"`` rewrites it and appends the
reason, the date, the catalog version and the moves to the history file
(``tests/snapshots/catalog-regression-history.md``), so no change to the rules' results goes
in unexplained.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recommender.engine.eligibility import VERDICTS, benefit_matrix, evaluate_catalog
from recommender.engine.policy_cases import read_cases
from recommender.errors import CatalogError, RecommenderError
from recommender.profile import FirmProfile, ReferenceTables, parse_profile, profiles_to_frame, read_profiles
from recommender.rules import Catalog

SNAPSHOT_DATES: tuple[dt.date, ...] = (dt.date(2022, 6, 30), dt.date(2023, 6, 30), dt.date(2025, 10, 1),
                                       dt.date(2026, 12, 6))
"""2022 (policy-facts.md), mid-2023 (the first extensions), the 2025-09 filing-period switch and
the day the 2023–2026 update was compiled."""

Entries = dict[str, list[str]]
"""``"firm <firm_id> | <policy id>"`` or ``"case <policy id>::<case name>"`` → one cell per
snapshot date."""


def _amount(x: float) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def cell(verdict: str, low: float, high: float) -> str:
    """One snapshot cell (see the module docstring)."""
    if math.isnan(low) or math.isnan(high):
        return verdict
    lo, hi = _amount(low), _amount(high)
    return f"{verdict} {lo}" if lo == hi else f"{verdict} {lo}..{hi}"


def _grid(catalog: Catalog, profiles: list[FirmProfile], ref: ReferenceTables,
          as_of: dt.date) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    elig = evaluate_catalog(catalog, profiles_to_frame(profiles), as_of, ref)
    low, high = benefit_matrix(elig)
    return elig.policy_ids, elig.verdict_matrix(), low, high


def compute_snapshot(catalog: Catalog, ref: ReferenceTables, samples: Path, cases_dir: Path,
                     dates: Sequence[dt.date] = SNAPSHOT_DATES) -> Entries:
    """Every entry of the snapshot, sorted by key.

    Raises
    ------
    RecommenderError
        A sample or case profile is invalid, or a case names a policy not in the catalog.
    """
    firms = read_profiles(samples, ref)
    cases = read_cases(cases_dir)
    case_profiles = [parse_profile(c.profile, record=c.label, ref=ref) for c in cases]
    unknown = sorted({c.policy for c in cases} - set(catalog.ids))
    if unknown:
        raise CatalogError(f"cases name policies not in the catalog: {', '.join(unknown)}")
    out: Entries = {}
    for as_of in dates:
        ids, verdicts, low, high = _grid(catalog, firms, ref, as_of)
        for i, firm in enumerate(firms):
            for j, pid in enumerate(ids):
                out.setdefault(f"firm {firm.firm_id} | {pid}", []).append(
                    cell(VERDICTS[int(verdicts[i, j])], float(low[i, j]), float(high[i, j])))
        if not cases:
            continue
        ids, verdicts, low, high = _grid(catalog, case_profiles, ref, as_of)
        col = {pid: j for j, pid in enumerate(ids)}
        for i, case in enumerate(cases):
            j = col[case.policy]
            out.setdefault(f"case {case.label}", []).append(
                cell(VERDICTS[int(verdicts[i, j])], float(low[i, j]), float(high[i, j])))
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class Move:
    """One cell that differs from the stored snapshot (``None``: the entry is new or gone)."""

    key: str
    date: str
    before: str | None
    after: str | None

    def __str__(self) -> str:
        return f"{self.key} @ {self.date}: {self.before or '(none)'} → {self.after or '(none)'}"


def snapshot_moves(stored: Entries, stored_dates: Sequence[str], current: Entries,
            dates: Sequence[dt.date] = SNAPSHOT_DATES) -> list[Move]:
    """Every cell of ``current`` that differs from ``stored``, by key then date."""
    now = [d.isoformat() for d in dates]
    moves: list[Move] = []
    for key in sorted(set(stored) | set(current)):
        old = dict(zip(stored_dates, stored.get(key, [])))
        new = dict(zip(now, current.get(key, [])))
        for day in sorted(set(old) | set(new)):
            if old.get(day) != new.get(day):
                moves.append(Move(key, day, old.get(day), new.get(day)))
    return moves


def read_snapshot(path: Path) -> tuple[list[str], Entries]:
    """``(dates, entries)`` of a stored snapshot; no file reads as no entries."""
    if not path.exists():
        return [], {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [str(d) for d in doc["dates"]], {str(k): [str(c) for c in v] for k, v in doc["entries"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise RecommenderError(f"{path}: not a regression snapshot ({err})") from None


def render_snapshot(entries: Entries, dates: Sequence[dt.date] = SNAPSHOT_DATES) -> str:
    """The snapshot file's text: sorted, one entry per line, so a diff shows whole entries."""
    lines = [json.dumps(k, ensure_ascii=False) + ": " + json.dumps(v, ensure_ascii=False)
             for k, v in sorted(entries.items())]
    head = ('{"about": "recommender catalog snapshot --update --reason TEXT regenerates this file; '
            'see recommender/engine/regression.py",\n'
            f' "dates": {json.dumps([d.isoformat() for d in dates])},\n'
            ' "entries": {\n')
    return head + ",\n".join(f"  {line}" for line in lines) + "\n }\n}\n"


def moves_by_entry(moves: list[Move]) -> list[str]:
    """One line per moved entry: ``key: date before → after; …`` (a new or gone entry says so)."""
    grouped: dict[str, list[Move]] = {}
    for m in moves:
        grouped.setdefault(m.key, []).append(m)
    lines = []
    for key, ms in grouped.items():
        if all(m.before is None for m in ms):
            lines.append(f"{key} (new): " + "; ".join(f"{m.date} {m.after}" for m in ms))
        elif all(m.after is None for m in ms):
            lines.append(f"{key} (gone): " + "; ".join(f"{m.date} {m.before}" for m in ms))
        else:
            lines.append(f"{key}: " + "; ".join(f"{m.date} {m.before or '(none)'} → {m.after or '(none)'}"
                                                  for m in ms))
    return lines


def history_entry(reason: str, day: dt.date, version: str, moves: list[Move], first: bool) -> str:
    """One markdown section of the history file: date, catalog version, reason and the moves
    (one line per moved entry; the first snapshot only counts its entries)."""
    entries = moves_by_entry(moves)
    title = (f"## {day.isoformat()} · catalog {version} · "
             + ("first snapshot" if first else f"{len(moves)} cells of {len(entries)} entries moved"))
    body = [title, "", f"Reason: {' '.join(reason.split())}", ""]
    if first:
        body.append(f"First snapshot: {len(entries)} entries, nothing to compare with.")
    else:
        body += [f"- {line}" for line in entries]
    return "\n".join(body) + "\n\n"


_HISTORY_HEAD = ("# Catalog regression snapshot: history\n\n"
                 "Why `tests/snapshots/catalog-regression.json` changed, newest last. Written by "
                 "`recommender catalog snapshot --update --reason \"…\"`; do not edit by hand.\n\n")


def update_snapshot(snapshot: Path, history: Path, entries: Entries, version: str, reason: str,
                    day: dt.date, dates: Sequence[dt.date] = SNAPSHOT_DATES) -> list[Move]:
    """Write ``entries`` to ``snapshot`` and record the moves with ``reason`` in ``history``.

    Nothing is written when nothing moved. Returns the moves.

    Raises
    ------
    ValueError
        ``reason`` is blank.
    """
    if not reason.strip():
        raise ValueError("a snapshot update needs a reason")
    stored_dates, stored = read_snapshot(snapshot)
    moves = snapshot_moves(stored, stored_dates, entries, dates)
    if not moves:
        return moves
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    snapshot.write_text(render_snapshot(entries, dates), encoding="utf-8")
    old = history.read_text(encoding="utf-8") if history.exists() else _HISTORY_HEAD
    history.write_text(old + history_entry(reason, day, version, moves, first=not stored), encoding="utf-8")
    return moves
