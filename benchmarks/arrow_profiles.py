"""A typed profile frame straight from an Arrow table whose columns already hold profile types
(a registry Parquet file written by this project, or one checked upstream). No validation:
numbers and flags become float64 (NaN unknown), dates datetime64[ns], text is trimmed with a
blank read as unknown (``None``) — but a blank certification list as none held (``""``) — as
:func:`recommender.profile.validation.validate_chunk` reads blanks; on valid data the two frames
are equal (a test holds them so). Text columns are
dictionary-encoded first, so a million rows of a few hundred distinct codes cost a few hundred
Python strings, not a million.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recommender.profile.kinds import PROFILE_KINDS

_TIMESTAMP_NS = pa.timestamp("ns")


Factorized = dict[str, tuple[np.ndarray, np.ndarray]]


def _dictionary(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """``(indices, dictionary)`` of a text column, index -1 where null; a column read as
    dictionary (``read_dictionary``: Parquet's own encoding) is taken as it is."""
    if pa.types.is_dictionary(column.type):
        chunks = column.unify_dictionaries().chunks if column.num_chunks > 1 else column.chunks
        if not chunks:
            return np.empty(0, dtype=np.intp), []
        indices = [pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False) for c in chunks]
        return np.concatenate(indices).astype(np.intp, copy=False), chunks[0].dictionary.to_pylist()
    encoded = column.combine_chunks().dictionary_encode() if column.num_chunks != 1 else \
        column.chunk(0).dictionary_encode()
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    return indices, encoded.dictionary.to_pylist()


def _text(column: pa.ChunkedArray, blank: str | None = None) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Object array of trimmed str (None where null, ``blank`` where blank), and its
    factorisation ``(codes, distinct values)`` with code -1 where None."""
    raw, dictionary = _dictionary(column)
    used = np.bincount(raw[raw >= 0], minlength=len(dictionary)) > 0
    words = [w.strip() or blank if u else None for w, u in zip(dictionary, used)]
    distinct = list(dict.fromkeys(w for w in words if w is not None))   # trimming may merge some
    index = {w: i for i, w in enumerate(distinct)}
    remap = np.array([-1 if w is None else index[w] for w in words] + [-1], dtype=np.intp)
    codes = remap[raw]
    uniques = np.array(distinct, dtype=object)
    return np.append(uniques, None)[codes], (codes, uniques)


def is_text(type_: pa.DataType) -> bool:
    """A string column, or one read as a dictionary of strings."""
    if pa.types.is_dictionary(type_):
        type_ = type_.value_type
    return pa.types.is_string(type_) or pa.types.is_large_string(type_)


def profile_frame(table: pa.Table, factorized: Factorized | None = None) -> pd.DataFrame:
    """Every profile column of ``table`` in its canonical dtype; a column the table lacks is
    all unknown. Columns that are not profile fields are left out.

    With ``factorized`` (a dict), the text columns' ``(codes, uniques)`` are put there as
    :meth:`recommender.facts.frame.EvalFrame.factorized` returns them (Arrow's dictionary
    encoding, reused): pass it on to ``evaluate_catalog`` so that they are not hashed again.
    """
    n = table.num_rows
    out: dict[str, pd.Series] = {}
    for name, kind in PROFILE_KINDS.items():
        if name not in table.column_names:
            values: np.ndarray = np.full(n, np.nan) if kind in ("number", "bool") else \
                np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]") if kind == "date" else \
                np.full(n, None, dtype=object)
        else:
            col = table.column(name)
            if kind in ("number", "bool"):
                values = pc.cast(col, pa.float64()).to_numpy()          # nulls become NaN
            elif kind == "date":
                values = pc.cast(col, _TIMESTAMP_NS).to_numpy()         # nulls become NaT
            elif is_text(col.type):
                values, codes = _text(col, "" if kind == "set" else None)
                if factorized is not None:
                    factorized[name] = codes
            else:
                values = col.to_pandas().astype(object).where(lambda s: s.notna(), None).to_numpy()
        out[name] = pd.Series(values, dtype=values.dtype, copy=False)
    return pd.DataFrame(out, copy=False)     # no consolidation into 2-D blocks: no copy
