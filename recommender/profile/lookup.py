"""Reference lookups (SPEC §8): find a region or an industry code from what a person types.

A firm owner knows "渝北区" and "汽车零部件", not ``500112`` and ``C3670``. :func:`find_regions`
matches Chinese names and code prefixes; :func:`find_industries` matches Chinese words, pinyin
(``qiche``) or its initials (``qclbj``), and codes or code prefixes (``C367``, ``367``). Both
return the best matches first, each hit ranked by a key of

1. how it matched: the whole name or code > a prefix > every word inside the name > pinyin
   prefix > pinyin inside > most of the query's character pairs inside the name;
2. for words, the more specific level first (a class before its group: firms register a
   4-digit class, and a group with one class has the class's name); for code prefixes the
   shorter code first (the division before its classes);
3. the earlier the match in the name, the shorter the name, then the standard's own order.

Nothing is fetched: names come from ``data/reference``, pinyin from the table built once by
:mod:`recommender.profile.pinyin`, and a few everyday words people use for their trade
(``火锅`` → H6210 正餐服务, ``电商`` → F5292 互联网零售) from ``industry_aliases.csv``; an alias
matches as the name does.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from recommender.profile.pinyin import TABLE_NAME
from recommender.profile.reference import ReferenceTables, load_reference
from recommender.settings import DEFAULT_DATA_DIR

MAX_QUERY_CHARS = 50
"""Longest query the lookups accept (the API answers 422 past it)."""
MAX_LIMIT = 50
"""Most hits one lookup returns."""
ALIASES_NAME = "industry_aliases.csv"

_LEVELS = ("section", "division", "group", "class")
_REGION_LEVELS = ("province", "prefecture", "county")
_INDUSTRY_CODE = re.compile(r"^([A-Ta-t])?(\d{1,4})$")
_LATIN = re.compile(r"^[a-z]+$")
_WORD_SPLIT = re.compile(r"[\s,，、;；/]+")

# How a hit matched, best first (the first element of its sort key).
EXACT, PREFIX, WORDS, PINYIN_PREFIX, PINYIN_INSIDE, PAIRS = range(6)


@dataclass(frozen=True)
class _Entry:
    code: str
    name: str
    level: int          # index into the level tuple
    order: int          # position in the standard
    extra: dict[str, str]
    pinyin: str = ""    # syllables run together ("qichelingbujian…")
    initials: str = ""
    aliases: tuple[str, ...] = ()   # everyday words for the same trade, lower-cased


@dataclass(frozen=True)
class Lookup:
    """One table's entries, searchable (built once per reference directory)."""

    entries: tuple[_Entry, ...]
    levels: tuple[str, ...]

    def item(self, e: _Entry) -> dict[str, Any]:
        return {"code": e.code, "name_zh": e.name, "level": self.levels[e.level], **e.extra}


