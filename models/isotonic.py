"""The isotonic calibration map, stored as two threshold arrays and applied by linear
interpolation, exactly as :class:`sklearn.isotonic.IsotonicRegression` with
``out_of_bounds="clip"`` predicts (scikit-learn is needed only to fit it)."""

from __future__ import annotations

from typing import Any

import numpy as np


class IsotonicMap:
    """A monotone map from raw scores to probabilities, stored as threshold arrays."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x = np.asarray(x, dtype="float64")
        self.y = np.asarray(y, dtype="float64")

    @classmethod
    def fit(cls, raw: np.ndarray, target: np.ndarray) -> IsotonicMap:
        """Fit isotonic regression of ``target`` (0/1) on ``raw``."""
        from sklearn.isotonic import IsotonicRegression    # fitting only: applying needs numpy

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, target)
        return cls(iso.X_thresholds_, iso.y_thresholds_)

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(raw, dtype="float64"), self.x, self.y)

    def to_json(self) -> dict[str, Any]:
        return {"method": "isotonic", "x_thresholds": self.x.tolist(), "y_thresholds": self.y.tolist()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IsotonicMap:
        if data.get("method") != "isotonic":
            raise ValueError(f"calibrator method must be 'isotonic', got {data.get('method')!r}")
        return cls(np.asarray(data["x_thresholds"]), np.asarray(data["y_thresholds"]))
