"""Peer engines for the eligibility benchmark: our criteria trees translated to DuckDB SQL and
to Polars expressions, automatically, from the parsed catalog (benchmark code, not product code).

Both peers use SQL's three-valued logic, which is exactly ours (:mod:`recommender.tristate`):
a criterion outcome is a nullable boolean, TRUE = met, FALSE = not met, NULL = unknown; AND/OR
over NULL are Kleene's (min/max of the codes) and a comparison with a NULL column is NULL.

* ``Compare`` → ``column op value`` (dated thresholds resolved on ``as_of``; a date relative to
  ``as_of`` becomes a DATE literal).
* ``Membership`` on codes → prefix tests (``starts_with``); a firm code coarser than a listed
  code is NULL, or TRUE when every finer code under it is listed (precomputed from the GB/T
  4754 table, the same rule as ours); plain membership → ``IN``.
* ``Holds`` → membership of the title in the ``;``-separated list (NULL when the list is; a
  blank list holds nothing, as the product's validator reads it).
* ``Tiered`` → ``CASE`` over the bands of the ``by`` column.
* ``Score`` → interval sums: each indicator contributes ``[low, high]`` points as ``CASE`` bands
  (``[min, max]`` when the input is NULL), rules as ordered ``CASE`` chains, caps as
  ``LEAST``; the pass tests are met when both bounds pass, not met when both fail.
* Derived facts (size class, ratios, age, small low-profit, certification flags) are computed
  in a first stage from the raw columns; the industry → SME-group mapping and the size
  thresholds are small reference tables built from ``data/reference`` (as a SQL user would load
  them).

The benchmark checks that the peers' verdicts equal ours on the same rows before timing them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np

from recommender import tristate as ts
from recommender.rules.catalog import Policy
from recommender.rules.composites import AllOf, AnyOf, Not
from recommender.rules.criteria import (AsOfWindow, Compare, Declaration, Holds, Membership, Tiered,
                                        _leaf_codes)
from recommender.rules.node import Criterion
from recommender.facts import (SMALL_LOW_PROFIT_MAX_ASSETS, SMALL_LOW_PROFIT_MAX_EMPLOYEES,
                                 SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME, industry_group)
from recommender.profile.kinds import PROFILE_KINDS
from recommender.facts.fields import CERT_COLUMNS
from recommender.profile.reference import ReferenceTables
from recommender.rules.scoring import Block, Indicator, Score

_TIERS = ("large", "medium", "small")


class _LeafFrame:
    """Just enough of an EvalFrame for ``_leaf_codes`` (reference lookups, memo)."""

    def __init__(self, ref: ReferenceTables) -> None:
        self.ref = ref

    def memo(self, key: object, compute):  # type: ignore[no-untyped-def]
        return compute()


def _coarse_codes(leaf: Membership, ref: ReferenceTables) -> tuple[list[str], list[str]]:
    """Codes coarser than a listed code, split into (met, unknown) exactly as ``Membership``."""
    met, unknown = [], []
    candidates = {v[:i] for v in leaf.values for i in range(1, len(v))}
    for code in sorted(candidates):
        if any(code.startswith(v) for v in leaf.values):
            continue                      # covered by a listed prefix: plain TRUE
        leaves = _leaf_codes(_LeafFrame(ref), code) if leaf.field == "industry_code" else []  # type: ignore[arg-type]
        (met if leaves and all(any(c.startswith(v) for v in leaf.values) for c in leaves) else unknown).append(code)
    return met, unknown


# ----------------------------------------------------------------------------- dialects


class SqlDialect:
    """Expressions as DuckDB SQL text."""

    def col(self, name: str) -> str:
        return f'"{name}"'

    def null_text(self) -> str:
        return "NULL"

    def lit(self, v: Any) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, dt.date):
            return f"DATE '{v.isoformat()}'"
        if isinstance(v, str):
            return "'" + v.replace("'", "''") + "'"
        return repr(float(v)) if np.isfinite(v) else ("'inf'::DOUBLE" if v > 0 else "'-inf'::DOUBLE")

    def cmp(self, a: str, op: str, b: str) -> str:
        return f"({a} {'=' if op == '==' else '<>' if op == '!=' else op} {b})"

    def and_(self, parts: Sequence[str]) -> str:
        return "(" + " AND ".join(parts) + ")" if parts else "TRUE"

    def or_(self, parts: Sequence[str]) -> str:
        return "(" + " OR ".join(parts) + ")" if parts else "FALSE"

    def not_(self, a: str) -> str:
        return f"(NOT {a})"

    def is_null(self, a: str) -> str:
        return f"({a} IS NULL)"

    def is_true(self, a: str) -> str:
        return f"({a} IS TRUE)"

    def is_false(self, a: str) -> str:
        return f"({a} IS FALSE)"

    def case(self, branches: Sequence[tuple[str, str]], otherwise: str) -> str:
        return "(CASE " + " ".join(f"WHEN {c} THEN {v}" for c, v in branches) + f" ELSE {otherwise} END)"

    def starts_with(self, a: str, prefix: str) -> str:
        return f"starts_with({a}, {self.lit(prefix)})"

    def isin(self, a: str, values: Sequence[str]) -> str:
        return f"({a} IN ({', '.join(self.lit(v) for v in values)}))"

    def add(self, parts: Sequence[str]) -> str:
        return "(" + " + ".join(parts) + ")" if parts else "0.0"

    def least(self, parts: Sequence[str]) -> str:
        return parts[0] if len(parts) == 1 else f"least({', '.join(parts)})"

    def greatest(self, parts: Sequence[str]) -> str:
        return parts[0] if len(parts) == 1 else f"greatest({', '.join(parts)})"


class PolarsDialect:
    """Expressions as Polars ``Expr`` objects."""

    def __init__(self) -> None:
        import polars as pl
        self.pl = pl

    def col(self, name: str) -> Any:
        return self.pl.col(name)

    def null_text(self) -> Any:
        return self.pl.lit(None, dtype=self.pl.String)

    def lit(self, v: Any) -> Any:
        pl = self.pl
        if v is None:
            return pl.lit(None, dtype=pl.Boolean)
        if isinstance(v, (bool, dt.date, str)):
            return pl.lit(v)
        return pl.lit(float(v), dtype=pl.Float64)

    def cmp(self, a: Any, op: str, b: Any) -> Any:
        return {">=": a.__ge__, ">": a.__gt__, "<=": a.__le__, "<": a.__lt__, "==": a.__eq__, "!=": a.__ne__}[op](b)

    def and_(self, parts: Sequence[Any]) -> Any:
        if not parts:
            return self.pl.lit(True)
        out = parts[0]
        for p in parts[1:]:
            out = out & p
        return out

    def or_(self, parts: Sequence[Any]) -> Any:
        if not parts:
            return self.pl.lit(False)
        out = parts[0]
        for p in parts[1:]:
            out = out | p
        return out

    def not_(self, a: Any) -> Any:
        return ~a

    def is_null(self, a: Any) -> Any:
        return a.is_null()

    def is_true(self, a: Any) -> Any:
        return a.fill_null(False)

    def is_false(self, a: Any) -> Any:
        return (~a).fill_null(False)

    def case(self, branches: Sequence[tuple[Any, Any]], otherwise: Any) -> Any:
        pl = self.pl
        (c0, v0), *rest = branches
        expr = pl.when(c0).then(v0)
        for c, v in rest:
            expr = expr.when(c).then(v)
        return expr.otherwise(otherwise)

    def starts_with(self, a: Any, prefix: str) -> Any:
        return a.str.starts_with(prefix)

    def isin(self, a: Any, values: Sequence[str]) -> Any:
        return self.pl.when(a.is_null()).then(self.pl.lit(None, dtype=self.pl.Boolean)).otherwise(
            a.is_in(list(values)))

    def add(self, parts: Sequence[Any]) -> Any:
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        return out

    def least(self, parts: Sequence[Any]) -> Any:
        return parts[0] if len(parts) == 1 else self.pl.min_horizontal(parts)

    def greatest(self, parts: Sequence[Any]) -> Any:
        return parts[0] if len(parts) == 1 else self.pl.max_horizontal(parts)


# ----------------------------------------------------------------------------- translation


class Untranslatable(Exception):
    """A node the translator does not know; the policy is left out (and the benchmark says so)."""


class Translator:
    """Criteria trees → peer expressions over the derived-stage columns."""

    def __init__(self, d: Any, as_of: dt.date, ref: ReferenceTables) -> None:
        self.d, self.as_of, self.ref = d, as_of, ref

    def verdict(self, policy: Policy) -> Any:
        d = self.d
        if not policy.in_force(self.as_of):
            return d.lit(False)
        tree = self.node(policy.criteria)
        prefixes = policy.header.region_prefixes
        if prefixes:
            region = Membership(id="r", label_zh="", label_en="", clause="", path="r",
                                field="region_code", values=prefixes, prefix=True)
            tree = d.and_([tree, self.node(region)])
        return tree

    def node(self, c: Criterion) -> Any:
        d = self.d
        if isinstance(c, AllOf):
            return d.and_([self.node(k) for k in c.items])
        if isinstance(c, AnyOf):
            return d.or_([self.node(k) for k in c.items])
        if isinstance(c, Not):
            if c.item is None:
                raise Untranslatable(c.path)
            return d.not_(self.node(c.item))
        if isinstance(c, Declaration):
            return d.lit({ts.MET: True, ts.NOT_MET: False}.get(c.assume))
        if isinstance(c, AsOfWindow):
            inside = (c.start is None or c.start <= self.as_of) and (c.end is None or self.as_of <= c.end)
            return d.lit(inside)
        if isinstance(c, Compare):
            required = c._required(self._frame())
            if required is None:
                return d.lit(False)
            if c.field_kind == "date":
                return d.cmp(d.col(c.field), c.op, d.lit(dt.date(1970, 1, 1) + dt.timedelta(days=int(required))))
            return d.cmp(d.col(c.field), c.op, d.lit(required))
        if isinstance(c, Holds):
            col = d.col(c.column)
            return d.cmp(col, "==", d.lit(0.0 if c.negate else 1.0))
        if isinstance(c, Membership):
            return self._membership(c)
        if isinstance(c, Tiered):
            return self._tiered(c)
        if isinstance(c, Score):
            return self._score(c)
        raise Untranslatable(f"{c.path}: {type(c).__name__}")

    def _frame(self) -> Any:
        class _F:
            as_of = self.as_of
        return _F()

    def _membership(self, c: Membership) -> Any:
        d = self.d
        col = d.col(c.field)
        if not c.prefix:
            out = d.isin(col, c.values)
        else:
            met, unknown = _coarse_codes(c, self.ref)
            covered = d.or_([d.starts_with(col, v) for v in c.values])
            branches = [(d.is_null(col), d.lit(None)), (covered, d.lit(True))]
            if met:
                branches.append((d.isin(col, met), d.lit(True)))
            if unknown:
                branches.append((d.isin(col, unknown), d.lit(None)))
            out = d.case(branches, d.lit(False))
        return d.not_(out) if c.negate else out

    def _tiered(self, c: Tiered) -> Any:
        d = self.d
        val, by = d.col(c.field), d.col(c.by)
        branches = [(d.is_null(val), d.lit(None))]
        for tier in c.tiers:
            if tier.upto is not None:
                inside = d.cmp(by, "<=", d.lit(tier.upto))
            elif tier.below is not None:
                inside = d.cmp(by, "<", d.lit(tier.below))
            else:
                inside = d.not_(d.is_null(by))
            branches.append((d.is_true(inside), d.cmp(val, c.op, d.lit(tier.value))))
        tests = [d.cmp(val, c.op, d.lit(t.value)) for t in c.tiers]
        band_unknown = d.case([(d.and_(tests), d.lit(True)), (d.and_([d.not_(t) for t in tests]), d.lit(False))],
                              d.lit(None))
        return d.case(branches, band_unknown)

    # --- point scoring: (low, high) numeric expressions ---------------------------------
    def _points(self, ind: Indicator) -> tuple[Any, Any]:
        d = self.d
        if ind.unobservable:
            return d.lit(0.0), d.lit(ind.max_points)
        if ind.best_of:
            parts = [self._points(s) for s in ind.best_of]
            return d.greatest([p[0] for p in parts]), d.greatest([p[1] for p in parts])
        if ind.bands:
            col = d.col(ind.field or "")
            branches = []
            for b in ind.bands:
                if b.min is not None:
                    hit = d.cmp(col, ">=", d.lit(b.min))
                elif b.above is not None:
                    hit = d.cmp(col, ">", d.lit(b.above))
                else:
                    hit = d.lit(True)
                branches.append((d.is_true(hit), d.lit(b.points)))
            known = d.case(branches, d.lit(ind.otherwise))
            all_pts = [b.points for b in ind.bands] + [ind.otherwise]
            low = d.case([(d.is_null(col), d.lit(min(all_pts)))], known)
            high = d.case([(d.is_null(col), d.lit(max(all_pts)))], known)
            return low, high
        # rules, top-down: a rule is possible while no earlier rule is surely met
        lows, highs = [], []
        reached: list[Any] = []
        for cond, pts in ind.rules:
            out = self.node(cond)
            possible = d.and_([*reached, d.not_(d.is_false(out))])
            lows.append(d.case([(possible, d.lit(pts))], d.lit(np.inf)))
            highs.append(d.case([(possible, d.lit(pts))], d.lit(-np.inf)))
            reached.append(d.not_(d.is_true(out)))
        last = d.and_(reached)
        lows.append(d.case([(last, d.lit(ind.otherwise))], d.lit(np.inf)))
        highs.append(d.case([(last, d.lit(ind.otherwise))], d.lit(-np.inf)))
        return d.least(lows), d.greatest(highs)

    def _block(self, block: Block) -> tuple[Any, Any]:
        d = self.d
        pts = [self._points(i) for i in block.indicators]
        low, high = d.add([d.lit(0.0)] + [p[0] for p in pts]), d.add([d.lit(0.0)] + [p[1] for p in pts])
        if block.cap is not None:
            low, high = d.least([low, d.lit(block.cap)]), d.least([high, d.lit(block.cap)])
        return low, high

    def _interval(self, low: Any, high: Any, op: str, bound: float) -> Any:
        d = self.d
        lo, hi = d.cmp(low, op, d.lit(bound)), d.cmp(high, op, d.lit(bound))
        return d.case([(d.and_([lo, hi]), d.lit(True)), (d.and_([d.not_(lo), d.not_(hi)]), d.lit(False))],
                      d.lit(None))

    def _score(self, c: Score) -> Any:
        d = self.d
        blocks = {b.id: self._block(b) for b in c.blocks}
        low = d.add([v[0] for v in blocks.values()])
        high = d.add([v[1] for v in blocks.values()])
        parts = [self._interval(low, high, c.op, c.pass_mark)]
        for b in c.blocks:
            if b.minimum is not None:
                parts.append(self._interval(*blocks[b.id], ">=", b.minimum))
        for ind_id in c.nonzero:
            parts.append(self._interval(*self._points(c._indicator(ind_id)), ">", 0.0))
        return d.and_(parts)


# ----------------------------------------------------------------------------- derived stage


def _group_table(ref: ReferenceTables) -> tuple[list[str], list[str | None]]:
    codes = sorted(ref.industry_names)
    return codes, [industry_group(c, ref) for c in codes]


def _size_rows(ref: ReferenceTables) -> dict[str, dict[str, float | None]]:
    """Per SME group: the lower bound of each (tier, indicator), None where not used."""
    std = ref.size_standard
    syms = list(std["indicator_fields"])
    return {g: {f"{t}_{s}": spec[t].get(s) for t in _TIERS for s in syms} for g, spec in std["groups"].items()}


def _size_class(d: Any, ref: ReferenceTables, bound: Any) -> Any:
    """size_class from the group's bounds (``bound(tier, sym)`` → column) as ``recommender.facts.SizeTable.size_codes``."""
    std = ref.size_standard
    tiers = {}
    for t in _TIERS:
        parts = []
        for sym, field in std["indicator_fields"].items():
            b = bound(t, sym)
            parts.append(d.case([(d.is_null(b), d.lit(True))], d.cmp(d.col(field), ">=", b)))
        tiers[t] = d.and_(parts)
    branches = [(d.is_null(d.col("industry_group")), d.null_text())]
    for t in _TIERS:
        branches += [(d.is_true(tiers[t]), d.lit(t)), (d.is_null(tiers[t]), d.null_text())]
    return d.case(branches, d.lit("micro"))


