"""Composite criteria: ``all``, ``any`` and ``not`` with Kleene logic (unknown stays unknown
unless the other operands settle the result), over a frame and for one firm."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from recommender import tristate as ts
from recommender.facts import EvalFrame
from recommender.rules.node import Criterion, OneFirm, Outcomes, Sink, Slot, constant

if TYPE_CHECKING:
    from recommender.facts import RowFrame

_MET, _NOT_MET = ts.MET, ts.NOT_MET


@dataclass(frozen=True, eq=False)
class AllOf(Criterion):
    items: tuple[Criterion, ...] = ()
    kind: ClassVar[str] = "all"

    def children(self) -> tuple[Criterion, ...]:
        return self.items

    def shape(self) -> object:
        return ("all", tuple(c.memo_key for c in self.items))

    def _evaluate(self, frame: EvalFrame, sink: Sink | None) -> Outcomes:
        return ts.all_of([c.evaluate(frame, sink) for c in self.items], frame.n)

    def one_firm(self, as_of: dt.date, slot: Slot) -> OneFirm:
        kids = [slot(c) for c in self.items]
        if not kids:
            return constant(_MET)

        def rule(frame: RowFrame, codes: list[int]) -> int:
            return min([codes[k] for k in kids])
        return rule


@dataclass(frozen=True, eq=False)
class AnyOf(Criterion):
    items: tuple[Criterion, ...] = ()
    kind: ClassVar[str] = "any"

    def children(self) -> tuple[Criterion, ...]:
        return self.items

    def shape(self) -> object:
        return ("any", tuple(c.memo_key for c in self.items))

    def _evaluate(self, frame: EvalFrame, sink: Sink | None) -> Outcomes:
        return ts.any_of([c.evaluate(frame, sink) for c in self.items], frame.n)

    def one_firm(self, as_of: dt.date, slot: Slot) -> OneFirm:
        kids = [slot(c) for c in self.items]
        if not kids:
            return constant(_NOT_MET)

        def rule(frame: RowFrame, codes: list[int]) -> int:
            return max([codes[k] for k in kids])
        return rule


@dataclass(frozen=True, eq=False)
class Not(Criterion):
    item: Criterion | None = None
    kind: ClassVar[str] = "not"

    def children(self) -> tuple[Criterion, ...]:
        return (self.item,) if self.item is not None else ()

    def shape(self) -> object:
        return ("not", None if self.item is None else self.item.memo_key)

    def _evaluate(self, frame: EvalFrame, sink: Sink | None) -> Outcomes:
        if self.item is None:
            raise ValueError(f"{self.path}: 'not' without an operand")
        return ts.negate(self.item.evaluate(frame, sink))

    def one_firm(self, as_of: dt.date, slot: Slot) -> OneFirm:
        if self.item is None:
            raise ValueError(f"{self.path}: 'not' without an operand")
        kid = slot(self.item)

        def rule(frame: RowFrame, codes: list[int]) -> int:
            return _MET - codes[kid]
        return rule
