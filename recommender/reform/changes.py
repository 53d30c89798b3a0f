"""A reform as data: changes to the catalog's source, or a second whole catalog.

A change is ``{policy_id, path, value}``. ``path`` is dotted and addresses the policy's YAML
mapping: a key of a mapping (``valid_to``, ``benefit.amount``), an item of a list by its
``id`` or its position (``criteria.staff_limit.value``, ``criteria.rd_ratio.tiers.0.value``).
A criterion id may be written without the ids of the ``all``/``any`` groups above it
(``criteria.rd_ratio.value`` finds ``rd_ratio`` inside ``criteria.innovation.any``) when it is
the only item of that id below. The last key must exist, except a top-level key of the policy
header (``valid_to``, ``windows``, …), which may be added. An empty (or absent) ``path``
addresses the whole policy: a mapping ``value`` adds it (or replaces it), ``value: null``
removes it. A text value that is an ISO date (``"2023-12-31"``) is taken as that date, as
YAML takes an unquoted one.

The changes are applied to the catalog's source data (:func:`recommender.rules.read_policy_sources`)
and the result is built and validated exactly as the catalog loader builds a catalog
(:func:`recommender.rules.build_catalog`): a path that does not exist, or a value the catalog
would refuse, is a :class:`~recommender.errors.CatalogError` naming the policy and the path.
Nothing in a change is ever run.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from recommender.errors import CatalogError
from recommender.profile import ReferenceTables
from recommender.rules import (Catalog, UniqueKeyLoader, build_catalog, content_version,
                               read_policy_sources)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HEADER_KEYS = frozenset({"id", "title_zh", "title_en", "family", "issuer", "region_prefixes", "description_zh",
                          "description_en", "references", "valid_from", "valid_to", "confidence", "uncertain",
                          "criteria", "benefit", "relations", "windows"})
"""Top-level keys of a policy file (``rules.catalog._Header``; a test holds them equal): a
change may add one a file leaves out."""
_POLICY_ID = re.compile(r"^[a-z]{2}-[a-z0-9-]+$")


@dataclass(frozen=True)
class Change:
    """One change: ``value`` at ``path`` of policy ``policy_id`` (``path`` ``""``: the policy)."""

    policy_id: str
    path: str
    value: Any

    def canonical(self) -> dict[str, Any]:
        return {"policy_id": self.policy_id, "path": self.path, "value": _plain(self.value)}


@dataclass(frozen=True)
class Reform:
    """The baseline catalog, the reformed one, the policies whose source differs and the hash."""

    base: Catalog
    reformed: Catalog
    touched: tuple[str, ...]
    """Ids (sorted) of the policies changed, added or removed: the only ones re-evaluated."""
    reform_hash: str
    """SHA-256 (hex) of the canonical JSON of the changes, or of the reform catalog's files."""