def _ratio(d: Any, num: Any, den: Any) -> Any:
    return d.case([(d.cmp(den, "==", d.lit(0.0)), d.lit(None))], num / den) if not isinstance(d, SqlDialect) \
        else f"(CASE WHEN {den} = 0 THEN NULL ELSE {num} / {den} END)"


_NUMERIC = [n for n, k in PROFILE_KINDS.items() if k in ("number", "bool")]
_SLP = (("taxable_income", SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME), ("employees", SMALL_LOW_PROFIT_MAX_EMPLOYEES),
        ("total_assets", SMALL_LOW_PROFIT_MAX_ASSETS))


def duckdb_sql(policies: Sequence[Policy], parquet: str, as_of: dt.date, ref: ReferenceTables) -> tuple[str, list[str]]:
    """One SQL query returning an int8 verdict column per translatable policy, in file order.

    Needs the reference tables ``ind_groups(code, grp)`` and ``size_bounds(grp, <tier>_<sym>…)``
    registered on the connection (:func:`duckdb_reference`). Returns ``(sql, policy ids)``.
    """
    d = SqlDialect()
    tr = Translator(d, as_of, ref)
    cols, ids = [], []
    for p in policies:
        try:
            v = tr.verdict(p)
        except Untranslatable:
            continue
        ids.append(p.id)
        cols.append(f'(CASE WHEN {v} THEN 2 WHEN NOT {v} THEN 0 ELSE 1 END)::TINYINT AS "{p.id}"')
    num = ", ".join(f'CAST("{n}" AS DOUBLE) AS "{n}"' for n in _NUMERIC)
    # blank = unknown, but a blank title list is none held (as the product's validator reads it)
    text = ", ".join((f'TRIM(CAST("{n}" AS VARCHAR)) AS "{n}"' if k == "set" else
                      f'NULLIF(TRIM(CAST("{n}" AS VARCHAR)), \'\') AS "{n}"')
                     for n, k in PROFILE_KINDS.items() if k in ("code", "category", "set"))
    certs = ", ".join(f"(CASE WHEN certifications IS NULL THEN NULL WHEN list_contains(string_split(certifications, ';'), "
                      f"'{c}') THEN 1.0 ELSE 0.0 END) AS \"{col}\"" for c, col in CERT_COLUMNS.items())
    size = _size_class(d, ref, lambda t, s: f'b."{t}_{s}"')
    slp = d.and_([f'("{c}" <= {b!r})' for c, b in _SLP])
    sql = f"""
WITH raw AS (SELECT {num}, {text}, CAST(established_on AS DATE) AS established_on, file_row_number
  FROM read_parquet('{parquet}', file_row_number = true)),
g AS (SELECT raw.*, ig.grp AS industry_group FROM raw LEFT JOIN ind_groups ig ON raw.industry_code = ig.code),
dv AS (SELECT g.*, {size} AS size_class,
  round(date_diff('day', established_on, DATE '{as_of.isoformat()}') / 365.2425, 4) AS age_years,
  {_ratio(d, '"rd_expense"', '"revenue"')} AS rd_intensity,
  {_ratio(d, '"rd_expense_3y"', '"revenue_3y"')} AS rd_intensity_3y,
  {_ratio(d, '"tech_staff"', '"employees"')} AS tech_staff_ratio,
  {_ratio(d, '"rd_staff"', '"employees"')} AS rd_staff_ratio,
  {_ratio(d, '("revenue" - "revenue_prev")', '"revenue_prev"')} AS revenue_growth,
  (CASE WHEN {slp} THEN 1.0 WHEN NOT {slp} THEN 0.0 END) AS small_low_profit,
  (CASE WHEN industry_code IS NULL THEN NULL WHEN starts_with(industry_code, 'C') THEN 1.0 ELSE 0.0 END) AS manufacturer,
  {certs}
  FROM g LEFT JOIN size_bounds b ON g.industry_group = b.grp)
SELECT {', '.join(cols)} FROM dv ORDER BY file_row_number"""
    return sql, ids


