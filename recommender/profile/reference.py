"""Reference tables shipped under ``data/reference``: industry codes, divisions, size standard.

Loaded on first use from a data directory (never at import) and cached per directory.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from functools import lru_cache
from pathlib import Path

import yaml

from recommender.settings import DEFAULT_DATA_DIR


_INDUSTRY_RE = re.compile(r"^([A-T])?(\d{2,4})?$")
_T = TypeVar("_T")


@dataclass(frozen=True)
class ReferenceTables:
    """Industry classification (GB/T 4754-2017), divisions (GB/T 2260) and the SME standard."""

    industry_names: dict[str, str]          # canonical code ("C", "C36", "C3670") -> name
    division_section: dict[str, str]        # "36" -> "C"
    region_names: dict[str, str]            # "500112" -> "渝北区"
    size_standard: dict[str, Any]           # parsed data/reference/sme_size_standard.yaml
    _built: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def built(self, key: str, build: Callable[[], _T]) -> _T:
        """A structure computed from these tables (e.g. the size-standard lookup), built once
        and held by them, so it is freed with them rather than kept in a module-level cache."""
        try:
            return self._built[key]
        except KeyError:
            value = self._built[key] = build()
            return value

    def normalise_industry(self, raw: str) -> tuple[str | None, str | None]:
        """Canonical ``section + digits`` code, or ``(None, reason)``.

        Accepts ``C3670``, ``3670``, ``C36``, ``36`` and a bare section ``C``; upper-cases the
        section letter.
        """
        text = raw.strip().upper()
        m = _INDUSTRY_RE.match(text)
        if not text or m is None:
            return None, (f"{raw!r} is not a GB/T 4754-2017 code (a section letter A–T and/or "
                          "2–4 digits, e.g. C3670, 3670, C36)")
        section, digits = m.group(1), m.group(2)
        if digits:
            owner = self.division_section.get(digits[:2])
            if owner is None:
                return None, f"{raw!r}: division {digits[:2]} does not exist in GB/T 4754-2017"
            if section and section != owner:
                return None, f"{raw!r}: division {digits[:2]} belongs to section {owner}, not {section}"
            section = owner
        canonical = f"{section}{digits or ''}"
        if canonical not in self.industry_names:
            return None, f"{raw!r}: no such code in GB/T 4754-2017"
        return canonical, None

    def region_problem(self, code: str) -> str | None:
        """Why ``code`` is not a known 6-digit division code, or ``None``."""
        if not re.fullmatch(r"\d{6}", code):
            return f"{code!r} must be a 6-digit administrative division code (GB/T 2260)"
        if code not in self.region_names:
            return f"{code!r} is not in the administrative division table (GB/T 2260)"
        return None


@lru_cache(maxsize=4)
def load_reference(data_dir: Path = DEFAULT_DATA_DIR) -> ReferenceTables:
    """Read the reference tables under ``data_dir / "reference"``."""
    ref = Path(data_dir) / "reference"
    industry: dict[str, str] = {}
    division_section: dict[str, str] = {}
    with open(ref / "industry_gbt4754_2017.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code, section = row["code"].strip(), row["section"].strip()
            if row["level"] == "section":
                industry[section] = row["name_zh"]
            else:
                industry[section + code] = row["name_zh"]
                if row["level"] == "division":
                    division_section[code] = section
    regions: dict[str, str] = {}
    with open(ref / "region_gbt2260.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            regions[row["code"].strip()] = row["name_zh"]
    with open(ref / "sme_size_standard.yaml", encoding="utf-8") as fh:
        size_standard = yaml.safe_load(fh)
    return ReferenceTables(industry, division_section, regions, size_standard)
