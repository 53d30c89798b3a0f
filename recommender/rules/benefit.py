"""Estimated benefit in yuan: a small formula language, interpreted (never ``eval``).

Forms: a number; ``{field: NAME}``; ``{add|mul|min|max: [...]}``; ``{sub: [a, b]}``;
``{div: [a, b]}``; ``{where: {field, op, value}, then: F, else: F}`` or
``{where: {field, in: [...]}, then: F, else: F}`` for a category (unknown condition →
unknown amount); ``{by_date: [{from: DATE, value: F}, …]}`` (the step in force on ``as_of``);
``{brackets: {of: F, rates: [{upto: X, rate: R}, …, {rate: R}]}}`` (progressive rates).
An unknown input makes the amount unknown (NaN → ``null``), never zero.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender.rules.operators import OPS, SCALAR_OPS, format_value
from recommender.errors import CatalogError
from recommender.facts import EvalFrame, FIELD_KINDS

_NARY = {"add": np.add, "mul": np.multiply, "min": np.fmin, "max": np.fmax}
_NAN = float("nan")


@dataclass(frozen=True)
class Formula:
    """A parsed formula node."""

    op: str
    args: tuple[Any, ...] = ()

    def evaluate(self, frame: EvalFrame) -> np.ndarray:
        n = frame.n
        if self.op == "const":
            return np.full(n, self.args[0], dtype="float64")
        if self.op == "field":
            return frame.num(self.args[0]).astype("float64")
        if self.op in _NARY:
            parts = [a.evaluate(frame) for a in self.args]
            out = parts[0]
            for p in parts[1:]:
                out = _NARY[self.op](out, p)
            if self.op in ("min", "max"):  # fmin/fmax skip NaN; an unknown operand is unknown
                out = np.where(np.any([np.isnan(p) for p in parts], axis=0), np.nan, out)
            return out
        if self.op == "sub":
            return self.args[0].evaluate(frame) - self.args[1].evaluate(frame)
        if self.op == "div":
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                out = self.args[0].evaluate(frame) / self.args[1].evaluate(frame)
            out[~np.isfinite(out)] = np.nan
            return out
        if self.op == "where_in":
            field, values, then, other = self.args
            codes, uniques = frame.factorized(field)
            lut = np.array([u in values for u in uniques] + [False])
            out = np.where(lut[codes], then.evaluate(frame), other.evaluate(frame))
            out[codes < 0] = np.nan
            return out
        if self.op == "where":
            field, op, value, then, other = self.args
            x = frame.num(field)
            with np.errstate(invalid="ignore"):
                cond = OPS[op](x, value)
            out = np.where(cond, then.evaluate(frame), other.evaluate(frame))
            out[np.isnan(x)] = np.nan
            return out
        if self.op == "by_date":
            current = None
            for start, f in self.args:
                if start <= frame.as_of:
                    current = f
            return np.full(n, np.nan) if current is None else current.evaluate(frame)
        if self.op == "brackets":
            base, rates = self.args
            x = base.evaluate(frame)
            tax = np.zeros(n)
            lower = 0.0
            for upto, rate in rates:
                top = np.inf if upto is None else upto
                tax += np.clip(np.minimum(x, top) - lower, 0, None) * rate
                lower = top
            tax[np.isnan(x)] = np.nan
            return tax
        raise ValueError(f"unknown formula op {self.op!r}")

    def evaluate_row(self, frame: EvalFrame, row: int) -> float:
        """:meth:`evaluate` for one row, on Python floats (the one-firm path); NaN unknown.

        The same arithmetic in the same order (a test holds the two equal)."""
        op = self.op
        if op == "const":
            return float(self.args[0])
        if op == "field":
            v = frame.value(self.args[0], row)
            return _NAN if v is None else float(v)  # type: ignore[arg-type]  # a formula field is numeric (checked at parse)
        if op in ("add", "mul"):
            out = self.args[0].evaluate_row(frame, row)
            for a in self.args[1:]:
                out = out + a.evaluate_row(frame, row) if op == "add" else out * a.evaluate_row(frame, row)
            return out
        if op in ("min", "max"):
            parts = [a.evaluate_row(frame, row) for a in self.args]
            if any(p != p for p in parts):
                return _NAN
            acc = parts[0]
            for p in parts[1:]:
                acc = float(_NARY[op](acc, p))
            return acc
        if op == "sub":
            return self.args[0].evaluate_row(frame, row) - self.args[1].evaluate_row(frame, row)
        if op == "div":
            a, b = self.args[0].evaluate_row(frame, row), self.args[1].evaluate_row(frame, row)
            try:
                out = a / b
            except (ZeroDivisionError, OverflowError):
                return _NAN
            return out if math.isfinite(out) else _NAN
        if op == "where_in":
            field, values, then, other = self.args
            v = frame.value(field, row)
            chosen = then.evaluate_row(frame, row) if v in values else other.evaluate_row(frame, row)
            return _NAN if v is None else chosen
        if op == "where":
            field, cmp, value, then, other = self.args
            x = frame.value(field, row)
            if x is None:
                return _NAN
            return then.evaluate_row(frame, row) if SCALAR_OPS[cmp](float(x), value) else other.evaluate_row(frame, row)  # type: ignore[arg-type]  # a where field is numeric (checked at parse)
        if op == "by_date":
            current = None
            for start, f in self.args:
                if start <= frame.as_of:
                    current = f
            return _NAN if current is None else current.evaluate_row(frame, row)
        if op == "brackets":
            base, rates = self.args
            x = base.evaluate_row(frame, row)
            if x != x:
                return _NAN
            tax, lower = 0.0, 0.0
            for upto, rate in rates:
                top = math.inf if upto is None else upto
                tax += max(min(x, top) - lower, 0.0) * rate
                lower = top
            return tax
        raise ValueError(f"unknown formula op {self.op!r}")

    def text(self, as_of: dt.date | None = None) -> str:
        """The formula in words, as shown in results."""
        if self.op == "const":
            return format_value(float(self.args[0]))
        if self.op == "field":
            return str(self.args[0])
        if self.op in ("add", "mul"):
            sym = " + " if self.op == "add" else " × "
            return "(" + sym.join(a.text(as_of) for a in self.args) + ")"
        if self.op in ("min", "max", "sub", "div"):
            if self.op == "sub":
                return f"({self.args[0].text(as_of)} − {self.args[1].text(as_of)})"
            if self.op == "div":
                return f"({self.args[0].text(as_of)} ÷ {self.args[1].text(as_of)})"
            return f"{self.op}(" + ", ".join(a.text(as_of) for a in self.args) + ")"
        if self.op == "where":
            field, op, value, then, other = self.args
            return f"({then.text(as_of)} if {field} {op} {format_value(value)} else {other.text(as_of)})"
        if self.op == "where_in":
            field, values, then, other = self.args
            return f"({then.text(as_of)} if {field} in {{{', '.join(values)}}} else {other.text(as_of)})"
        if self.op == "by_date":
            steps = [(s, f) for s, f in self.args if as_of is None or s <= as_of]
            if as_of is not None and steps:
                return steps[-1][1].text(as_of)
            return " / ".join(f"from {s.isoformat()}: {f.text(as_of)}" for s, f in self.args)
        if self.op == "brackets":
            base, rates = self.args
            parts = [f"{r:.1%} up to {format_value(u)}" if u is not None else f"{r:.1%} above" for u, r in rates]
            return f"brackets({base.text(as_of)}: {', '.join(parts)})"
        return self.op


def parse_formula(raw: Any, path: str) -> Formula:
    """Parse a formula mapping; :class:`CatalogError` names the path on any unknown form."""
    def fail(reason: str) -> CatalogError:
        return CatalogError(reason, path=path)

    if isinstance(raw, bool):
        raise fail("a formula cannot be a bool")
    if isinstance(raw, (int, float)):
        return Formula("const", (float(raw),))
    if not isinstance(raw, dict) or len(raw) not in (1, 3):
        raise fail(f"unsupported formula {raw!r}")
    if "where" in raw:
        if set(raw) != {"where", "then", "else"}:
            raise fail("'where' needs 'then' and 'else'")
        cond = raw["where"]
        if isinstance(cond, dict) and set(cond) == {"field", "in"}:
            if FIELD_KINDS.get(cond["field"]) not in ("category", "code") or not isinstance(cond["in"], list):
                raise fail("'where' with 'in' needs a category field and a list of values")
            return Formula("where_in", (cond["field"], tuple(cond["in"]),
                                        parse_formula(raw["then"], f"{path}.then"),
                                        parse_formula(raw["else"], f"{path}.else")))
        if not isinstance(cond, dict) or set(cond) != {"field", "op", "value"} or cond["op"] not in OPS:
            raise fail("'where' is {field, op, value}")
        if FIELD_KINDS.get(cond["field"]) not in ("number", "bool"):
            raise fail(f"'where' needs a number or bool field, got {cond['field']!r}")
        return Formula("where", (cond["field"], cond["op"], float(cond["value"]),
                                 parse_formula(raw["then"], f"{path}.then"),
                                 parse_formula(raw["else"], f"{path}.else")))
    (op, arg), = raw.items()
    if op == "field":
        if FIELD_KINDS.get(arg) not in ("number", "bool"):
            raise fail(f"unknown or non-numeric field {arg!r}")
        return Formula("field", (arg,))
    if op in _NARY or op in ("sub", "div"):
        if not isinstance(arg, list) or len(arg) < 2 or (op in ("sub", "div") and len(arg) != 2):
            raise fail(f"'{op}' needs a list of {'two' if op in ('sub', 'div') else 'two or more'} formulas")
        return Formula(op, tuple(parse_formula(a, f"{path}.{op}[{i}]") for i, a in enumerate(arg)))
    if op == "by_date":
        steps = []
        for i, s in enumerate(arg or []):
            if not isinstance(s, dict) or set(s) != {"from", "value"} or not isinstance(s["from"], dt.date):
                raise fail(f"by_date[{i}] is {{from: DATE, value: F}}")
            steps.append((s["from"], parse_formula(s["value"], f"{path}.by_date[{i}]")))
        return Formula("by_date", tuple(steps))
    if op == "brackets":
        if not isinstance(arg, dict) or set(arg) != {"of", "rates"}:
            raise fail("'brackets' is {of: F, rates: [{upto, rate}, …, {rate}]}")
        rates = []
        for i, r in enumerate(arg["rates"]):
            if not isinstance(r, dict) or "rate" not in r or set(r) - {"upto", "rate"}:
                raise fail(f"brackets.rates[{i}] is {{upto: X, rate: R}}")
            rates.append((float(r["upto"]) if "upto" in r else None, float(r["rate"])))
        return Formula("brackets", (parse_formula(arg["of"], f"{path}.of"), tuple(rates)))
    raise fail(f"unknown formula operator {op!r}")