def duckdb_reference(con: Any, ref: ReferenceTables) -> None:
    """Register ``ind_groups`` and ``size_bounds`` on a DuckDB connection."""
    import pyarrow as pa
    codes, groups = _group_table(ref)
    con.register("ind_groups", pa.table({"code": codes, "grp": groups}))
    rows = _size_rows(ref)
    keys = sorted(next(iter(rows.values())))
    con.register("size_bounds", pa.table({"grp": list(rows), **{k: pa.array([rows[g][k] for g in rows], pa.float64())
                                                               for k in keys}}))


def polars_query(policies: Sequence[Policy], parquet: str, as_of: dt.date, ref: ReferenceTables) -> tuple[Any, list[str]]:
    """A Polars LazyFrame with an int8 verdict column per translatable policy, in file order."""
    import polars as pl
    d = PolarsDialect()
    tr = Translator(d, as_of, ref)
    codes, groups = _group_table(ref)
    rows = _size_rows(ref)
    keys = sorted(next(iter(rows.values())))
    groups_lf = pl.LazyFrame({"industry_code": codes, "industry_group": groups})
    bounds_lf = pl.LazyFrame({"industry_group": list(rows),
                              **{k: pl.Series([rows[g][k] for g in rows], dtype=pl.Float64) for k in keys}})
    text = [n for n, k in PROFILE_KINDS.items() if k in ("code", "category", "set")]
    lf = pl.scan_parquet(parquet).with_row_index("_i").select(
        "_i", *[pl.col(n).cast(pl.Float64) for n in _NUMERIC],
        *[pl.col(n).cast(pl.String).str.strip_chars() if PROFILE_KINDS[n] == "set"      # blank list: none held
          else pl.col(n).cast(pl.String).str.strip_chars().replace("", None) for n in text],
        pl.col("established_on").cast(pl.Date))
    lf = lf.join(groups_lf, on="industry_code", how="left", maintain_order="left").join(
        bounds_lf, on="industry_group", how="left", maintain_order="left")

    def ratio(num: Any, den: Any) -> Any:
        return pl.when(den == 0).then(None).otherwise(num / den)

    slp = d.and_([pl.col(c) <= b for c, b in _SLP])
    split = pl.col("certifications").str.split(";")
    lf = lf.with_columns(
        _size_class(d, ref, lambda t, s: pl.col(f"{t}_{s}")).alias("size_class"),
        ((pl.lit(as_of) - pl.col("established_on")).dt.total_days() / 365.2425).round(4).alias("age_years"),
        ratio(pl.col("rd_expense"), pl.col("revenue")).alias("rd_intensity"),
        ratio(pl.col("rd_expense_3y"), pl.col("revenue_3y")).alias("rd_intensity_3y"),
        ratio(pl.col("tech_staff"), pl.col("employees")).alias("tech_staff_ratio"),
        ratio(pl.col("rd_staff"), pl.col("employees")).alias("rd_staff_ratio"),
        ratio(pl.col("revenue") - pl.col("revenue_prev"), pl.col("revenue_prev")).alias("revenue_growth"),
        slp.cast(pl.Float64).alias("small_low_profit"),
        pl.col("industry_code").str.starts_with("C").cast(pl.Float64).alias("manufacturer"),
        *[split.list.contains(c).cast(pl.Float64).alias(col) for c, col in CERT_COLUMNS.items()],
    )
    exprs, ids = [], []
    for p in policies:
        try:
            v = tr.verdict(p)
        except Untranslatable:
            continue
        ids.append(p.id)
        exprs.append(pl.when(v.fill_null(False)).then(2).when((~v).fill_null(False)).then(0).otherwise(1)
                     .cast(pl.Int8).alias(p.id))
    return lf.select("_i", *exprs).sort("_i").drop("_i"), ids
