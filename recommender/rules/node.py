"""The criteria language: a small tree of typed criterion objects, interpreted by code.

Every node evaluates a whole :class:`~recommender.facts.frame.EvalFrame` at once and returns an
int8 outcome array (:mod:`recommender.tristate`: 0 not met, 1 unknown, 2 met), and beside it
gives its rule for one firm (:meth:`Criterion.one_firm`, on Python floats). Leaves
(:mod:`recommender.rules.criteria`) compare a profile field or derived fact with a threshold,
test membership in a set of codes, test a certification, or stand for a condition no profile
field expresses (a declaration); composites (:mod:`recommender.rules.composites`) combine them
with Kleene logic; the point-scoring node is :mod:`recommender.rules.scoring`. The same object
that evaluates also says what it needs (``required_text``), what it saw (``observed``) and how
far off the firm is (``gap``), so text and logic cannot drift. Parsing from YAML lives in
:mod:`recommender.rules.parser`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from recommender.facts import EvalFrame, source_fields

if TYPE_CHECKING:
    from recommender.facts import RowFrame

Outcomes = np.ndarray
Sink = dict[str, np.ndarray]
OneFirm = Callable[["RowFrame", list[int]], int]
"""A node's rule for one firm: (the firm's one-row frame, the outcome codes of the nodes
evaluated before it, by slot) → the node's outcome code. See :meth:`Criterion.one_firm`."""
Slot = Callable[["Criterion"], int]


def constant(code: int) -> OneFirm:
    def rule(frame: RowFrame, codes: list[int]) -> int:
        return code
    return rule


@dataclass(frozen=True, eq=False)
class Criterion:
    """A node of a policy's criteria tree."""

    id: str
    label_zh: str
    label_en: str
    clause: str
    path: str
    kind: ClassVar[str] = "criterion"

    def evaluate(self, frame: EvalFrame, sink: Sink | None = None) -> Outcomes:
        """Outcomes over the frame (read-only; recorded under ``path`` in ``sink``, with every
        descendant's). Nodes that test the same thing, in this policy or any other, are
        computed once per frame: the result is kept in the frame's memo under the node's
        :attr:`memo_key`."""
        key = self.memo_key
        out: Outcomes | None = frame.recall(key)
        if out is None:
            out = self._evaluate(frame, sink)
            out.flags.writeable = False
            frame.remember(key, out)
        elif sink is not None:
            for c in self.children():
                c.evaluate(frame, sink)
        if sink is not None:
            sink[self.path] = out
        return out

    def _evaluate(self, frame: EvalFrame, sink: Sink | None) -> Outcomes:
        raise NotImplementedError

    def shape(self) -> object:
        """What the node tests, as a hashable value: equal shapes give equal outcomes on any
        frame (ids, labels, clauses and paths left out). The default is the node itself."""
        return self

    @cached_property
    def memo_key(self) -> tuple[str, Criterion]:
        """Frame-memo key: nodes of one catalog that test the same thing (equal :meth:`shape`)
        share the first one's, set by :func:`share_memo_keys` when the catalog is built; a
        node made on its own stands for itself."""
        return ("outcome", self)

    @cached_property
    def label_text(self) -> str:
        """``"中文 / English"``, as a criterion entry shows the label."""
        return f"{self.label_zh} / {self.label_en}"

    @cached_property
    def sources(self) -> tuple[str, ...]:
        """Profile fields behind the fields this node reads (derived facts resolved to their
        inputs), sorted: what to ask a firm for."""
        return tuple(sorted({src for f in self.fields() for src in source_fields(f)}))

    def children(self) -> tuple[Criterion, ...]:
        return ()

    def dependencies(self) -> tuple[Criterion, ...]:
        """Nodes whose one-firm outcomes :meth:`one_firm` reads (the children by default)."""
        return self.children()

    def one_firm(self, as_of: dt.date, slot: Slot) -> OneFirm:
        """This node's rule for one firm on ``as_of`` (thresholds resolved now), reading the
        outcome of a dependency ``d`` at ``codes[slot(d)]``. It must give what :meth:`evaluate`
        gives for a frame of that one firm (a hypothesis test holds every kind to it). The
        default runs :meth:`evaluate` on the one-row frame; leaves and Kleene composites
        override it with scalar arithmetic, hundreds of times cheaper than numpy on one row."""
        def rule(frame: RowFrame, codes: list[int]) -> int:
            return int(self.evaluate(frame)[0])
        return rule

    def margin_row(self, as_of: dt.date) -> tuple[str, float, float, bool] | None:
        """``(column, required, scale, upper)`` when the margin is a plain comparison of one
        column on ``as_of``: ``(value - required) / scale``, negated when ``upper``."""
        return None

    def walk(self) -> list[Criterion]:
        """This node and every descendant, depth first."""
        out: list[Criterion] = [self]
        for c in self.children():
            out.extend(c.walk())
        return out

    def fields(self) -> set[str]:
        """Profile fields and derived facts this node reads."""
        return set().union(*(c.fields() for c in self.children())) if self.children() else set()

    # Explanations for one row ------------------------------------------------------
    def observed(self, frame: EvalFrame, row: int) -> Any:
        return None

    def required_text(self, frame: EvalFrame, row: int) -> str:
        return ""

    def gap(self, frame: EvalFrame, row: int) -> float | None:
        return None

    def margin(self, frame: EvalFrame) -> np.ndarray | None:
        """Relative distance to the threshold, positive when passing; None when not numeric."""
        return None


def share_memo_keys(roots: Iterable[Criterion]) -> None:
    """Give every node under ``roots`` (and its dependencies) its :attr:`Criterion.memo_key`:
    nodes of equal shape share the first one's, so a test common to several policies is
    computed once per frame. The table is local to the call: the keys hold nodes of these
    trees only, so they are freed with them (a reload leaves nothing behind). A node already
    keyed (shared with another catalog) keeps its key."""
    first: dict[object, Criterion] = {}

    def visit(node: Criterion) -> None:
        if "memo_key" in node.__dict__:
            return
        for dep in node.dependencies():
            visit(dep)
        node.__dict__["memo_key"] = ("outcome", first.setdefault(node.shape(), node))

    for root in roots:
        visit(root)
