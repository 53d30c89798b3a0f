"""Feature engineering on plain arrays and frames: no domain imports (layer below ``recommender``).

Names are imported lazily (PEP 562), as in :mod:`models`: ``from features import columns``
(the column contract the domain builds pair tables by) does not pull in scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "HistoryStats": "features.history", "attach_history": "features.history",
    "history_stats": "features.history", "PolicySpan": "features.history", "PairTable": "features.pair_table",
    "PairEncoder": "features.encoder", "PreparedPolicies": "features.encoder",
    "PairFeatures": "features.transformers", "SignedLog": "features.transformers",
    "signed_log": "features.transformers",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'features' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
