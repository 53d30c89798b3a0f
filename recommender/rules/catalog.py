"""The policy catalog: one YAML file per policy under ``data/catalog/<family>/<id>.yaml``.

Each file is validated at load: unknown or duplicate keys, unknown fields, operators,
certifications or codes are :class:`~recommender.errors.CatalogError` naming the file, the
policy id and the criterion path. The catalog version is a content hash of every file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recommender.rules.benefit import Formula, parse_formula
from recommender.rules.node import Criterion, share_memo_keys
from recommender.rules.parser import parse_criteria
from recommender.errors import CatalogError, UnknownPolicyError
from recommender.facts import EvalFrame
from recommender.profile import Certification, ReferenceTables, load_reference
from recommender.settings import DEFAULT_DATA_DIR

Family = Literal["relief", "specialized_sme", "innovation", "digital", "green", "trade",
                 "employment", "finance"]
FAMILIES: tuple[str, ...] = Family.__args__  # type: ignore[attr-defined]  # Literal.__args__ is not in typing stubs


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    document: str = Field(min_length=1, description="document number, e.g. 国科发火〔2016〕32号")
    title: str = Field(min_length=1)
    clause: str | None = None
    issued_on: dt.date | None = None

    def text(self) -> str:
        clause = f" {self.clause}" if self.clause else ""
        return f"{self.document} {self.title}{clause}"


class Issuer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name_zh: str
    name_en: str
    level: Literal["national", "provincial", "municipal", "district"]


class BenefitSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["tax_saving", "refund", "cash_award", "subsidy", "deferral", "loan",
                  "fee_waiver", "recognition", "service"]
    description_zh: str
    description_en: str
    amount: Any = None                      # formula (see recommender.rules.benefit)
    range: tuple[float, float] | None = None  # low–high in yuan where no formula is possible
    years: int = Field(1, ge=1, le=10, description="years the amount recurs")
    clause: str | None = None
    uncertain: str | None = None


class Window(BaseModel):
    """One application window (申报时间); either bound may be open (``None``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    opens: dt.date | None = None
    closes: dt.date | None = None
    note_zh: str = ""
    note_en: str = ""


class Exclusion(BaseModel):
    """Another policy this one does not stack with (e.g. two income-tax rate reliefs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    policy: str = Field(pattern=r"^[a-z]{2}-[a-z0-9-]+$")
    reason_zh: str = Field(min_length=1)
    reason_en: str = Field(min_length=1)
    clause: str | None = None


class Relations(BaseModel):
    """How a policy relates to others: titles it grants, prerequisites, ladders, exclusions."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    grants: Certification | None = Field(None, description="the title a successful application grants")
    title_valid_years: int | None = Field(None, ge=1, le=10, description="years the granted title lasts")
    requires: tuple[str, ...] = Field((), description="policies whose title must be held first")
    next_rung_of: str | None = Field(None, description="the ladder rung below this one")
    excludes: tuple[Exclusion, ...] = ()
    replaces: tuple[str, ...] = Field((), description="earlier versions this policy succeeds (a new document)")
    replaced_by: tuple[str, ...] = Field((), description="later versions that succeed this one")


class _Header(BaseModel):
    """The non-criteria part of a policy file, strictly typed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z]{2}-[a-z0-9-]+$")
    title_zh: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    family: Family
    issuer: Issuer
    region_prefixes: tuple[str, ...] = Field((), description="division-code prefixes; empty = nationwide")
    description_zh: str = ""
    description_en: str = ""
    references: tuple[Reference, ...] = Field(min_length=1)
    valid_from: dt.date
    valid_to: dt.date | None = None
    confidence: Literal["H", "M-H", "M", "M-L", "L"]
    uncertain: tuple[str, ...] = ()
    criteria: Any
    benefit: BenefitSpec
    relations: Relations = Relations()
    windows: tuple[Window, ...] = ()


@dataclass(eq=False)
class Policy:
    """One parsed policy: header facts, the criteria tree and the benefit estimate."""

    header: _Header
    criteria: Criterion
    benefit_formula: Formula | None
    file: str

    @property
    def id(self) -> str:
        return self.header.id

    @cached_property
    def leaves(self) -> list[Criterion]:
        """The leaf criteria of the tree, depth first (computed once)."""
        return [c for c in self.criteria.walk() if not c.children()]

    def in_force(self, as_of: dt.date) -> bool:
        h = self.header
        return h.valid_from <= as_of and (h.valid_to is None or as_of <= h.valid_to)

    def references_text(self) -> list[str]:
        return list(self._references)

    @cached_property
    def _references(self) -> tuple[str, ...]:
        return tuple(r.text() for r in self.header.references)

    def estimate(self, frame: EvalFrame) -> tuple[np.ndarray, np.ndarray]:
        """Estimated (low, high) benefit in yuan per row; NaN where unknown or not estimable."""
        b = self.header.benefit
        if self.benefit_formula is not None:
            v = self.benefit_formula.evaluate(frame) * b.years
            return v, v
        if b.range is not None:
            return np.full(frame.n, b.range[0] * b.years), np.full(frame.n, b.range[1] * b.years)
        return np.full(frame.n, np.nan), np.full(frame.n, np.nan)

    def estimate_row(self, frame: EvalFrame, row: int) -> tuple[float, float]:
        """:meth:`estimate` of one row, as Python floats (the one-firm path)."""
        b = self.header.benefit
        if self.benefit_formula is not None:
            v = self.benefit_formula.evaluate_row(frame, row) * b.years
            return v, v
        if b.range is not None:
            return float(b.range[0] * b.years), float(b.range[1] * b.years)
        return float("nan"), float("nan")


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when present


class UniqueKeyLoader(_SafeLoader):  # type: ignore[valid-type,misc]  # a base chosen at run time
    """SafeLoader that refuses duplicate mapping keys."""


def _construct_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_policy(raw: Any, file: str, ref: ReferenceTables | None) -> Policy:
    """Validate one parsed YAML document as a policy."""
    pid = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(raw, dict):
        raise CatalogError("a policy file must hold one mapping", file=file)
    try:
        header = _Header.model_validate(raw)
    except ValidationError as err:
        e = err.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in e["loc"])
        raise CatalogError(e["msg"] if e["type"] != "extra_forbidden" else "unknown key",
                           file=file, policy_id=pid, path=loc) from None
    if Path(file).stem != header.id:
        raise CatalogError(f"file name must equal the policy id ({header.id}.yaml)", file=file, policy_id=pid)
    if header.valid_to is not None and header.valid_to < header.valid_from:
        raise CatalogError("valid_to is before valid_from", file=file, policy_id=pid, path="valid_to")
    for i, w in enumerate(header.windows):
        if w.opens is None and w.closes is None:
            raise CatalogError("a window needs 'opens' or 'closes'", file=file, policy_id=pid, path=f"windows.{i}")
        if w.opens is not None and w.closes is not None and w.closes < w.opens:
            raise CatalogError("'closes' is before 'opens'", file=file, policy_id=pid, path=f"windows.{i}")
    clause = header.references[0].clause
    try:
        root = parse_criteria(header.criteria, title_zh=header.title_zh, title_en=header.title_en,
                              clause=clause, ref=ref)
        formula = (parse_formula(header.benefit.amount, "benefit.amount")
                   if header.benefit.amount is not None else None)
    except CatalogError as err:
        raise CatalogError(err.reason, file=file, policy_id=header.id, path=err.path) from None
    return Policy(header=header, criteria=root, benefit_formula=formula, file=file)


@dataclass(frozen=True, eq=False)
class Catalog:
    """All policies, in a stable order (by id), with the content-hash version."""

    policies: tuple[Policy, ...]
    version: str
    _by_id: dict[str, Policy] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {p.id: p for p in self.policies})
        share_memo_keys(p.criteria for p in self.policies)

    def __len__(self) -> int:
        return len(self.policies)

    def __iter__(self) -> Iterator[Policy]:
        return iter(self.policies)

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.policies]

    def get(self, policy_id: str) -> Policy:
        try:
            return self._by_id[policy_id]
        except KeyError:
            raise UnknownPolicyError(policy_id) from None


def policy_files(root: Path) -> list[Path]:
    """The policy files of a catalog directory, sorted (every ``*.yaml`` but ``index.yaml``)."""
    return sorted(p for p in Path(root).rglob("*.yaml") if p.name != "index.yaml")


def content_version(texts: list[tuple[str, bytes]]) -> str:
    """The catalog version: a content hash of ``(relative path, bytes)`` of every policy file,
    in :func:`policy_files` order (16 hex digits)."""
    digest = hashlib.sha256()
    for rel, text in texts:
        digest.update(rel.encode() + b"\0" + text + b"\0")
    return digest.hexdigest()[:16]


def read_policy_sources(root: Path) -> list[tuple[str, bytes, Any]]:
    """``(path relative to root, bytes, parsed YAML)`` of every policy file under ``root``, in
    :func:`policy_files` order: the catalog's source data, before validation.

    Raises
    ------
    CatalogError
        ``root`` holds no policy file, or a file is not UTF-8 YAML.
    """
    files = policy_files(root)
    if not files:
        raise CatalogError(f"no policy files under {root}")
    sources = []
    for path in files:
        rel, text = str(path.relative_to(root)), path.read_bytes()
        try:
            raw = yaml.load(text.decode("utf-8"), Loader=UniqueKeyLoader)  # noqa: S506 - safe loader subclass
        except UnicodeDecodeError as err:
            raise CatalogError(f"not UTF-8 text (byte 0x{text[err.start]:02x} at offset {err.start}); "
                               "policy files are UTF-8 YAML", file=rel) from None
        except yaml.YAMLError as err:
            raise CatalogError(f"invalid YAML: {err}".replace("\n", " "), file=rel) from None
        sources.append((rel, text, raw))
    return sources


def build_catalog(sources: list[tuple[str, Any]], version: str, ref: ReferenceTables | None) -> Catalog:
    """Validate ``(relative path, parsed YAML)`` policy sources into a catalog of ``version``:
    each policy parsed, ids unique, each file under its family's directory, relations checked."""
    policies: dict[str, Policy] = {}
    for rel, raw in sources:
        policy = parse_policy(raw, rel, ref)
        if policy.id in policies:
            raise CatalogError(f"duplicate policy id (also in {policies[policy.id].file})",
                               file=rel, policy_id=policy.id)
        if Path(rel).parent.name != policy.header.family:
            raise CatalogError(f"file must live under {policy.header.family}/ (its family)",
                               file=rel, policy_id=policy.id)
        policies[policy.id] = policy
    check_relations(policies)
    return Catalog(tuple(policies[k] for k in sorted(policies)), version)


def load_catalog(catalog_dir: Path | None = None, *, data_dir: Path = DEFAULT_DATA_DIR) -> Catalog:
    """Load and validate every ``*.yaml`` under ``catalog_dir`` (default ``data/catalog``)."""
    root = Path(catalog_dir) if catalog_dir is not None else Path(data_dir) / "catalog"
    if not root.is_dir():
        raise CatalogError(f"catalog directory {root} does not exist")
    ref = load_reference(Path(data_dir))
    sources = read_policy_sources(root)
    return build_catalog([(rel, raw) for rel, _, raw in sources],
                         content_version([(rel, text) for rel, text, _ in sources]), ref)


_MIRROR = {"replaces": "replaced_by", "replaced_by": "replaces"}


_MIRROR = {"replaces": "replaced_by", "replaced_by": "replaces"}


_MIRROR = {"replaces": "replaced_by", "replaced_by": "replaces"}


def check_relations(policies: dict[str, Policy]) -> None:
    """Every policy named in ``relations`` exists; prerequisites and rungs grant a title;
    succession is stated on both sides (``A.replaced_by: [B]`` ⇔ ``B.replaces: [A]``)."""
    for policy in policies.values():
        rel = policy.header.relations
        named = [("requires", p) for p in rel.requires] + [("excludes", e.policy) for e in rel.excludes]
        named += [("replaces", p) for p in rel.replaces] + [("replaced_by", p) for p in rel.replaced_by]
        if rel.next_rung_of is not None:
            named.append(("next_rung_of", rel.next_rung_of))
        for key, target in named:
            if target not in policies:
                raise CatalogError(f"unknown policy {target!r}", file=policy.file, policy_id=policy.id,
                                   path=f"relations.{key}")
            if target == policy.id:
                raise CatalogError("a policy cannot relate to itself", file=policy.file,
                                   policy_id=policy.id, path=f"relations.{key}")
            if key in _MIRROR:
                mirror = _MIRROR[key]
                if policy.id not in getattr(policies[target].header.relations, mirror):
                    raise CatalogError(f"{target!r} does not list {policy.id!r} under relations.{mirror}; "
                                       "succession is stated on both sides", file=policy.file,
                                       policy_id=policy.id, path=f"relations.{key}")
                continue
            if key != "excludes" and policies[target].header.relations.grants is None:
                raise CatalogError(f"{target!r} grants no title (relations.grants), so it cannot be a "
                                   f"prerequisite or a rung", file=policy.file, policy_id=policy.id,
                                   path=f"relations.{key}")
