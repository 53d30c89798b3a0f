"""Learning and evaluation on arrays and frames: no domain imports (layer below ``recommender``).

Names are imported lazily (PEP 562), so ``import models.errors`` — which the domain's error
hierarchy does — does not pull in LightGBM and scikit-learn; a CLI call that never ranks with
the learned model starts seconds faster.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "Artifact": "models.artifacts", "load_artifact": "models.artifacts", "save_artifact": "models.artifacts",
    "LogisticBaseline": "models.baselines", "PopularityBaseline": "models.baselines",
    "RuleOrderBaseline": "models.baselines", "ApprovalModel": "models.calibration",
    "IsotonicMap": "models.isotonic", "ModelArtifactError": "models.errors", "ModelError": "models.errors",
    "NotFittedError": "models.errors", "QueryMetric": "models.metrics",
    "expected_calibration_error": "models.metrics", "map_at_k": "models.metrics", "ndcg_at_k": "models.metrics",
    "recall_at_k": "models.metrics", "LambdaRanker": "models.ranker", "check_groups": "models.ranker",
    "group_sizes": "models.ranker", "Window": "models.splits", "chrono_split": "models.splits",
    "group_holdout": "models.splits", "train_test_windows": "models.splits",
    "training_windows": "models.splits",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
