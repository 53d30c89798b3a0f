"""GB 32100-2015 check character, against the fixtures of policy-facts §9."""

from __future__ import annotations

import pytest

from recommender.profile.uscc import check_character, credit_code_problem


@pytest.mark.parametrize("code", [
    "91350100M000100Y43",   # the standard's illustrative code
    "91500112MA5U7A2B1N",   # synthetic 渝北区 enterprise
    "91500101MA60XK3P66",
    "92500103MA61AB2C4E",   # individual business
    "93500229MA5Y0B1DX6",   # cooperative
    "91500112MA5U7A1720",   # S mod 31 = 0: check value 31 becomes 0
])
def test_valid_codes_pass(code: str) -> None:
    assert credit_code_problem(code) is None


def test_standard_example_check_character() -> None:
    assert check_character("91350100M000100Y4") == "3"


def test_thirty_one_becomes_zero() -> None:
    assert check_character("91500112MA5U7A172") == "0"


@pytest.mark.parametrize(("code", "message"), [
    ("91500112MA5U7A2B10", "check character is '0', expected 'N' (GB 32100-2015)"),
    ("911100001000016089", "check character is '9', expected 'U' (GB 32100-2015)"),
    ("91500112MA5U7A2B1", "must be 18 characters, got 17"),
    ("91500112ma5u7a2b1n", "must be upper case (GB 32100-2015 uses capital letters only)"),
    ("91500112MA5U7I2B1N", "contains characters outside the GB 32100 alphabet: 'I' (I, O, S, V, Z are never used)"),
])
def test_invalid_codes_say_why(code: str, message: str) -> None:
    assert credit_code_problem(code) == message
