"""Derived facts (SPEC §3): what the engine knows of a firm beyond its profile, each fact
declared once in :data:`FACTS` with its kind, sources, label, array rule and scalar rule."""

from recommender.facts.declared import (CATEGORY_FACTS, CERT_COLUMNS, DAYS_PER_YEAR, FACTS, NUMERIC_FACTS,
                                        RATIOS, REPORTED, SMALL_LOW_PROFIT_MAX_ASSETS,
                                        SMALL_LOW_PROFIT_MAX_EMPLOYEES, SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME,
                                        Category, Columns, Fact, Ratio, derived_values, size_table)
from recommender.facts.size import SIZE_LABELS, SizeTable, industry_group

__all__ = ["CATEGORY_FACTS", "CERT_COLUMNS", "DAYS_PER_YEAR", "FACTS", "NUMERIC_FACTS", "RATIOS", "REPORTED",
           "SIZE_LABELS", "SMALL_LOW_PROFIT_MAX_ASSETS", "SMALL_LOW_PROFIT_MAX_EMPLOYEES",
           "SMALL_LOW_PROFIT_MAX_TAXABLE_INCOME", "Category", "Columns", "Fact", "Ratio", "SizeTable",
           "derived_values", "industry_group", "size_table"]
