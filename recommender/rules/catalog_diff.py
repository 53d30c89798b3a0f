"""What changed between two catalogs: policies added, removed, ended, and every rule changed.

Both sides are read as plain data (:mod:`recommender.rules.catalog_source`), so a diff reads
catalogs written for another schema too. Per policy present on both sides, the YAML mappings
are compared key by key, down to single values:

* a list whose items all carry a distinct key is matched item by item on it: criteria and
  scoring blocks on ``id``, ``by_date`` branches on ``from`` (the change carries that date as
  ``from``), references on ``document``, exclusions on ``policy``, windows on ``opens``;
* any other list (an ``in`` list of codes, ``uncertain`` notes, score bands) is compared whole;
  for a list of plain values the items added and removed are given too;
* anything else is compared by value (``True`` is not ``1``).

A change's ``path`` names the keys and matched items from the top of the policy file, e.g.
``criteria[staff_limit].value``, ``benefit.amount.by_date[2023-01-01].value``,
``relations.replaces``. The status of a policy is ``added`` / ``removed`` (one side only),
``ended`` (its ``valid_to`` was set or moved to another date), ``changed`` (any other change)
or ``unchanged``. The JSON shape is documented in ``docs/catalog-tools.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from recommender.rules.catalog_source import RawCatalog

Status = Literal["added", "removed", "ended", "changed", "unchanged"]
STATUSES: tuple[Status, ...] = ("added", "removed", "ended", "changed", "unchanged")

# List items are matched on the first of these keys that every item of both lists carries once.
_ITEM_KEYS = ("id", "from", "document", "policy", "opens")

WORDING: frozenset[str] = frozenset({"label_zh", "label_en", "description_zh", "description_en", "uncertain",
                                     "note_zh", "note_en"})
"""Keys of wording, not rules: ``catalog diff --rules-only`` leaves out changes ending in them."""
_LONG = 60   # a list of plain values longer than this (as text) shows only its added/removed items


@dataclass(frozen=True)
class Change:
    """One value that differs: ``change`` is ``added`` (no ``before``), ``removed`` (no
    ``after``) or ``changed``; ``effective`` is the ``from`` date of the ``by_date`` branch the
    path goes through, if any."""

    path: str
    change: Literal["added", "removed", "changed"]
    before: Any = None
    after: Any = None
    effective: str | None = None
    items_added: tuple[Any, ...] | None = None
    items_removed: tuple[Any, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "change": self.change, "before": self.before,
                               "after": self.after, "from": self.effective}
        if self.items_added is not None and self.items_removed is not None:
            out["items_added"] = list(self.items_added)
            out["items_removed"] = list(self.items_removed)
        return out


@dataclass(frozen=True)
class PolicyDiff:
    """The diff of one policy id; titles and dates from the newer side when it exists."""

    policy_id: str
    status: Status
    title_zh: str
    title_en: str
    family: str
    valid_from: str | None
    valid_to: str | None
    changes: tuple[Change, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"policy_id": self.policy_id, "status": self.status, "title_zh": self.title_zh,
                "title_en": self.title_en, "family": self.family, "valid_from": self.valid_from,
                "valid_to": self.valid_to, "changes": [c.as_dict() for c in self.changes]}


@dataclass(frozen=True)
class CatalogDiff:
    """Every policy id of either side, sorted, with its status and changes (those ending in a
    key of ``ignored`` left out)."""

    old: RawCatalog
    new: RawCatalog
    policies: tuple[PolicyDiff, ...] = field(default=())
    ignored: frozenset[str] = frozenset()

    def counts(self) -> dict[str, int]:
        """Policies per status (every status present, zero included)."""
        out: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for p in self.policies:
            out[p.status] += 1
        return out

    def with_status(self, *statuses: Status) -> list[PolicyDiff]:
        return [p for p in self.policies if p.status in statuses]

    def as_dict(self) -> dict[str, Any]:
        """The ``catalog diff --json`` document (``docs/catalog-tools.md``); unchanged policies
        are counted, not listed."""
        return {"old": _side(self.old), "new": _side(self.new), "ignored_keys": sorted(self.ignored),
                "summary": self.counts(),
                "policies": [p.as_dict() for p in self.policies if p.status != "unchanged"]}


def _side(c: RawCatalog) -> dict[str, Any]:
    return {"source": c.source, "version": c.version, "policies": len(c.policies)}


def _key_of(items: list[Any], other: list[Any]) -> str | None:
    for key in _ITEM_KEYS:
        ok = True
        for lst in (items, other):
            if not all(isinstance(x, dict) and key in x for x in lst):
                ok = False
                break
            values = [json.dumps(x[key], sort_keys=True) for x in lst]
            ok = len(set(values)) == len(values)
            if not ok:
                break
        if ok and (items or other):
            return key
    return None


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same kind (a boolean never equals a number)."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _scalars(values: list[Any]) -> bool:
    return all(isinstance(v, (str, int, float, bool)) or v is None for v in values)


def _walk_keyed(before: dict[str, Any], after: dict[str, Any], sub_path: Any, when: Any,
                out: list[Change]) -> None:
    """Entries of two keyed collections in order (``before``'s, then the new ones): added,
    removed, or walked into; ``sub_path(name)`` and ``when(name)`` give an entry's path and date."""
    for name in list(before) + [k for k in after if k not in before]:
        if name not in after:
            out.append(Change(sub_path(name), "removed", before=before[name], effective=when(name)))
        elif name not in before:
            out.append(Change(sub_path(name), "added", after=after[name], effective=when(name)))
        else:
            _walk(before[name], after[name], sub_path(name), when(name), out)


def _walk(before: Any, after: Any, path: str, effective: str | None, out: list[Change]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        _walk_keyed(before, after, lambda key: f"{path}.{key}" if path else str(key), lambda _: effective, out)
        return
    if isinstance(before, list) and isinstance(after, list):
        key = _key_of(before, after)
        if key is not None:
            old = {json.dumps(x[key], sort_keys=True): x for x in before}
            new = {json.dumps(x[key], sort_keys=True): x for x in after}
            item = {name: (old.get(name) or new[name])[key] for name in [*old, *new]}
            _walk_keyed(old, new, lambda name: f"{path}[{item[name] if isinstance(item[name], str) else name}]",
                        lambda name: str(item[name]) if key == "from" else effective, out)
            return
        if len(before) == len(after) and all(_same(a, b) for a, b in zip(before, after)):
            return
        if _scalars(before) and _scalars(after):
            gone = tuple(v for v in before if v not in after)
            came = tuple(v for v in after if v not in before)
            out.append(Change(path, "changed", before, after, effective, items_added=came, items_removed=gone))
            return
        if len(before) == len(after):       # formula arguments, windows without opens: by position
            for i, (a, b) in enumerate(zip(before, after)):
                _walk(a, b, f"{path}[{i}]", effective, out)
            return
        out.append(Change(path, "changed", before, after, effective))
        return
    if isinstance(before, (dict, list)) or isinstance(after, (dict, list)):
        if before != after:
            out.append(Change(path, "changed", before, after, effective))
        return
    if not _same(before, after):
        out.append(Change(path, "changed", before, after, effective))


def diff_policy(before: dict[str, Any], after: dict[str, Any], ignore: frozenset[str] = frozenset()) -> list[Change]:
    """Every change from one version of a policy file (plain data) to another, in file order;
    a change whose path ends in a key of ``ignore`` (e.g. :data:`WORDING`) is left out."""
    out: list[Change] = []
    _walk({k: v for k, v in before.items() if k != "id"}, {k: v for k, v in after.items() if k != "id"},
          "", None, out)
    return [c for c in out if c.path.rsplit(".", 1)[-1] not in ignore]


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None else str(value)


def _status(changes: list[Change], after: dict[str, Any]) -> Status:
    if not changes:
        return "unchanged"
    ended = any(c.path == "valid_to" for c in changes) and after.get("valid_to") is not None
    return "ended" if ended else "changed"


def diff_catalogs(old: RawCatalog, new: RawCatalog, ignore: frozenset[str] = frozenset()) -> CatalogDiff:
    """Compare two catalogs read as plain data (see the module docstring); ``ignore`` as for
    :func:`diff_policy`."""
    out: list[PolicyDiff] = []
    for pid in sorted(set(old.policies) | set(new.policies)):
        before, after = old.policies.get(pid), new.policies.get(pid)
        raw = after if after is not None else before
        assert raw is not None
        if before is None or after is None:
            status: Status = "added" if before is None else "removed"
            changes: list[Change] = []
        else:
            changes = diff_policy(before, after, ignore)
            status = _status(changes, after)
        out.append(PolicyDiff(pid, status, _text(raw, "title_zh"), _text(raw, "title_en"), _text(raw, "family"),
                              raw.get("valid_from"), raw.get("valid_to"), tuple(changes)))
    return CatalogDiff(old, new, tuple(out), ignore)


def show(value: Any) -> str:
    """A value as one line for the table: ``—`` for none, plain text, or compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def diff_rows(diff: CatalogDiff) -> list[tuple[str, str, str, str, str, str, str]]:
    """The table of ``catalog diff``: ``(policy, 名称, status, path, before, after, from)`` per
    change (a changed list of plain values adds ``(+item, −item)`` to ``after``, or, when longer
    than 60 characters, shows only the items removed and added); an added or removed policy is
    one row with its validity."""
    rows: list[tuple[str, str, str, str, str, str, str]] = []
    for p in diff.policies:
        if p.status == "unchanged":
            continue
        if not p.changes:
            validity = f"{p.valid_from or '—'} .. {p.valid_to or 'open'}"
            before, after = (validity, "—") if p.status == "removed" else ("—", validity)
            rows.append((p.policy_id, p.title_zh, p.status, "valid_from .. valid_to", before, after, "—"))
            continue
        for c in p.changes:
            before, after = show(c.before), show(c.after)
            if c.items_added or c.items_removed:
                came = [f"+{show(v)}" for v in c.items_added or ()]
                gone = [f"−{show(v)}" for v in c.items_removed or ()]
                if max(len(before), len(after)) > _LONG:    # long notes: only what came and went
                    before, after = "; ".join(gone) or "—", "; ".join(came) or "—"
                else:
                    after += f" ({', '.join(came + gone)})"
            rows.append((p.policy_id, p.title_zh, p.status, c.path, before, after, c.effective or "—"))
    return rows


def summary_rows(diff: CatalogDiff) -> list[tuple[str, str, str, str, str]]:
    """One row per policy not unchanged: ``(policy, 名称, status, changes, valid_to)``."""
    return [(p.policy_id, p.title_zh, p.status, str(len(p.changes)), p.valid_to or "open")
            for p in diff.policies if p.status != "unchanged"]
