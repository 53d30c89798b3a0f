"""Feature engineering on plain DataFrames: no domain imports (layer below ``recommender``)."""

from features.history import HistoryStats, attach_history, history_stats
from features.transformers import PairFeatures, SignedLog, signed_log

__all__ = ["HistoryStats", "PairFeatures", "SignedLog", "attach_history", "history_stats",
           "signed_log"]
