"""Succession of the relief, employment and finance measures brought to 2026-12-06
(shared/policy-updates-2023-2026.md §2.1–2.3): each replacement is stated on both sides and a
measure replaced by a new document ends the day before its successor starts."""

from __future__ import annotations

import datetime as dt

import pytest

from recommender.errors import CatalogError
from recommender.rules.catalog import Catalog, check_relations

# (old, new, last day of old, first day of new) — the dates are the documents' (see each file's header).
ADJOINING = [
    ("cn-small-scale-vat-exemption-2022", "cn-small-scale-vat-relief-2023", dt.date(2022, 12, 31), dt.date(2023, 1, 1)),
    ("cn-vat-credit-refund-2022", "cn-vat-credit-refund-2025", dt.date(2025, 8, 31), dt.date(2025, 9, 1)),
    ("cn-youth-hiring-subsidy-2023", "cn-youth-hiring-subsidy-2024", dt.date(2023, 12, 31), dt.date(2024, 1, 1)),
    ("cq-agri-processing-support", "cq-food-agri-processing-2026", dt.date(2026, 2, 3), dt.date(2026, 2, 4)),
]
# Successors that start later than the old measure ended (nothing was found in between).
WITH_GAP = [
    ("cn-sme-equipment-deduction-2022", "cn-equipment-one-off-deduction-2024"),   # 2023 purchases: no rule
    ("cn-si-deferral-2022", "cn-si-deferral-2025"),                               # 2023–2024: none found
    ("cn-graduate-si-subsidy-2022", "cn-si-subsidy-key-groups-2025"),
    ("cn-graduate-hiring-subsidy-2022", "cn-youth-hiring-subsidy-2023"),         # 2023 round from 2023-07-03
]


@pytest.mark.parametrize(("old", "new", "last", "first"), ADJOINING)
def test_a_replaced_measure_ends_the_day_before_its_successor(catalog: Catalog, old: str, new: str,
                                                              last: dt.date, first: dt.date) -> None:
    o, n = catalog.get(old).header, catalog.get(new).header
    assert (o.valid_to, n.valid_from) == (last, first)
    assert new in o.relations.replaced_by and old in n.relations.replaces


@pytest.mark.parametrize(("old", "new"), WITH_GAP)
def test_a_later_successor_is_linked_both_ways(catalog: Catalog, old: str, new: str) -> None:
    o, n = catalog.get(old).header, catalog.get(new).header
    assert o.valid_to is not None and o.valid_to < n.valid_from
    assert new in o.relations.replaced_by and old in n.relations.replaces


@pytest.mark.parametrize(("national", "chongqing", "switch"), [
    ("cn-ui-job-stabilisation-refund", "cq-ui-job-stabilisation-refund-2025", dt.date(2025, 1, 1)),
    ("cn-startup-guaranteed-loan-firm", "cq-startup-guaranteed-loan-firm-2025", dt.date(2025, 6, 17)),
])
def test_chongqing_versions_take_over_from_the_national_record(catalog: Catalog, national: str,
                                                               chongqing: str, switch: dt.date) -> None:
    n, c = catalog.get(national).header, catalog.get(chongqing).header
    assert c.valid_from == switch and c.region_prefixes == ("50",)
    assert chongqing in n.relations.replaced_by and national in c.relations.replaces


def test_a_one_sided_replacement_is_refused(catalog: Catalog) -> None:
    old, new = catalog.get("cn-vat-credit-refund-2022"), catalog.get("cn-vat-credit-refund-2025")
    header = old.header.model_copy(update={"relations": old.header.relations.model_copy(update={"replaced_by": ()})})
    stripped = type(old)(header=header, criteria=old.criteria, benefit_formula=old.benefit_formula, file=old.file)
    policies = {p.id: p for p in catalog}
    policies[old.id] = stripped
    with pytest.raises(CatalogError, match=rf"policy {new.id}.*relations.replaces.*'{old.id}' does not list "
                                           rf"'{new.id}' under relations.replaced_by"):
        check_relations(policies)