def _plain(value: Any) -> Any:
    """JSON-ready data: dates as ISO text, keys as text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _dated(value: Any, where: str, policy_id: str) -> Any:
    """``value`` with every ISO-date text as a date (as YAML reads an unquoted date)."""
    if isinstance(value, dict):
        return {k: _dated(v, where, policy_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_dated(v, where, policy_id) for v in value]
    if isinstance(value, str) and _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise CatalogError(f"{value!r} is not a calendar date", policy_id=policy_id, path=where) from None
    return value


def parse_changes(data: Any) -> list[Change]:
    """Changes from parsed JSON/YAML: a list of ``{policy_id, path, value}`` mappings.

    Raises
    ------
    CatalogError
        Not a list of such mappings (the item and key named as ``changes.N.key``).
    """
    if not isinstance(data, list) or not data:
        raise CatalogError("a reform is a non-empty list of {policy_id, path, value} changes", path="changes")
    out = []
    for i, item in enumerate(data):
        where = f"changes.{i}"
        if not isinstance(item, dict):
            raise CatalogError("a change is a mapping {policy_id, path, value}", path=where)
        unknown = sorted(set(map(str, item)) - {"policy_id", "path", "value"})
        if unknown:
            raise CatalogError(f"unknown key {unknown[0]!r} (a change has policy_id, path, value)",
                               path=f"{where}.{unknown[0]}")
        pid = item.get("policy_id")
        if not isinstance(pid, str) or not _POLICY_ID.match(pid):
            raise CatalogError(f"policy_id must be a policy id such as 'cn-srdi-sme', got {pid!r}",
                               path=f"{where}.policy_id")
        path = item.get("path") or ""
        if not isinstance(path, str) or any(not seg for seg in path.split(".")) and path:
            raise CatalogError(f"path must be dotted keys such as 'criteria.rd_ratio.value', got {path!r}",
                               policy_id=pid, path=f"{where}.path")
        if "value" not in item:
            raise CatalogError("missing 'value' (use null to remove a policy or clear a key)",
                               policy_id=pid, path=f"{where}.value")
        out.append(Change(pid, path, _dated(item["value"], path or "value", pid)))
    return out


def read_changes(path: Path) -> list[Change]:
    """Changes from a YAML or JSON file (JSON is read as YAML; duplicate keys refused)."""
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=UniqueKeyLoader)  # noqa: S506 - safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise CatalogError(f"cannot read the changes file {path}: {err}".replace("\n", " "), path="changes") from None
    return parse_changes(data)


def changes_hash(changes: list[Change]) -> str:
    """SHA-256 of the changes as canonical JSON (keys sorted, no spaces, UTF-8)."""
    text = json.dumps([c.canonical() for c in changes], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _item(items: list[Any], seg: str) -> tuple[list[Any], int] | None:
    """Where in ``items`` (or a list below it) the item ``seg`` (an ``id`` or a position) is."""
    if seg.isdigit():
        return (items, int(seg)) if int(seg) < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("id")) == seg:
            return items, i
    found: list[tuple[list[Any], int]] = []

    def search(node: Any) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, dict) and str(item.get("id")) == seg:
                    found.append((node, i))
                search(item)
        elif isinstance(node, dict):
            for value in node.values():
                search(value)
    search(items)
    return found[0] if len(found) == 1 else None


def _set(policy: dict[str, Any], change: Change) -> None:
    """Put ``change.value`` at ``change.path`` of ``policy`` (raises naming the path)."""
    segs = change.path.split(".")
    node: Any = policy
    for depth, seg in enumerate(segs):
        last = depth == len(segs) - 1
        here = ".".join(segs[:depth]) or "the policy"
        if isinstance(node, dict) and seg not in node and depth > 0:
            below = _item([node], seg)          # a criterion inside an all/any mapping
            if below is not None:
                node = below[0]
                seg = str(below[1])
        if isinstance(node, dict):
            if seg not in node and not (last and depth == 0 and seg in _HEADER_KEYS):
                keys = ", ".join(sorted(map(str, node)))
                raise CatalogError(f"path does not exist: no {seg!r} under {here} (it has {keys})",
                                   policy_id=change.policy_id, path=change.path)
            if last:
                node[seg] = copy.deepcopy(change.value)
                return
            node = node[seg]
        elif isinstance(node, list):
            at = _item(node, seg)
            if at is None:
                ids = ", ".join(str(i.get("id")) for i in node if isinstance(i, dict) and "id" in i)
                raise CatalogError(f"path does not exist: no item {seg!r} under {here} "
                                   f"({len(node)} items{'; ids ' + ids if ids else ''})",
                                   policy_id=change.policy_id, path=change.path)
            if last:
                at[0][at[1]] = copy.deepcopy(change.value)
                return
            node = at[0][at[1]]
        else:
            raise CatalogError(f"path does not exist: {here} is a value ({node!r}), not a mapping or list",
                               policy_id=change.policy_id, path=change.path)


def apply_changes(sources: dict[str, tuple[str, Any]], changes: list[Change]) -> dict[str, tuple[str, Any]]:
    """``{policy_id: (relative file, YAML mapping)}`` with the changes applied, in order (the
    input is not modified). An added policy's file is ``<family>/<id>.yaml``."""
    out = {pid: (rel, copy.deepcopy(raw)) for pid, (rel, raw) in sources.items()}
    for change in changes:
        pid = change.policy_id
        if not change.path:
            if change.value is None:
                if pid not in out:
                    raise CatalogError("cannot remove a policy the catalog does not have", policy_id=pid, path="")
                del out[pid]
                continue
            if not isinstance(change.value, dict):
                raise CatalogError("a whole policy (empty path) is a mapping, or null to remove it",
                                   policy_id=pid, path="")
            if change.value.get("id") != pid:
                raise CatalogError(f"the policy's id {change.value.get('id')!r} differs from policy_id",
                                   policy_id=pid, path="id")
            rel = out[pid][0] if pid in out else f"{change.value.get('family')}/{pid}.yaml"
            out[pid] = (rel, copy.deepcopy(change.value))
            continue
        if pid not in out:
            raise CatalogError("no such policy in the catalog", policy_id=pid, path=change.path)
        _set(out[pid][1], change)
    return out


