"""Unified Social Credit Code (统一社会信用代码) check, GB 32100-2015.

The 18th character is a check character over the first 17, with weights ``3^(i-1) mod 31``
over the 31-symbol alphabet that omits I, O, Z, S and V (GB 32100-2015 §4, policy-facts §9).
Positions 3–8 hold the division code of the *issuing* office at issue time, so they are not
checked against today's division table and never used as the firm's region.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS = [pow(3, i, 31) for i in range(17)]


def check_character(first17: str) -> str:
    """Return the check character for the first 17 characters of a code.

    >>> check_character("91350100M000100Y4")
    '3'
    """
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    r = 31 - total % 31
    return ALPHABET[0 if r == 31 else r]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid USCC, or ``None`` when it is.

    Lower-case letters are rejected explicitly rather than silently upper-cased, so the
    caller's registry is corrected at the source.
    """
    if len(code) != 18:
        return f"must be 18 characters, got {len(code)}"
    if code != code.upper():
        return "must be upper case (GB 32100-2015 uses capital letters only)"
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        return f"contains characters outside the GB 32100 alphabet: {''.join(bad)!r} (I, O, S, V, Z are never used)"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r}, expected {expected!r} (GB 32100-2015)"
    return None
