"""Application windows: open / upcoming / closed as of a date, with days left."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from recommender.rules.catalog import Policy, parse_policy
from recommender.errors import CatalogError
from recommender.rules.windows import window_status

RAW: dict[str, Any] = {
    "id": "cn-test-window", "title_zh": "测试", "title_en": "Test", "family": "relief",
    "issuer": {"name_zh": "测试", "name_en": "Test", "level": "national"},
    "references": [{"document": "测试〔2022〕1号", "title": "测试", "clause": "第一条"}],
    "valid_from": dt.date(2022, 1, 1), "valid_to": dt.date(2022, 12, 31), "confidence": "H",
    "criteria": [{"id": "always", "label_zh": "总是", "label_en": "Always", "clause": "第一条", "declare": "met"}],
    "benefit": {"kind": "subsidy", "description_zh": "无", "description_en": "none"},
}


def _policy(**extra: Any) -> Policy:
    return parse_policy({**RAW, **extra}, "relief/cn-test-window.yaml", None)


TWO = [{"opens": dt.date(2022, 3, 1), "closes": dt.date(2022, 3, 31), "note_zh": "第一批", "note_en": "batch 1"},
       {"opens": dt.date(2022, 9, 1), "closes": dt.date(2022, 9, 30)}]


@pytest.mark.parametrize(("day", "expected"), [
    (dt.date(2022, 2, 28), {"status": "upcoming", "opens": "2022-03-01", "closes": "2022-03-31",
                            "days_left": None, "days_until_open": 1, "note": "第一批 / batch 1"}),
    (dt.date(2022, 3, 1), {"status": "open", "opens": "2022-03-01", "closes": "2022-03-31", "days_left": 30,
                           "note": "第一批 / batch 1"}),
    (dt.date(2022, 3, 31), {"status": "open", "opens": "2022-03-01", "closes": "2022-03-31", "days_left": 0,
                            "note": "第一批 / batch 1"}),
    (dt.date(2022, 4, 1), {"status": "upcoming", "opens": "2022-09-01", "closes": "2022-09-30",
                           "days_left": None, "days_until_open": 153}),
    (dt.date(2022, 10, 1), {"status": "closed", "opens": "2022-09-01", "closes": "2022-09-30",
                            "days_left": None}),
])
def test_two_windows(day: dt.date, expected: dict[str, Any]) -> None:
    assert window_status(_policy(windows=TWO), day) == expected


@pytest.mark.parametrize(("day", "status", "days_left"), [
    (dt.date(2021, 12, 31), "upcoming", None),
    (dt.date(2022, 1, 1), "open", 364),
    (dt.date(2022, 12, 31), "open", 0),
    (dt.date(2023, 1, 1), "closed", None),
])
def test_no_windows_means_open_while_in_force(day: dt.date, status: str, days_left: int | None) -> None:
    block = window_status(_policy(), day)
    assert (block["status"], block["days_left"]) == (status, days_left)
    assert (block["opens"], block["closes"]) == ("2022-01-01", "2022-12-31")


def test_open_ended_policy_has_no_days_left() -> None:
    block = window_status(_policy(valid_to=None), dt.date(2030, 1, 1))
    assert block == {"status": "open", "opens": "2022-01-01", "closes": None, "days_left": None}


def test_window_is_clipped_to_validity() -> None:
    block = window_status(_policy(windows=[{"opens": dt.date(2021, 6, 1), "closes": dt.date(2023, 6, 30)}]),
                          dt.date(2022, 12, 1))
    assert (block["opens"], block["closes"], block["days_left"]) == ("2022-01-01", "2022-12-31", 30)


@pytest.mark.parametrize(("windows", "message"), [
    ([{"opens": dt.date(2022, 5, 1), "closes": dt.date(2022, 4, 1)}], r"at windows\.0: 'closes' is before 'opens'"),
    ([{"note_en": "x"}], r"at windows\.0: a window needs 'opens' or 'closes'"),
    ([{"opens": dt.date(2022, 5, 1), "deadline": dt.date(2022, 6, 1)}], r"at windows\.0\.deadline: unknown key"),
])
def test_bad_windows_are_catalog_errors(windows: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        _policy(windows=windows)


def test_matches_carry_the_window(catalog, ref) -> None:
    from recommender.profile.frame import profiles_to_frame
    from recommender.matching.results import MatchOptions, match_frame
    from recommender.profile.model import parse_profile

    firm = parse_profile({"firm_id": "W", "region_code": "500112", "industry_code": "C3670", "employees": 50,
                          "graduates_hired": 2}, ref=ref)
    (res,) = match_frame(profiles_to_frame([firm]), catalog, dt.date(2022, 6, 30), ref,
                         MatchOptions(top_k=None, include_all=True))
    m = next(m for m in res["matches"] if m["policy_id"] == "cn-graduate-hiring-subsidy-2022")
    assert {k: m["application_window"][k] for k in ("status", "closes", "days_left")} == {
        "status": "open", "closes": "2022-12-31", "days_left": 184}
