"""One firm's candidate pairs encoded fast: policy-level features prepared once per catalog.

:meth:`PairEncoder.transform <features.encoder.PairEncoder.transform>` encodes a pair table
of any shape; serving one firm calls it with one firm and a few dozen pairs, where its
per-column pandas factorisation and TF-IDF of the policy texts cost more than the model.
:class:`FirmPairEncoder` splits the encoder's columns by level once (policy, firm or pair,
read from the encoder's own column lists, so a feature added to the encoder is picked up):
the policy-level block (numeric, categorical and the policy texts' tf-idf vectors) is encoded
once; a request fills the firm-level values into one row, copies the policy rows of its
candidates and writes the pair-level columns. The output equals ``transform`` of the same
pair table (a test holds them equal).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd

from features.encoder import PairEncoder, _floats, signed_log


def _scalar(value: Any) -> Any:
    """A firm-level value given as a scalar or a one-element array."""
    if isinstance(value, (np.ndarray, pd.Series, list, tuple)):
        return value[0] if not isinstance(value, pd.Series) else value.iloc[0]
    return value


class FirmPairEncoder:
    """A :class:`~features.encoder.PairEncoder` prepared for one firm × a policy set.

    Parameters
    ----------
    encoder : PairEncoder
    policies : mapping of name → array (n_policies,)
        Policy-level columns of every policy pairs may refer to (column ``cols[i]`` of a
        pair indexes these arrays).
    firm_columns : collection of str
        Columns given per firm at :meth:`transform`; every other column the encoder reads
        that is not a policy column is given per pair.

    Raises
    ------
    ValueError
        The encoder's text pair is not (firm text, policy text): this shortcut does not apply.
    """

    def __init__(self, encoder: PairEncoder, policies: Mapping[str, Any], firm_columns: Collection[str]) -> None:
        self.encoder = encoder
        firm_set = set(firm_columns)
        n_pol = len(next(iter(policies.values())))
        width = len(encoder.feature_names)
        block = np.zeros((n_pol, width))
        self._firm_numeric: list[tuple[int, str, bool]] = []
        self._firm_categorical: list[tuple[int, str]] = []
        self._pair_numeric: list[tuple[int, str, bool]] = []
        self._pair_categorical: list[tuple[int, str]] = []
        j = 0
        for c in encoder.numeric:
            log = c in encoder.log_columns
            if c in policies:
                values = _floats(policies[c])
                block[:, j] = signed_log(values) if log else values
            elif c in firm_set:
                self._firm_numeric.append((j, c, log))
            else:
                self._pair_numeric.append((j, c, log))
            j += 1
        for c in encoder.categorical:
            width_c = encoder.categorical_width(c)
            if c in policies:
                block[:, j:j + width_c] = encoder.categorical_block(c, encoder.codes(c, policies[c]))
            elif c in firm_set:
                self._firm_categorical.append((j, c))
            else:
                self._pair_categorical.append((j, c))
            j += width_c
        self._similarity = j
        firm_text, policy_text = encoder.text
        if firm_text not in firm_set or policy_text not in policies:
            raise ValueError(f"text columns {encoder.text} are not (firm, policy) columns")
        self._firm_text = firm_text
        codes, uniques = pd.factorize(np.asarray(policies[policy_text], dtype=object), use_na_sentinel=True)
        self._text_codes = codes
        self._text_dense = encoder.text_columns([str(u) for u in uniques]) if len(uniques) else None
        self._firm_cols = np.array([jj for jj, _, _ in self._firm_numeric], dtype=np.int64)
        self._firm_logs = np.array([log for _, _, log in self._firm_numeric], dtype=bool)
        self._pair_cols = np.array([jj for jj, _, _ in self._pair_numeric], dtype=np.int64)
        block.flags.writeable = False
        self._block = block
        self.pair_columns = [c for _, c, _ in self._pair_numeric] + [c for _, c in self._pair_categorical]
        """Columns :meth:`transform` needs per pair."""

    def transform(self, firm: Mapping[str, Any], pairs: Mapping[str, Any], cols: np.ndarray) -> np.ndarray:
        """Feature matrix ``(len(cols), n_features)`` of the firm paired with policies ``cols``.

        ``firm`` maps each firm column to its value (a scalar or a one-element array);
        ``pairs`` maps each of :attr:`pair_columns` to an array aligned with ``cols``.
        """
        enc = self.encoder
        out = self._block[cols]
        if len(self._firm_cols):
            values = np.array([_scalar(firm[c]) for _, c, _ in self._firm_numeric], dtype="float64")
            if self._firm_logs.any():
                values[self._firm_logs] = signed_log(values[self._firm_logs])
            out[:, self._firm_cols] = values
        for j, c in self._firm_categorical:
            row = enc.categorical_block(c, np.array([enc.category_code(c, _scalar(firm[c]))]))
            out[:, j:j + row.shape[1]] = row
        if len(self._pair_cols):
            stacked = np.empty((len(cols), len(self._pair_cols)))
            for k, (_, c, log) in enumerate(self._pair_numeric):
                values = _floats(pairs[c])
                stacked[:, k] = signed_log(values) if log else values
            out[:, self._pair_cols] = stacked
        for j, c in self._pair_categorical:
            block = enc.categorical_block(c, enc.codes(c, pairs[c]))
            out[:, j:j + block.shape[1]] = block
        out[:, self._similarity] = self._similarities(_scalar(firm[self._firm_text]), cols)
        return out

    def _similarities(self, text: Any, cols: np.ndarray) -> np.ndarray:
        if text is None or (isinstance(text, float) and text != text) or self._text_dense is None:
            return np.full(len(cols), np.nan)
        sims = self.encoder.cosines([str(text)], self._text_dense)[0]
        codes = self._text_codes[cols]
        out = sims[np.maximum(codes, 0)]
        out[codes < 0] = np.nan
        return out
