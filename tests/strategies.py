"""Hypothesis strategies shared by several test modules, in one place (no test imports another
test file for them), and the catalog and reference tables they are checked against."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from hypothesis import strategies as st

from recommender.profile.model import CERTIFICATIONS
from recommender.profile.reference import ReferenceTables, load_reference
from recommender.rules.catalog import Catalog, load_catalog


@lru_cache(maxsize=1)
def catalog_and_ref() -> tuple[Catalog, ReferenceTables]:
    """Loaded once; not fixtures, so Hypothesis never prints them in a failure report."""
    return load_catalog(), load_reference()


INDUSTRIES = ["C3670", "C36", "C", "C16", "I65", "I6513", "F52", "H62", "K7010", "L72", "M73",
              "A01", "E47", "G54", "G592", "J66", "B06", "D44", "Q85", "R90"]
REGIONS = ["500112", "500101", "500103", "110105"]


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


money = st.sampled_from([0.0, 1.0, 499_999.0, 1_000_000.0, 3_000_000.0, 9_999_999.0, 10_000_000.0,
                         20_000_000.0, 50_000_000.0, 50_000_001.0, 100_000_000.0, 200_000_000.0,
                         200_000_001.0]) | st.floats(0, 5e8, allow_nan=False)
share = st.sampled_from([0.0, 0.03, 0.05, 0.1, 0.6, 0.7, 1.0]) | st.floats(0, 1)
count = st.integers(0, 3000)

profiles = st.fixed_dictionaries(
    {"industry_code": st.sampled_from(INDUSTRIES), "region_code": st.sampled_from(REGIONS)},
    optional={
        "established_on": st.dates(dt.date(1990, 1, 1), dt.date(2022, 6, 30)).map(dt.date.isoformat),
        "employees": count, "revenue": money, "revenue_prev": money, "total_assets": money,
        "taxable_income": st.floats(-1e7, 1e8, allow_nan=False), "rd_expense": money,
        "rd_expense_3y": money, "revenue_3y": money, "rd_domestic_share": share,
        "rd_staff": count, "tech_staff": count, "high_tech_revenue_share": share,
        "main_business_share": share, "years_in_niche": st.floats(0, 30), "class1_ip": st.integers(0, 6),
        "class2_ip": st.integers(0, 6), "equity_financing_2y": money,
        "certifications": st.lists(st.sampled_from(CERTIFICATIONS), unique=True, max_size=4),
        "tax_credit_rating": st.sampled_from(["A", "B", "M", "C", "D"]),
        "dishonest_record": st.booleans(), "major_incident_last_year": st.booleans(),
        "export_share": share, "ui_premium_paid": money, "insured_employees": count,
        "layoff_rate": share, "graduates_hired": st.integers(0, 50), "vat_credit_balance": money,
        "leases_state_property": st.booleans(),
    },
)


# --- registry rows: one firm as a JSON profile and as registry text (tests/recommender/test_reader_agreement.py)

def _credit_code(body: str, good: bool) -> str:
    """An 18-character credit code on a 17-character body, with its right check character or a wrong one."""
    from recommender.profile.uscc import ALPHABET
    weights = [pow(3, i, 31) for i in range(17)]
    r = 31 - sum(ALPHABET.index(c) * w for c, w in zip(body, weights, strict=True)) % 31
    check = ALPHABET[0 if r == 31 else r]
    return body + (check if good else ALPHABET[(ALPHABET.index(check) + 1) % 31])


def _num_text(v: float | int) -> str:
    return str(v) if isinstance(v, int) else repr(v)


def _cell(json_values: st.SearchStrategy, text: object = str) -> st.SearchStrategy:
    """A (JSON value, registry text) pair; None (absent) is the empty cell."""
    to_text = text if callable(text) else (lambda v: text[v])  # type: ignore[index]
    return json_values.map(lambda v: (v, None if v is None else to_text(v)))


_ODD_NUMBERS = [-1.0, -0.5, 1e300, 1e-300, float("inf"), float("-inf"), float("nan")]
_FLAG_TEXTS = {True: ["true", "True", "TRUE", "1", "yes", "是"], False: ["false", "False", "FALSE", "0", "no", "否"]}


def _flag(values: st.SearchStrategy) -> st.SearchStrategy:
    return values.flatmap(lambda v: st.just((v, None)) if v is None else
                          st.sampled_from(_FLAG_TEXTS[v]).map(lambda t: (v, t)) if isinstance(v, bool) else
                          st.just((v, v)))


_GOOD_CREDIT = st.sampled_from(["91500112MA5U7A2B1", "91110105MA00ABCDX", "12500000450398221"])
_FIELDS: dict[str, tuple[st.SearchStrategy, st.SearchStrategy]] = {   # (valid cells, any cells)
    "firm_id": (_cell(st.just("F1")), _cell(st.sampled_from(["", "x" * 65, "A\tB", "x" * 64]))),
    "region_code": (_cell(st.sampled_from(REGIONS)), _cell(maybe(st.sampled_from(["509999", "5001", "abcdef"])))),
    "industry_code": (_cell(st.sampled_from([*INDUSTRIES, "36", "3670"])),
                      _cell(maybe(st.sampled_from(["C99", "Z", "c3670", "C367"])))),
    "name": (_cell(maybe(st.just("重庆某某有限公司"))), _cell(st.just("n" * 201))),
    "credit_code": (_cell(maybe(_GOOD_CREDIT.map(lambda b: _credit_code(b, True)))),
                    _cell(_GOOD_CREDIT.map(lambda b: _credit_code(b, False))
                          | st.sampled_from(["91500112MA5U7A2B", "91500112MA5U7A2B1NN", "91500112ma5u7a2b1n"]))),
    "established_on": (_cell(maybe(st.dates(dt.date(1900, 1, 1), dt.date(2024, 12, 31)).map(dt.date.isoformat))),
                       _cell(st.dates(dt.date(1800, 1, 1), dt.date(2200, 12, 31)).map(dt.date.isoformat)
                             | st.sampled_from(["1850-01-01", "2099-12-31", "2022-02-30", "2022-13-01",
                                                "1899-12-31", "1900-01-01"]))),
    "ownership": (_cell(maybe(st.sampled_from(["state", "private", "foreign", "collective", "other"]))),
                  _cell(st.sampled_from(["bogus", "State", "public"]))),
    "tax_credit_rating": (_cell(maybe(st.sampled_from(["A", "B", "M", "C", "D"]))),
                          _cell(st.sampled_from(["a", "AA", "E"]))),
    "certifications": (_cell(maybe(st.lists(st.sampled_from(CERTIFICATIONS), max_size=4, unique=True)), ";".join),
                       _cell(st.lists(st.sampled_from([*CERTIFICATIONS[:3], "iso9001", "HNTE"]), min_size=1,
                                      max_size=4), ";".join)),
    "listed": (_flag(maybe(st.booleans())), _flag(st.just("maybe"))),
    "dishonest_record": (_flag(maybe(st.booleans())), _flag(st.sampled_from(["maybe", "2"]))),
}
_MONEY = (maybe(st.floats(0, 1e12) | st.integers(0, 10**20)),
          st.floats(-1e9, -1e-9) | st.sampled_from(_ODD_NUMBERS) | st.integers(-5, -1))
_SHARE = (maybe(st.floats(0, 1)), st.floats(1.0000001, 5) | st.sampled_from([-0.1, float("nan"), float("inf")]))
_COUNT = (maybe(st.integers(0, 10**6)),
          st.integers(-3, -1) | st.integers(0, 100).map(lambda n: n + 0.5)
          | st.sampled_from([10**400, float("inf"), float("nan"), -1.5]))
for _name, (_good, _any) in {"revenue": _MONEY, "total_assets": _MONEY, "rd_expense": _MONEY,
                             "years_in_niche": _MONEY, "rd_domestic_share": _SHARE, "export_share": _SHARE,
                             "layoff_rate": _SHARE, "employees": _COUNT, "rd_staff": _COUNT,
                             "class1_ip": _COUNT}.items():
    _FIELDS[_name] = (_cell(_good, _num_text), _cell(_any, _num_text))
_FIELDS["taxable_income"] = (_cell(maybe(st.floats(-1e12, 1e12) | st.integers(-10**15, 10**15)), _num_text),
                             _cell(st.sampled_from([float("inf"), float("nan")]), _num_text))

registry_rows = st.tuples(
    st.fixed_dictionaries({name: good for name, (good, _) in _FIELDS.items()}),
    st.dictionaries(st.sampled_from(sorted(_FIELDS)), st.none(), max_size=3),
).flatmap(lambda pair: st.fixed_dictionaries(
    {name: st.just(cell) for name, cell in pair[0].items() if name not in pair[1]}
    | {name: _FIELDS[name][1] for name in pair[1]}))
"""One firm as ``{field: (JSON value, registry text)}``: valid cells, with up to three fields
drawn from any cells instead. Values both a JSON profile and a registry cell can say (a count
is an int or a fraction, never 2.0; a flag is JSON true/false and any registry spelling of it):
negative and fractional counts, huge numbers, inf and nan, shares above 1, bogus categories,
unknown certifications, credit codes with a good or a bad check character, bad region and
industry codes, dates in 1850, in the future, or impossible; a missing required field."""
