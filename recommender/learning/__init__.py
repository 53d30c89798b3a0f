"""Training the ranker and the synthetic registries and histories it learns from.

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.learning.evaluation import evaluate_model
    from recommender.learning.mechanisms import MECHANISMS
    from recommender.learning.synth import write_synthetic
    from recommender.learning.training import TrainResult, read_interactions, train

_EXPORTS: dict[str, str] = {
    "MECHANISMS": "mechanisms",
    "TrainResult": "training",
    "evaluate_model": "evaluation",
    "read_interactions": "training",
    "train": "training",
    "write_synthetic": "synth",
}
__all__ = [
    "MECHANISMS", "TrainResult", "evaluate_model", "read_interactions", "train", "write_synthetic"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
