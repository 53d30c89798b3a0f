"""Three-valued (Kleene) logic on int8 arrays: the outcome codes of every criterion.

``NOT_MET = 0 < UNKNOWN = 1 < MET = 2``, so *all* is the minimum, *any* the maximum and
*not* is ``2 - x``. Unknown stays unknown unless the other operands settle the result.
"""

from __future__ import annotations

import numpy as np

NOT_MET: int = 0
UNKNOWN: int = 1
MET: int = 2
OUTCOME_NAMES = ("not_met", "unknown", "met")


def from_bool(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """MET where ``values`` is true, NOT_MET where false, UNKNOWN where not ``known``."""
    known = np.asarray(known, dtype=bool)
    out = np.logical_and(values, known).view(np.int8) * np.int8(2)   # 2 where met, else 0
    out |= np.logical_not(known).view(np.int8)                      # bitwise: 0 | 1 = UNKNOWN
    return out


def from_hit(hit: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """:func:`from_bool` when ``hit`` is already false wherever ``unknown`` (int8 0/1) is set,
    as a comparison with NaN is: two passes, no masks (a multiply: numpy's shifts are slow)."""
    out = hit.view(np.int8) * np.int8(2)
    out |= unknown
    return out


def all_of(parts: list[np.ndarray], n: int) -> np.ndarray:
    if not parts:
        return np.full(n, MET, dtype=np.int8)
    if len(parts) == 1:
        return parts[0].copy()
    out = np.minimum(parts[0], parts[1])
    for p in parts[2:]:
        np.minimum(out, p, out=out)
    return out


def any_of(parts: list[np.ndarray], n: int) -> np.ndarray:
    if not parts:
        return np.full(n, NOT_MET, dtype=np.int8)
    if len(parts) == 1:
        return parts[0].copy()
    out = np.maximum(parts[0], parts[1])
    for p in parts[2:]:
        np.maximum(out, p, out=out)
    return out


def negate(values: np.ndarray) -> np.ndarray:
    return np.subtract(np.int8(MET), values, dtype=np.int8)
