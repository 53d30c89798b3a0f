"""Reading firm profiles from files: one JSON profile, or JSON Lines of many.

Every bad record raises :class:`~recommender.errors.ProfileError` naming the line and field;
unreadable files raise :class:`~recommender.errors.InputFileError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_core import from_json

from recommender.errors import InputFileError, ProfileError
from recommender.profile.model import FirmProfile, parse_profile
from recommender.profile.reference import ReferenceTables


MAX_JSON_DEPTH = 200
"""Nesting the JSON reader follows (the limit of pydantic's parser, which also reads one-profile
API bodies); deeper documents are refused as invalid JSON rather than exhausting the stack."""


def load_json(text: str | bytes) -> Any:
    """A JSON document from a user, parsed without recursion into the interpreter's stack.

    Raises
    ------
    ValueError
        ``"<reason> at line L column C"`` for malformed text or nesting deeper than
        :data:`MAX_JSON_DEPTH` (``"nested more than 200 levels deep"``). ``NaN``, ``Infinity``
        and numbers that overflow to infinity are parsed: the profile fields refuse them by name.
    """
    try:
        return from_json(text)
    except ValueError as err:
        reason = str(err)
        if reason.startswith("recursion limit exceeded"):
            reason = reason.replace("recursion limit exceeded", f"nested more than {MAX_JSON_DEPTH} levels deep", 1)
        raise ValueError(reason) from None


def read_profiles(path: Path, ref: ReferenceTables | None = None) -> list[FirmProfile]:
    """Profiles in file order. A ``.json`` file holds one object (or a list); otherwise JSON Lines."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError("file not found", path=str(path)) from None
    except UnicodeDecodeError as err:
        raise InputFileError(f"not UTF-8 text ({err.reason})", path=str(path)) from None
    stripped = text.lstrip()
    if not stripped:
        raise InputFileError("the file is empty", path=str(path))
    if str(path).endswith(".json") or (stripped.startswith("[")):
        try:
            doc = load_json(text)
        except ValueError as err:
            raise InputFileError(f"invalid JSON: {err}", path=str(path)) from None
        items = doc if isinstance(doc, list) else [doc]
        return [parse_profile(item, record=f"record {i + 1}" if len(items) > 1 else None, ref=ref)
                for i, item in enumerate(items)]
    profiles = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = load_json(line)
        except ValueError as err:
            raise InputFileError(f"invalid JSON: {err}", path=str(path), location=f"line {lineno}") from None
        profile = parse_profile(item, record=f"line {lineno}", ref=ref)
        if profile.firm_id in seen:
            raise ProfileError.single("firm_id", f"duplicate firm_id {profile.firm_id!r} "
                                      f"(also on line {seen[profile.firm_id]})", record=f"line {lineno}")
        seen[profile.firm_id] = lineno
        profiles.append(profile)
    return profiles
