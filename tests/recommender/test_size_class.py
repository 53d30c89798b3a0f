"""SME size class (工信部联企业〔2011〕300号): one case per group and class, with the and/or edges.

Expected classes are written by hand from policy-facts §1.2 (the bounds are inclusive lower
bounds; a tier needs every listed indicator; micro is below the small bound on any one).
"""

from __future__ import annotations

import datetime as dt

import pytest

from recommender.facts.frame import EvalFrame
from recommender.profile.frame import profiles_to_frame
from recommender.profile.model import parse_profile

# (industry code, employees X, revenue Y, total assets Z, expected class)
CASES = [
    # 1 agriculture: Y only
    ("A01", None, 200_000_000, None, "large"), ("A01", None, 199_999_999, None, "medium"),
    ("A01", None, 5_000_000, None, "medium"), ("A01", None, 4_999_999, None, "small"),
    ("A01", None, 500_000, None, "small"), ("A01", None, 499_999, None, "micro"),
    # 2 industry: X and Y
    ("C3670", 1000, 400_000_000, None, "large"), ("C3670", 999, 400_000_000, None, "medium"),
    ("C3670", 1000, 399_999_999, None, "medium"), ("C3670", 300, 20_000_000, None, "medium"),
    ("C3670", 350, 15_000_000, None, "small"), ("C3670", 1200, 300_000_000, None, "medium"),
    ("C3670", 20, 3_000_000, None, "small"), ("C3670", 19, 50_000_000, None, "micro"),
    ("C3670", 20, 2_999_999, None, "micro"), ("B06", 1000, 400_000_000, None, "large"),
    ("D44", 300, 20_000_000, None, "medium"),
    # 3 construction: Y and Z
    ("E47", None, 800_000_000, 800_000_000, "large"), ("E47", None, 800_000_000, 799_999_999, "medium"),
    ("E47", None, 70_000_000, 40_000_000, "small"), ("E47", None, 3_000_000, 3_000_000, "small"),
    ("E47", None, 3_000_000, 2_999_999, "micro"),
    # 4 wholesale
    ("F51", 200, 400_000_000, None, "large"), ("F51", 20, 50_000_000, None, "medium"),
    ("F51", 5, 10_000_000, None, "small"), ("F51", 4, 10_000_000, None, "micro"),
    # 5 retail
    ("F52", 300, 200_000_000, None, "large"), ("F52", 50, 5_000_000, None, "medium"),
    ("F52", 10, 1_000_000, None, "small"), ("F52", 10, 999_999, None, "micro"),
    # 6 transport (incl. 591 loading and unloading)
    ("G54", 1000, 300_000_000, None, "large"), ("G54", 300, 30_000_000, None, "medium"),
    ("G591", 20, 2_000_000, None, "small"), ("G54", 19, 2_000_000, None, "micro"),
    # 7 warehousing (592…599)
    ("G592", 200, 300_000_000, None, "large"), ("G592", 100, 10_000_000, None, "medium"),
    ("G592", 20, 1_000_000, None, "small"), ("G592", 20, 999_999, None, "micro"),
    # 8 postal
    ("G60", 1000, 300_000_000, None, "large"), ("G60", 300, 20_000_000, None, "medium"),
    ("G60", 20, 1_000_000, None, "small"), ("G60", 19, 1_000_000, None, "micro"),
    # 9 lodging, 10 catering
    ("H61", 300, 100_000_000, None, "large"), ("H61", 100, 20_000_000, None, "medium"),
    ("H61", 10, 1_000_000, None, "small"), ("H61", 9, 1_000_000, None, "micro"),
    ("H6210", 300, 100_000_000, None, "large"), ("H62", 100, 20_000_000, None, "medium"),
    ("H62", 10, 1_000_000, None, "small"), ("H62", 10, 999_999, None, "micro"),
    # 11 information transmission
    ("I63", 2000, 1_000_000_000, None, "large"), ("I64", 100, 10_000_000, None, "medium"),
    ("I63", 10, 1_000_000, None, "small"), ("I64", 9, 1_000_000, None, "micro"),
    # 12 software and IT services
    ("I65", 300, 100_000_000, None, "large"), ("I65", 100, 10_000_000, None, "medium"),
    ("I65", 10, 500_000, None, "small"), ("I65", 10, 499_999, None, "micro"),
    # 13 real-estate development: Y and Z
    ("K7010", None, 2_000_000_000, 100_000_000, "large"), ("K7010", None, 500_000_000, 80_000_000, "medium"),
    ("K7010", None, 1_000_000, 20_000_000, "small"), ("K7010", None, 1_000_000, 19_999_999, "micro"),
    # 14 property management
    ("K7020", 1000, 50_000_000, None, "large"), ("K7020", 300, 10_000_000, None, "medium"),
    ("K7020", 100, 5_000_000, None, "small"), ("K7020", 99, 5_000_000, None, "micro"),
    # 15 leasing and business services: X and Z
    ("L72", 300, None, 1_200_000_000, "large"), ("L72", 100, None, 80_000_000, "medium"),
    ("L72", 150, None, 50_000_000, "small"), ("L72", 10, None, 999_999, "micro"),
    # 16 other: X only
    ("M73", 300, None, None, "large"), ("M73", 100, None, None, "medium"),
    ("M73", 10, None, None, "small"), ("M73", 9, None, None, "micro"),
    ("K7030", 100, None, None, "medium"), ("Q85", 10, None, None, "small"),
    # not covered by the standard: null, never micro
    ("J66", 5, 1_000_000, 1_000_000, None), ("P83", 5, None, None, None),
    ("Q84", 5, None, None, None), ("G53", 5, 1_000_000, None, None), ("K7040", 5, None, None, None),
    # too coarse a code to know the group: null
    ("K70", 5, 1_000_000, 1_000_000, None), ("G59", 5, 1_000_000, None, None),
    # unknown indicators: decided when the known ones already decide, else null
    ("C3670", 12, None, None, "micro"), ("C3670", 500, None, None, None),
    ("C3670", None, 1_000_000, None, "micro"), ("C3670", None, None, None, None),
]


def _size(code: str, x: int | None, y: float | None, z: float | None, ref) -> str | None:
    raw = {"firm_id": "S", "region_code": "500112", "industry_code": code,
           "employees": x, "revenue": None if y is None else float(y),
           "total_assets": None if z is None else float(z)}
    profile = parse_profile({k: v for k, v in raw.items() if v is not None}, ref=ref)
    frame = EvalFrame.from_profiles(profiles_to_frame([profile]), dt.date(2022, 6, 30), ref).df
    return frame["size_class"].iloc[0]


@pytest.mark.parametrize(("code", "x", "y", "z", "expected"), CASES)
def test_size_class(code, x, y, z, expected, ref) -> None:
    assert _size(code, x, y, z, ref) == expected


def test_every_group_and_class_is_covered(ref) -> None:
    from recommender.facts import industry_group
    seen = {(industry_group(ref.normalise_industry(c)[0], ref), e) for c, *_, e in CASES if e}
    groups = set(ref.size_standard["groups"])
    assert {(g, k) for g in groups for k in ("large", "medium", "small", "micro")} <= seen
