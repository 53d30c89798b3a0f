"""Derived facts (SPEC §3) and the evaluation frame that computes them: each fact declared once
with its kind, sources, label, array rule and scalar rule.

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.facts.declared import (CATEGORY_FACTS, CERT_COLUMNS, Category, Columns,
                                            DAYS_PER_YEAR, FACTS, Fact, NUMERIC_FACTS, RATIOS,
                                            REPORTED, Ratio, SMALL_LOW_PROFIT_MAX_ASSETS,
                                            SMALL_LOW_PROFIT_MAX_EMPLOYEES,
                                            SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME, derived_values,
                                            size_table)
    from recommender.facts.fields import CATEGORY_VALUES, DERIVED_KINDS, FIELD_KINDS, source_fields
    from recommender.facts.frame import EvalFrame
    from recommender.facts.rowframe import RowFrame
    from recommender.facts.size import SIZE_LABELS, SIZE_NAMES_ZH, SizeTable, industry_group

_EXPORTS: dict[str, str] = {
    "CATEGORY_FACTS": "declared",
    "CATEGORY_VALUES": "fields",
    "CERT_COLUMNS": "declared",
    "Category": "declared",
    "Columns": "declared",
    "DAYS_PER_YEAR": "declared",
    "DERIVED_KINDS": "fields",
    "EvalFrame": "frame",
    "FACTS": "declared",
    "FIELD_KINDS": "fields",
    "Fact": "declared",
    "NUMERIC_FACTS": "declared",
    "RATIOS": "declared",
    "REPORTED": "declared",
    "Ratio": "declared",
    "RowFrame": "rowframe",
    "SIZE_LABELS": "size",
    "SIZE_NAMES_ZH": "size",
    "SMALL_LOW_PROFIT_MAX_ASSETS": "declared",
    "SMALL_LOW_PROFIT_MAX_EMPLOYEES": "declared",
    "SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME": "declared",
    "SizeTable": "size",
    "derived_values": "declared",
    "industry_group": "size",
    "size_table": "declared",
    "source_fields": "fields",
}
__all__ = [
    "CATEGORY_FACTS", "CATEGORY_VALUES", "CERT_COLUMNS", "Category", "Columns", "DAYS_PER_YEAR",
    "DERIVED_KINDS", "EvalFrame", "FACTS", "FIELD_KINDS", "Fact", "NUMERIC_FACTS", "RATIOS", "REPORTED",
    "Ratio", "RowFrame", "SIZE_LABELS", "SIZE_NAMES_ZH", "SMALL_LOW_PROFIT_MAX_ASSETS", "SMALL_LOW_PROFIT_MAX_EMPLOYEES",
    "SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME", "SizeTable", "derived_values", "industry_group",
    "size_table", "source_fields"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
