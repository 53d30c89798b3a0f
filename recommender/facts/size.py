"""Firm size (SPEC §3 ``size_class``, ``industry_group``) by 工信部联企业〔2011〕300号, with the
group scope of 国统字〔2017〕213号; thresholds in ``data/reference/sme_size_standard.yaml``.

The class is decided top-down (large, medium, small; micro otherwise) with the standard's
and/or logic; an indicator that is unknown where a tier uses it leaves the class unknown
unless the known ones already decide it (an industrial firm with 12 employees is micro
whatever its revenue). The array rule (:func:`size_codes`) and the one-firm rule
(:func:`size_code`) sit side by side; a test holds them equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recommender import tristate as ts
from recommender.profile import ReferenceTables

if TYPE_CHECKING:
    from recommender.facts.declared import Columns

SIZE_LABELS: tuple[str, ...] = ("large", "medium", "small", "micro")
SIZE_NAMES_ZH: dict[str, str] = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
"""Chinese name of each size class (大型、中型、小型、微型企业, as the standard names them)."""
_TIERS = SIZE_LABELS[:3]


def industry_group(code: str | None, ref: ReferenceTables) -> str | None:
    """SME-standard group of a canonical GB/T 4754 code, or None (not covered or ambiguous)."""
    if code is None:
        return None
    mapping: dict[str, str | None] = ref.size_standard["mapping"]
    covering = [p for p in mapping if code.startswith(p)]
    if covering:
        return mapping[max(covering, key=len)]
    finer = {mapping[p] for p in mapping if p.startswith(code)}
    return finer.pop() if len(finer) == 1 else None


class SizeTable:
    """Per reference tables: group labels and, per tier and indicator, each group's bound."""

    def __init__(self, ref: ReferenceTables) -> None:
        std = ref.size_standard
        named = [g for g in dict.fromkeys(std["mapping"].values()) if g is not None and g not in std["groups"]]
        self.groups: tuple[str, ...] = (*std["groups"], *named)   # a mapped group without bounds: none apply
        self.fields: dict[str, str] = dict(std["indicator_fields"])
        specs = [std["groups"].get(g, {}) for g in self.groups]
        # bounds[tier][sym]: float array over group index, NaN where the group has no bound;
        # one extra trailing NaN slot for "no group" (index -1).
        self.bounds = {tier: {sym: np.array([float(spec[tier][sym]) if sym in spec.get(tier, {}) else np.nan
                                             for spec in specs] + [np.nan])
                              for sym in self.fields} for tier in _TIERS}
        self._group_of: dict[str, int] = {}
        self._index = {g: i for i, g in enumerate(self.groups)}
        self._ref = ref

    def group_index(self, code: str) -> int:
        """Index of the code's SME group in ``groups``, -1 when none (as :func:`industry_group`)."""
        if code not in self._group_of:
            g = industry_group(code, self._ref)
            self._group_of[code] = -1 if g is None else self._index[g]
        return self._group_of[code]

    def group_codes(self, frame: Columns) -> np.ndarray:
        """SME-group index per row, -1 when unknown."""
        codes, uniques = frame.factorized("industry_code")
        lut = np.array([self.group_index(str(u)) for u in uniques] + [-1], dtype=np.intp)
        return lut[codes]

    def size_codes(self, frame: Columns, groups: np.ndarray) -> np.ndarray:
        """Size class per row as an index into :data:`SIZE_LABELS`, -1 when unknown."""
        n = frame.n
        values = {sym: frame.num(col) for sym, col in self.fields.items()}
        known = {sym: ~np.isnan(v) for sym, v in values.items()}
        out = np.full(n, -1, dtype=np.intp)
        undecided = groups >= 0
        for k, tier in enumerate(_TIERS):
            parts = []
            for sym, v in values.items():
                bound = self.bounds[tier][sym][groups]
                used = ~np.isnan(bound)
                with np.errstate(invalid="ignore"):   # where used and known, bound is a number
                    part = ts.from_bool(np.where(used & known[sym], v >= bound, True), known[sym] | ~used)
                parts.append(part)
            t = ts.all_of(parts, n)
            out[undecided & (t == ts.MET)] = k
            undecided = undecided & (t == ts.NOT_MET)
        out[undecided] = len(_TIERS)
        return out

    def size_code(self, values: dict[str, object], group: int) -> int:
        """:meth:`size_codes` for one firm's cell values: index into ``SIZE_LABELS``, -1 unknown."""
        if group < 0:
            return -1
        for k, tier in enumerate(_TIERS):
            t = ts.MET
            for sym, col in self.fields.items():
                bound = float(self.bounds[tier][sym][group])
                used = bound == bound
                v = values[col]
                known = v == v
                if not (known or not used):
                    part = ts.UNKNOWN
                else:
                    part = ts.MET if (v >= bound if used and known else True) else ts.NOT_MET  # type: ignore[operator]  # cells are object-typed; a size indicator is a float here
                t = min(t, part)
            if t == ts.MET:
                return k
            if t != ts.NOT_MET:
                return -1
        return len(SIZE_LABELS) - 1