def _sources_by_id(root: Path) -> tuple[dict[str, tuple[str, Any]], list[tuple[str, bytes]]]:
    """``{id: (relative file, YAML mapping)}`` of a catalog directory and its ``(file, bytes)``."""
    if not Path(root).is_dir():
        raise CatalogError(f"catalog directory {root} does not exist")
    sources = read_policy_sources(Path(root))
    by_id: dict[str, tuple[str, Any]] = {}
    for rel, _, raw in sources:
        pid = str(raw.get("id")) if isinstance(raw, dict) else rel
        by_id[pid] = (rel, raw)
    return by_id, [(rel, text) for rel, text, _ in sources]


def _touched(before: dict[str, tuple[str, Any]], after: dict[str, tuple[str, Any]]) -> tuple[str, ...]:
    return tuple(sorted(pid for pid in set(before) | set(after)
                        if pid not in before or pid not in after or before[pid][1] != after[pid][1]))


def _catalog(sources: dict[str, tuple[str, Any]], texts: list[tuple[str, bytes]], ref: ReferenceTables) -> Catalog:
    ordered = sorted(sources.values(), key=lambda s: s[0])
    return build_catalog(ordered, content_version(texts), ref)


def reform_from_changes(catalog_dir: Path, changes: list[Change], ref: ReferenceTables) -> Reform:
    """The reform ``changes`` make to the catalog under ``catalog_dir``.

    The reformed catalog's version is the content hash of its files as the changes leave them
    (a changed or added policy as YAML of its mapping)."""
    before, texts = _sources_by_id(catalog_dir)
    after = apply_changes(before, changes)
    touched = _touched(before, after)
    original = dict(texts)
    reformed_texts = sorted(
        (rel, original[rel] if pid in before and before[pid][1] == raw
         else yaml.safe_dump(raw, allow_unicode=True, sort_keys=False).encode())
        for pid, (rel, raw) in after.items())
    return Reform(_catalog(before, texts, ref), _catalog(after, reformed_texts, ref), touched,
                  changes_hash(changes))


def reform_from_catalog(catalog_dir: Path, reform_dir: Path, ref: ReferenceTables) -> Reform:
    """The reform that replaces the catalog under ``catalog_dir`` by the one under ``reform_dir``
    (its hash: SHA-256 of the reform catalog's files, path and bytes)."""
    before, texts = _sources_by_id(catalog_dir)
    after, reform_texts = _sources_by_id(reform_dir)
    digest = hashlib.sha256()
    for rel, text in reform_texts:
        digest.update(rel.encode() + b"\0" + text + b"\0")
    return Reform(_catalog(before, texts, ref), _catalog(after, reform_texts, ref), _touched(before, after),
                  digest.hexdigest())