def _pairs(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _text_key(text: str, w: str) -> tuple[int, int] | None:
    """``(how, position)`` of word ``w`` in a name or alias, or ``None``."""
    if w == text:
        return EXACT, 0
    if text.startswith(w):
        return PREFIX, 0
    pos = text.find(w)
    return (WORDS, pos) if pos >= 0 else None


def _word_key(e: _Entry, words: list[str]) -> tuple[int, int] | None:
    """``(how, position)`` when every word matches ``e``'s name, an alias or the pinyin, else ``None``."""
    worst, first = EXACT, len(e.name)
    for w in words:
        found = min((k for k in (_text_key(t, w) for t in (e.name, *e.aliases)) if k is not None), default=None)
        if found is not None:
            how, pos = found
        elif _LATIN.match(w) and e.pinyin and (e.initials.startswith(w) or e.pinyin.startswith(w)):
            how, pos = PINYIN_PREFIX, 0
        elif _LATIN.match(w) and len(w) >= 2 and e.pinyin and (w in e.initials or w in e.pinyin):
            how, pos = PINYIN_INSIDE, min(i for i in (e.initials.find(w), e.pinyin.find(w)) if i >= 0)
        else:
            return None
        worst, first = max(worst, how), min(first, pos)
    return worst, first


def _pairs_share(e: _Entry, text: str) -> float:
    """Share of the query's character pairs found in ``e``'s name (0 when fewer than 2)."""
    wanted = _pairs(text)
    return len(wanted & _pairs(e.name)) / len(wanted) if wanted else 0.0


def _normalise(q: str) -> str:
    return q.strip().lower()


def _ranked(lookup: Lookup, keyed: Iterable[tuple[tuple[float, ...], _Entry]], limit: int) -> list[dict[str, Any]]:
    return [lookup.item(e) for _, e in sorted(keyed, key=lambda ke: ke[0])[:limit]]


def _check(q: str, limit: int) -> str:
    text = _normalise(q)
    if not text:
        raise ValueError("q must not be empty")
    if len(q) > MAX_QUERY_CHARS:
        raise ValueError(f"q must be at most {MAX_QUERY_CHARS} characters")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    return text


def search_industries(lookup: Lookup, q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Industries matching ``q`` (see the module docstring), best first, at most ``limit``."""
    text = _check(q, limit)
    compact = text.replace(" ", "")
    code = _INDUSTRY_CODE.match(compact)
    keyed: list[tuple[tuple[float, ...], _Entry]] = []
    if code is not None:
        section, digits = (code.group(1) or "").upper(), code.group(2)
        for e in lookup.entries:
            bare = e.code[1:]
            if (bare.startswith(digits) and (not section or e.code[0] == section)):
                keyed.append(((EXACT if bare == digits else PREFIX, len(e.code), e.order), e))
        return _ranked(lookup, keyed, limit)
    if len(compact) == 1 and compact.upper() in {e.code for e in lookup.entries if e.level == 0}:
        section = compact.upper()   # a lone letter: the section first, then names by initials
        keyed += [((EXACT, 0, e.order), e) for e in lookup.entries if e.code == section]
    words = [w for w in _WORD_SPLIT.split(text) if w]
    seen = {e.code for _, e in keyed}
    for e in lookup.entries:
        if e.code in seen:
            continue
        found = _word_key(e, words)
        if found is not None:
            keyed.append(((found[0], -e.level, found[1], len(e.name), e.order), e))
        elif not _LATIN.match(compact) and (share := _pairs_share(e, compact)) >= 0.5:
            keyed.append(((PAIRS, -share, -e.level, len(e.name), e.order), e))
    return _ranked(lookup, keyed, limit)


def search_regions(lookup: Lookup, q: str, limit: int = 10, within: str | None = None) -> list[dict[str, Any]]:
    """Regions whose code starts with ``q`` (digits) or whose name matches it, best first.

    ``within`` (a 6-digit province code such as ``500000``) keeps that province's regions only.
    """
    text = _check(q, limit)
    keyed: list[tuple[tuple[float, ...], _Entry]] = []
    for e in lookup.entries:
        if within is not None and e.extra["province_code"] != within:
            continue
        if text.isdigit():
            if e.code.startswith(text):
                keyed.append(((EXACT if e.code == text else PREFIX, e.level, e.order), e))
            continue
        found = _word_key(e, [w for w in _WORD_SPLIT.split(text) if w])
        if found is not None:
            keyed.append(((found[0], found[1], len(e.name), e.level, e.order), e))
    return _ranked(lookup, keyed, limit)


def regions_within(lookup: Lookup, province_code: str) -> list[dict[str, Any]]:
    """Every county-level region of a province (e.g. Chongqing's 38 districts and counties), in code order."""
    return [lookup.item(e) for e in lookup.entries
            if e.extra["province_code"] == province_code and e.level == len(_REGION_LEVELS) - 1]


@lru_cache(maxsize=4)
def industry_lookup(data_dir: Path = DEFAULT_DATA_DIR) -> Lookup:
    """The GB/T 4754-2017 table with its pinyin, ready to search."""
    ref: ReferenceTables = load_reference(Path(data_dir))
    pinyin: dict[str, tuple[str, str]] = {}
    with open(Path(data_dir) / "reference" / TABLE_NAME, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            pinyin[row["code"]] = (row["pinyin"].replace(" ", ""), row["initials"])
    aliases: dict[str, list[str]] = {}
    with open(Path(data_dir) / "reference" / ALIASES_NAME, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["code"] not in ref.industry_names:
                raise ValueError(f"{ALIASES_NAME}: alias {row['alias']!r} names an unknown code {row['code']!r}")
            aliases.setdefault(row["code"], []).append(row["alias"].strip().lower())
    entries = []
    for order, (code, name) in enumerate(ref.industry_names.items()):
        digits = len(code) - 1
        level = 0 if digits == 0 else digits - 1      # C → section, C36 → division, C367 → group, C3670 → class
        py, ini = pinyin.get(code, ("", ""))
        entries.append(_Entry(code, name, level, order, {"section": code[0]}, py, ini, tuple(aliases.get(code, ()))))
    return Lookup(tuple(entries), _LEVELS)


@lru_cache(maxsize=4)
def region_lookup(data_dir: Path = DEFAULT_DATA_DIR) -> Lookup:
    """The GB/T 2260 table (with each region's province name), ready to search."""
    with open(Path(data_dir) / "reference" / "region_gbt2260.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    provinces = {r["code"]: r["name_zh"] for r in rows if r["level"] == "province"}
    entries = tuple(_Entry(r["code"], r["name_zh"], _REGION_LEVELS.index(r["level"]), order,
                           {"province_code": r["province_code"], "province_zh": provinces[r["province_code"]]})
                    for order, r in enumerate(rows))
    return Lookup(entries, _REGION_LEVELS)


def find_industries(q: str, limit: int = 10, data_dir: Path = DEFAULT_DATA_DIR) -> list[dict[str, Any]]:
    """``{code, name_zh, level, section}`` of the industries best matching ``q``.

    Raises
    ------
    ValueError
        ``q`` empty or longer than :data:`MAX_QUERY_CHARS`; ``limit`` outside 1–:data:`MAX_LIMIT`.
    """
    return search_industries(industry_lookup(Path(data_dir)), q, limit)


def find_regions(q: str, limit: int = 10, within: str | None = None,
                 data_dir: Path = DEFAULT_DATA_DIR) -> list[dict[str, Any]]:
    """``{code, name_zh, level, province_code, province_zh}`` of the regions best matching ``q``
    (raises ``ValueError`` as :func:`find_industries` does)."""
    return search_regions(region_lookup(Path(data_dir)), q, limit, within)


def districts_of(province_code: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[dict[str, Any]]:
    """The county-level regions of a province, in code order (the SME page's district list)."""
    return regions_within(region_lookup(Path(data_dir)), province_code)
