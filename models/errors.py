"""Errors of the learning layer (no domain knowledge here)."""

from __future__ import annotations


class ModelError(Exception):
    """Base class of errors raised by :mod:`models`."""


class ModelArtifactError(ModelError):
    """A saved model cannot be used: missing, corrupt, or built for other features or catalog."""


class NotFittedError(ModelError, AttributeError):
    """A model was used before ``fit``; call ``fit`` first or load a fitted artifact."""
