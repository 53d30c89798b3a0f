"""The pair table in levels: firm columns once per firm, policy columns once per policy.

A pair table lists (firm, policy) pairs. Most of its columns belong to the firm (revenue,
size class, business scope) or to the policy (family, text, history statistics); only a few
belong to the pair (verdict, margins, benefit). Repeating every firm and policy value on
every pair, as a flat DataFrame does, costs time and memory that matter when one firm is
served in a few milliseconds or a million firms in minutes. :class:`PairTable` keeps each
column at its own level, with ``rows``/``cols`` linking a pair to its firm and policy, and
expands a column only when asked. A flat DataFrame is a pair table whose columns are all at
pair level (:meth:`PairTable.from_frame`), so the transformers read both through one path.

>>> t = PairTable(firms={"revenue": np.array([1.0, 2.0])}, policies={"family": np.array(["a"], dtype=object)},
...               pairs={"verdict": np.array([2.0, 1.0, 2.0])}, rows=np.array([0, 1, 1]), cols=np.array([0, 0, 0]))
>>> t.column("revenue").tolist(), len(t)
([1.0, 2.0, 2.0], 3)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.columns import COL, ROW


@dataclass(frozen=True)
class PairTable:
    """Columns at firm, policy and pair level, and the firm row and policy column of each pair.

    Parameters
    ----------
    firms : mapping of name → array (n_firms,)
    policies : mapping of name → array (n_policies,)
    pairs : mapping of name → array (n_pairs,)
    rows, cols : int arrays (n_pairs,)
        The firm row and policy column of each pair.
    order : sequence of str, optional
        Column order of :meth:`to_frame` (default: firm, pair, then policy columns).
    """

    firms: Mapping[str, Any]
    policies: Mapping[str, Any]
    pairs: Mapping[str, Any]
    rows: np.ndarray
    cols: np.ndarray
    order: Sequence[str] = field(default=())

    def __post_init__(self) -> None:
        names = [*self.firms, *self.policies, *self.pairs]
        if len(set(names)) != len(names):
            raise ValueError("a column name appears at more than one level")
        if len(self.rows) != len(self.cols):
            raise ValueError("rows and cols differ in length")

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> PairTable:
        """A flat pair table (every column at pair level)."""
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"expected a pandas DataFrame (a pair table), got {type(frame).__name__}")
        n = len(frame)
        return cls(firms={}, policies={}, pairs={str(c): frame[c] for c in frame.columns},
                   rows=np.arange(n), cols=np.arange(n), order=[str(c) for c in frame.columns])

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, name: object) -> bool:
        return name in self.firms or name in self.policies or name in self.pairs

    def columns(self) -> list[str]:
        """Every column name, in :meth:`to_frame` order."""
        return list(self.order) if self.order else [*self.firms, *self.pairs, *self.policies]

    def missing(self, names: Sequence[str]) -> list[str]:
        """The names in ``names`` this table lacks."""
        return [c for c in names if c not in self]

    def level(self, name: str) -> tuple[Any, np.ndarray | None]:
        """``(values at the column's level, index that expands them to pairs or None)``."""
        if name in self.pairs:
            return self.pairs[name], None
        if name in self.firms:
            return self.firms[name], self.rows
        if name in self.policies:
            return self.policies[name], self.cols
        raise KeyError(name)

    def column(self, name: str) -> np.ndarray:
        """One column expanded to one value per pair."""
        if name not in self and name in (ROW, COL):
            return self.rows if name == ROW else self.cols
        values, index = self.level(name)
        values = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
        return values if index is None else values[index]

    def take(self, positions: np.ndarray) -> PairTable:
        """The pairs at ``positions``, with only the firms they refer to."""
        positions = np.asarray(positions, dtype=np.int64)
        used, local = _distinct_rows(self.rows[positions])
        return PairTable(firms={k: _take(v, used) for k, v in self.firms.items()}, policies=self.policies,
                         pairs={k: _take(v, positions) for k, v in self.pairs.items()},
                         rows=local, cols=self.cols[positions], order=self.order)

    def with_policy_columns(self, columns: Mapping[str, Any]) -> PairTable:
        """A copy with more policy-level columns (e.g. history statistics)."""
        order = [*self.order, *columns] if self.order else ()
        return PairTable(self.firms, {**self.policies, **columns}, self.pairs, self.rows, self.cols, order)

    def to_frame(self) -> pd.DataFrame:
        """The flat DataFrame: one row per pair, every column expanded."""
        names = self.columns()
        data = {name: self.column(name) for name in names}
        return pd.DataFrame(data, columns=names)


def _distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(rows, return_inverse=True)``, without its sort when ``rows`` is sorted
    already (the pairs of a block or of the matches shown, in firm order, as a rule)."""
    if len(rows) and not (rows[1:] >= rows[:-1]).all():
        used, local = np.unique(rows, return_inverse=True)
        return used, local.reshape(-1)
    first = np.empty(len(rows), dtype=bool)
    first[:1] = True
    np.not_equal(rows[1:], rows[:-1], out=first[1:])
    return rows[first], np.cumsum(first) - 1


def _take(values: Any, positions: np.ndarray) -> Any:
    return values.iloc[positions] if isinstance(values, pd.Series) else np.asarray(values)[positions]
