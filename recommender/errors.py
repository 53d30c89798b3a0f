"""Exception hierarchy of the recommender.

::

    RecommenderError
    ├── CatalogError          a policy file is broken: file, policy id, criterion path
    ├── ProfileError          a firm profile is invalid: field path and reason (one or many)
    ├── InputFileError        an input file cannot be read: path, line or row, reason
    ├── OutputFileError       an output cannot be written (a full disk): path, reason
    └── UnknownPolicyError    a policy id not in the catalog

Model errors (``ModelArtifactError``, ``NotFittedError``) live in :mod:`models.errors`, since
``models`` may not import this package; they are re-exported here.

Every error carries structured location so the CLI can print it and the API can return it
as JSON with a field path; every message says what was expected and what was received.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.errors import ModelArtifactError, NotFittedError

__all__ = [
    "CatalogError", "FieldIssue", "InputFileError", "ModelArtifactError", "NotFittedError",
    "OutputFileError", "ProfileError", "RecommenderError", "UnknownPolicyError",
]


class RecommenderError(Exception):
    """Base class of every error this package raises on purpose."""


class CatalogError(RecommenderError):
    """A catalog file failed validation at load time."""

    def __init__(self, reason: str, *, file: str | None = None, policy_id: str | None = None,
                 path: str | None = None) -> None:
        self.reason = reason
        self.file = file
        self.policy_id = policy_id
        self.path = path
        where = ", ".join(
            part for part in (
                f"file {file}" if file else "",
                f"policy {policy_id}" if policy_id else "",
                f"at {path}" if path else "",
            ) if part
        )
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass(frozen=True)
class FieldIssue:
    """One invalid value: the dotted field path and why it is wrong."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class ProfileError(RecommenderError):
    """One or more fields of a firm profile are invalid."""

    def __init__(self, issues: list[FieldIssue], *, record: str | None = None) -> None:
        if not issues:
            raise ValueError("ProfileError needs at least one FieldIssue")
        self.issues = list(issues)
        self.record = record
        prefix = f"{record}: " if record else ""
        super().__init__(prefix + "; ".join(str(i) for i in self.issues))

    @classmethod
    def single(cls, field: str, reason: str, *, record: str | None = None) -> ProfileError:
        return cls([FieldIssue(field, reason)], record=record)

    @property
    def field(self) -> str:
        """The first invalid field (most callers report one)."""
        return self.issues[0].field


class InputFileError(RecommenderError):
    """An input file could not be read or parsed."""

    def __init__(self, reason: str, *, path: str, location: str | None = None) -> None:
        self.reason = reason
        self.path = path
        self.location = location
        loc = f" {location}" if location else ""
        super().__init__(f"{path}{loc}: {reason}")


class OutputFileError(RecommenderError):
    """An output could not be written (no space left on the device, a quota reached)."""

    def __init__(self, reason: str, *, path: str) -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{reason} writing {path}")


class UnknownPolicyError(RecommenderError):
    """A policy id that the loaded catalog does not contain."""

    def __init__(self, policy_id: str) -> None:
        self.policy_id = policy_id
        super().__init__(f"policy_id: unknown policy {policy_id!r}")
