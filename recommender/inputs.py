"""Reading firm profiles from files: one JSON profile, or JSON Lines of many.

Every bad record raises :class:`~recommender.errors.ProfileError` naming the line and field;
unreadable files raise :class:`~recommender.errors.InputFileError`.
"""

from __future__ import annotations

import json
from pathlib import Path

from recommender.errors import InputFileError, ProfileError
from recommender.profile import FirmProfile, parse_profile
from recommender.reference import ReferenceTables


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
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputFileError(f"invalid JSON: {err.msg}", path=str(path),
                                 location=f"line {err.lineno} column {err.colno}") from None
        items = doc if isinstance(doc, list) else [doc]
        return [parse_profile(item, record=f"record {i + 1}" if len(items) > 1 else None, ref=ref)
                for i, item in enumerate(items)]
    profiles = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputFileError(f"invalid JSON: {err.msg}", path=str(path), location=f"line {lineno}") from None
        profile = parse_profile(item, record=f"line {lineno}", ref=ref)
        if profile.firm_id in seen:
            raise ProfileError.single("firm_id", f"duplicate firm_id {profile.firm_id!r} "
                                      f"(also on line {seen[profile.firm_id]})", record=f"line {lineno}")
        seen[profile.firm_id] = lineno
        profiles.append(profile)
    return profiles
