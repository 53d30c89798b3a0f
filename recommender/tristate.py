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
    out = np.where(values, MET, NOT_MET).astype(np.int8)
    out[~known] = UNKNOWN
    return out


def all_of(parts: list[np.ndarray], n: int) -> np.ndarray:
    if not parts:
        return np.full(n, MET, dtype=np.int8)
    out = parts[0].copy()
    for p in parts[1:]:
        np.minimum(out, p, out=out)
    return out


def any_of(parts: list[np.ndarray], n: int) -> np.ndarray:
    if not parts:
        return np.full(n, NOT_MET, dtype=np.int8)
    out = parts[0].copy()
    for p in parts[1:]:
        np.maximum(out, p, out=out)
    return out


def negate(values: np.ndarray) -> np.ndarray:
    return (MET - values).astype(np.int8)
