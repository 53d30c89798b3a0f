"""Parse the YAML criteria of a policy into typed criterion objects, rejecting anything unknown.

The grammar (one mapping per node; ``id``, ``label_zh``, ``label_en`` on every node,
``clause`` on every leaf or inherited from the nearest ancestor):

* ``{field, op, value}`` — compare; ``op`` ∈ ``>= > <= < == !=``; ``value`` a number, a
  bool, ``{years_before_as_of: N}`` for dates, or ``{by_date: [{from: DATE, value: X}, …]}``;
* ``{field, in: [...]}`` / ``{field, not_in: [...]}`` — set membership (prefix match on
  ``industry_code`` and ``region_code``);
* ``{holds: CERT}`` / ``{lacks: CERT}`` — certification held / not held;
* ``{field, op, by, tiers: [{upto|below: X, value: Y}, …, {value: Z}]}`` — tiered threshold;
* ``{declare: met|unknown}`` — a condition no profile field expresses (verify yourself);
* ``{as_of_from: DATE, as_of_to: DATE}`` (either or both) — met when ``as_of`` is in the window;
* ``{score: {pass: {op, value}, blocks: [...], nonzero: [...]}}`` — point scoring;
* ``{all: [...]}``, ``{any: [...]}``, ``{not: {...}}`` — Kleene combinations.

Errors are :class:`~recommender.errors.CatalogError` naming the criterion path.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from recommender import tristate as ts
from recommender.rules.composites import AllOf, AnyOf, Not
from recommender.rules.criteria import AsOfWindow, Compare, Declaration, Holds, Membership, Tier, Tiered
from recommender.rules.node import Criterion
from recommender.rules.operators import OPS
from recommender.rules.thresholds import Threshold
from recommender.errors import CatalogError
from recommender.facts import CATEGORY_VALUES, FIELD_KINDS
from recommender.profile import CERTIFICATIONS, ReferenceTables
from recommender.rules.scoring import Band, Block, Indicator, Score

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_COMMON = {"id", "label_zh", "label_en", "clause"}
_SHAPES: list[tuple[str, set[str], set[str]]] = [
    # (kind, keys that identify it, optional extra keys)
    ("all", {"all"}, set()),
    ("any", {"any"}, set()),
    ("not", {"not"}, set()),
    ("holds", {"holds"}, set()),
    ("lacks", {"lacks"}, set()),
    ("declare", {"declare"}, set()),
    ("score", {"score"}, set()),
    ("window", {"as_of_from"}, {"as_of_to"}),
    ("window", {"as_of_to"}, set()),
    ("tiered", {"field", "op", "by", "tiers"}, set()),
    ("in", {"field", "in"}, set()),
    ("not_in", {"field", "not_in"}, set()),
    ("compare", {"field", "op", "value"}, set()),
]


class _Ctx:
    def __init__(self, ref: ReferenceTables | None) -> None:
        self.ref = ref
        self.ids: set[str] = set()


def _fail(path: str, reason: str) -> CatalogError:
    return CatalogError(reason, path=path)


def _shape(node: dict[str, Any], path: str) -> str:
    keys = set(node) - _COMMON
    for kind, required, optional in _SHAPES:
        if required <= keys:
            extra = keys - required - optional
            if extra:
                raise _fail(path, f"unknown key(s) {sorted(map(str, extra))} for a {kind!r} criterion")
            return kind
    raise _fail(path, f"cannot tell the criterion kind from keys {sorted(map(str, keys))}; expected one of "
                      "field/op/value, field/in, field/not_in, holds, lacks, field/op/by/tiers, "
                      "declare, score, all, any, not")


def _number(value: Any, path: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(path, f"{what} must be a number, got {value!r}")
    return float(value)


def _field(node: dict[str, Any], path: str, kinds: tuple[str, ...]) -> str:
    name = node["field"]
    if name not in FIELD_KINDS:
        raise _fail(path, f"unknown field {name!r} (not a SPEC §2 profile field or §3 derived fact)")
    if FIELD_KINDS[name] not in kinds:
        raise _fail(path, f"field {name!r} is a {FIELD_KINDS[name]}; this criterion needs one of {kinds}")
    return name


def _threshold(raw: Any, kind: str, path: str) -> Threshold:
    if isinstance(raw, dict):
        if set(raw) == {"years_before_as_of"} and kind == "date":
            return Threshold(years_before_as_of=_number(raw["years_before_as_of"], path, "years_before_as_of"))
        if set(raw) == {"by_date"} and kind == "number":
            steps = []
            for i, step in enumerate(raw["by_date"] or []):
                if not isinstance(step, dict) or set(step) != {"from", "value"}:
                    raise _fail(f"{path}.by_date[{i}]", "each step needs exactly 'from' and 'value'")
                if not isinstance(step["from"], dt.date):
                    raise _fail(f"{path}.by_date[{i}]", f"'from' must be an ISO date, got {step['from']!r}")
                steps.append((step["from"], _number(step["value"], path, "value")))
            if not steps or [s[0] for s in steps] != sorted(s[0] for s in steps):
                raise _fail(path, "by_date needs at least one step, in date order")
            return Threshold(by_date=tuple(steps))
        raise _fail(path, f"unsupported value form {sorted(raw)} for a {kind} field")
    if kind == "bool":
        if not isinstance(raw, bool):
            raise _fail(path, f"value must be true or false for a bool field, got {raw!r}")
        return Threshold(constant=raw)
    if kind == "date":
        raise _fail(path, "a date field compares with {years_before_as_of: N}")
    return Threshold(constant=_number(raw, path, "value"))


def _codes(node: dict[str, Any], key: str, name: str, path: str, ctx: _Ctx) -> tuple[str, ...]:
    values = node[key]
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise _fail(path, f"'{key}' must be a non-empty list of strings")
    kind = FIELD_KINDS[name]
    for v in values:
        if kind == "category" and v not in CATEGORY_VALUES.get(name, ()):
            raise _fail(path, f"{v!r} is not a value of {name} (allowed: {CATEGORY_VALUES.get(name)})")
        if name == "industry_code":
            if not re.fullmatch(r"[A-T](\d{2,4})?", v):
                raise _fail(path, f"{v!r} is not a GB/T 4754-2017 code (section letter + 0/2/3/4 digits)")
            if ctx.ref is not None and v not in ctx.ref.industry_names:
                raise _fail(path, f"{v!r} does not exist in GB/T 4754-2017")
        if name == "region_code" and not re.fullmatch(r"\d{2,6}", v):
            raise _fail(path, f"{v!r} is not a division code prefix (2–6 digits)")
    if len(set(values)) != len(values):
        raise _fail(path, f"'{key}' lists a value twice")
    return tuple(values)


def _cert(value: Any, path: str) -> str:
    if value not in CERTIFICATIONS:
        raise _fail(path, f"unknown certification {value!r} (allowed: {', '.join(CERTIFICATIONS)})")
    return str(value)


def parse_criterion(node: Any, path: str, ctx: _Ctx, clause: str | None, *, named: bool = True) -> Criterion:
    """Parse one node (and its children). ``named=False`` relaxes ids/labels (score rules)."""
    if not isinstance(node, dict):
        raise _fail(path, f"a criterion must be a mapping, got {type(node).__name__}")
    kind = _shape(node, path)
    node_id = node.get("id")
    if named or node_id is not None:
        if not isinstance(node_id, str) or not _ID_RE.match(node_id):
            raise _fail(path, f"'id' must be a lower-case identifier, got {node_id!r}")
        if node_id in ctx.ids:
            raise _fail(path, f"duplicate criterion id {node_id!r}")
        ctx.ids.add(node_id)
    node_id = node_id or path.rsplit(".", 1)[-1].replace("[", "_").replace("]", "")
    path = f"{path}({node_id})" if named else path
    labels = {k: node.get(k) for k in ("label_zh", "label_en")}
    for k, v in labels.items():
        if named and (not isinstance(v, str) or not v.strip()):
            raise _fail(path, f"'{k}' is required (every criterion carries a bilingual label)")
    clause = node.get("clause", clause)
    if clause is not None and not isinstance(clause, str):
        raise _fail(path, "'clause' must be text")
    base = dict(id=node_id, label_zh=labels["label_zh"] or node_id, label_en=labels["label_en"] or node_id,
                clause=clause or "", path=path)

    def need_clause() -> None:
        if named and not clause:
            raise _fail(path, "'clause' is required on a leaf (or on an ancestor)")

    if kind in ("all", "any"):
        items = node[kind]
        if not isinstance(items, list) or not items:
            raise _fail(path, f"'{kind}' needs a non-empty list")
        parsed = tuple(parse_criterion(c, f"{path}.{kind}[{i}]", ctx, clause, named=named)
                       for i, c in enumerate(items))
        return (AllOf if kind == "all" else AnyOf)(**base, items=parsed)
    if kind == "not":
        return Not(**base, item=parse_criterion(node["not"], f"{path}.not", ctx, clause, named=named))
    need_clause()
    if kind in ("holds", "lacks"):
        return Holds(**base, cert=_cert(node[kind], path), negate=kind == "lacks")
    if kind == "declare":
        assume = node["declare"]
        if assume not in ("met", "unknown"):
            raise _fail(path, f"'declare' must be 'met' or 'unknown', got {assume!r}")
        return Declaration(**base, assume=ts.MET if assume == "met" else ts.UNKNOWN)
    if kind == "window":
        bounds = {k: node.get(k) for k in ("as_of_from", "as_of_to")}
        for k, v in bounds.items():
            if v is not None and not isinstance(v, dt.date):
                raise _fail(path, f"'{k}' must be an ISO date, got {v!r}")
        return AsOfWindow(**base, start=bounds["as_of_from"], end=bounds["as_of_to"])
    if kind == "score":
        return _parse_score(node["score"], path, ctx, base)
    if kind in ("in", "not_in"):
        name = _field(node, path, ("code", "category"))
        return Membership(**base, field=name, values=_codes(node, kind, name, path, ctx),
                          negate=kind == "not_in", prefix=FIELD_KINDS[name] == "code")
    op = node["op"]
    if op not in OPS:
        raise _fail(path, f"unknown operator {op!r} (allowed: {', '.join(OPS)})")
    if kind == "tiered":
        name = _field(node, path, ("number",))
        by = node["by"]
        if FIELD_KINDS.get(by) != "number":
            raise _fail(path, f"'by' must name a number field, got {by!r}")
        return Tiered(**base, field=name, op=op, by=by, tiers=_parse_tiers(node["tiers"], path))
    name = _field(node, path, ("number", "bool", "date"))
    field_kind = FIELD_KINDS[name]
    if field_kind == "bool" and op not in ("==", "!="):
        raise _fail(path, f"bool field {name!r} takes == or !=, got {op!r}")
    return Compare(**base, field=name, op=op, value=_threshold(node["value"], field_kind, path),
                   field_kind=field_kind)


def _parse_tiers(raw: Any, path: str) -> tuple[Tier, ...]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise _fail(path, "'tiers' needs at least two bands")
    tiers = []
    for i, t in enumerate(raw):
        p = f"{path}.tiers[{i}]"
        if not isinstance(t, dict) or "value" not in t or set(t) - {"upto", "below", "value"}:
            raise _fail(p, "a tier is {upto: X, value: Y}, {below: X, value: Y} or {value: Y}")
        if "upto" in t and "below" in t:
            raise _fail(p, "give 'upto' (inclusive) or 'below' (exclusive), not both")
        bound_given = "upto" in t or "below" in t
        if bound_given == (i == len(raw) - 1):
            raise _fail(p, "every tier but the last needs a bound; the last has none")
        tiers.append(Tier(upto=_number(t["upto"], p, "upto") if "upto" in t else None,
                          below=_number(t["below"], p, "below") if "below" in t else None,
                          value=_number(t["value"], p, "value")))
    return tuple(tiers)


def _labels(raw: dict[str, Any], path: str) -> tuple[str, str, str]:
    rid = raw.get("id")
    if not isinstance(rid, str) or not _ID_RE.match(rid):
        raise _fail(path, f"'id' must be a lower-case identifier, got {rid!r}")
    for k in ("label_zh", "label_en"):
        if not isinstance(raw.get(k), str):
            raise _fail(path, f"'{k}' is required")
    return rid, raw["label_zh"], raw["label_en"]


def _parse_indicator(raw: Any, path: str, ctx: _Ctx, clause: str) -> Indicator:
    if not isinstance(raw, dict):
        raise _fail(path, "an indicator must be a mapping")
    allowed = {"id", "label_zh", "label_en", "max", "field", "bands", "rules", "else", "best_of", "unobservable"}
    if set(raw) - allowed:
        raise _fail(path, f"unknown indicator key(s) {sorted(set(raw) - allowed)}")
    rid, zh, en = _labels(raw, path)
    path = f"{path}({rid})"
    otherwise = _number(raw.get("else", 0), path, "else")
    if raw.get("unobservable"):
        return Indicator(rid, zh, en, _number(raw.get("max"), path, "max"), unobservable=True)
    if "best_of" in raw:
        subs = tuple(_parse_indicator(s, f"{path}.best_of[{i}]", ctx, clause) for i, s in enumerate(raw["best_of"]))
        return Indicator(rid, zh, en, max(s.max_points for s in subs), best_of=subs)
    if "bands" in raw:
        name = _field(raw, path, ("number",))
        bands = []
        for i, b in enumerate(raw["bands"]):
            bp = f"{path}.bands[{i}]"
            if not isinstance(b, dict) or "points" not in b or len(set(b) & {"min", "above"}) != 1 or set(b) - {"points", "min", "above"}:
                raise _fail(bp, "a band is {min: X, points: P} (inclusive) or {above: X, points: P}")
            bands.append(Band(points=_number(b["points"], bp, "points"),
                              min=_number(b["min"], bp, "min") if "min" in b else None,
                              above=_number(b["above"], bp, "above") if "above" in b else None))
        return Indicator(rid, zh, en, max([b.points for b in bands] + [otherwise]), field=name,
                         bands=tuple(bands), otherwise=otherwise)
    if "rules" in raw:
        rules = []
        for i, r in enumerate(raw["rules"]):
            rp = f"{path}.rules[{i}]"
            if not isinstance(r, dict) or set(r) != {"when", "points"}:
                raise _fail(rp, "a rule is {when: <criterion>, points: P}")
            cond = parse_criterion(r["when"], f"{rp}.when", ctx, clause, named=False)
            rules.append((cond, _number(r["points"], rp, "points")))
        return Indicator(rid, zh, en, max([p for _, p in rules] + [otherwise]), rules=tuple(rules),
                         otherwise=otherwise)
    raise _fail(path, "an indicator needs bands, rules, best_of or unobservable")


def _parse_score(raw: Any, path: str, ctx: _Ctx, base: dict[str, Any]) -> Score:
    if not isinstance(raw, dict) or set(raw) - {"pass", "blocks", "nonzero"} or not {"pass", "blocks"} <= set(raw):
        raise _fail(path, "'score' needs 'pass' and 'blocks' (and optionally 'nonzero')")
    pass_ = raw["pass"]
    if not isinstance(pass_, dict) or set(pass_) != {"op", "value"} or pass_["op"] not in OPS:
        raise _fail(f"{path}.pass", "'pass' is {op: '>=' | '>', value: N}")
    blocks = []
    for i, b in enumerate(raw["blocks"]):
        bp = f"{path}.blocks[{i}]"
        if not isinstance(b, dict) or set(b) - {"id", "label_zh", "label_en", "cap", "min", "indicators"}:
            raise _fail(bp, "a block has id, label_zh, label_en, indicators and optional cap/min")
        bid, zh, en = _labels(b, bp)
        inds = tuple(_parse_indicator(x, f"{bp}.indicators[{j}]", ctx, base["clause"])
                     for j, x in enumerate(b.get("indicators") or []))
        if not inds:
            raise _fail(bp, "a block needs at least one indicator")
        blocks.append(Block(bid, zh, en, inds,
                            cap=_number(b["cap"], bp, "cap") if "cap" in b else None,
                            minimum=_number(b["min"], bp, "min") if "min" in b else None))
    known = {i.id for b in blocks for i in b.indicators}
    nonzero = tuple(raw.get("nonzero") or ())
    for ind in nonzero:
        if ind not in known:
            raise _fail(path, f"'nonzero' names unknown indicator {ind!r}")
    return Score(**base, blocks=tuple(blocks), op=pass_["op"],
                 pass_mark=_number(pass_["value"], path, "pass value"), nonzero=nonzero)


def parse_criteria(raw: Any, *, title_zh: str, title_en: str, clause: str | None,
                   ref: ReferenceTables | None) -> Criterion:
    """Parse a policy's top-level ``criteria`` list into one root ``all`` node."""
    if not isinstance(raw, list) or not raw:
        raise _fail("criteria", "'criteria' must be a non-empty list")
    ctx = _Ctx(ref)
    # Leaves name their own clause (or a composite ancestor's); the document alone is not enough.
    items = tuple(parse_criterion(c, f"criteria[{i}]", ctx, None) for i, c in enumerate(raw))
    return AllOf(id="all", label_zh=title_zh, label_en=title_en, clause=clause or "",
                 path="criteria", items=items)
