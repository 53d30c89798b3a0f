"""The column contract between :mod:`recommender` and :mod:`features`.

``recommender.ranking.pairs`` builds a plain *pair table* (one row per firm × candidate policy)
whose columns are named here; the transformers of :mod:`features.transformers` read it by
these names and nothing else. Firm columns are profile fields or SPEC §3 derived facts (a
test checks them against ``FirmProfile``); pair and policy columns are computed by the
recommender from the eligibility outcome table and the catalog header.

No policy id is ever a feature: ``POLICY_ID`` only joins history statistics and groups
output, so a policy never seen in training is ranked by its attributes on day one.
"""

from __future__ import annotations

# Identifiers: never features. ``QUERY`` groups a firm's candidates within one time window.
FIRM_ID = "firm_id"
POLICY_ID = "policy_id"
ROW = "row"              # firm row index in the evaluated frame
COL = "col"              # policy column index in the eligibility run
QUERY = "query_id"
ID_COLUMNS: tuple[str, ...] = (FIRM_ID, POLICY_ID, ROW, COL)

# Firm profile fields (SPEC §2) used as numeric features; bools are 0/1, unknown NaN.
FIRM_PROFILE_NUMERIC: tuple[str, ...] = (
    "employees", "revenue", "total_assets", "taxable_income", "rd_expense",
    "invention_patents", "class1_ip", "class2_ip", "high_tech_revenue_share",
    "main_business_share", "years_in_niche", "export_share", "graduates_hired",
    "layoff_rate", "listed", "dishonest_record", "equity_financing_2y",
)
# SPEC §3 derived facts used as numeric features.
FIRM_DERIVED_NUMERIC: tuple[str, ...] = (
    "age_years", "rd_intensity", "rd_intensity_3y", "tech_staff_ratio", "rd_staff_ratio",
    "revenue_growth", "small_low_profit", "manufacturer",
)
# Firm summaries the pair table computes (count of titles held, unknown profile fields).
FIRM_SUMMARY_NUMERIC: tuple[str, ...] = ("n_certifications", "n_unknown_fields")
FIRM_CATEGORICAL: tuple[str, ...] = ("size_class", "ownership", "tax_credit_rating",
                                     "industry_section", "industry_division")
BUSINESS_SCOPE = "business_scope"

# Pair features from the eligibility outcome table and the benefit estimate.
VERDICT = "verdict"                 # 0 ineligible, 1 undetermined, 2 eligible
SHARE_MET = "share_met"
BENEFIT = "benefit_point"           # yuan, (low + high) / 2; NaN when unknown
PAIR_NUMERIC: tuple[str, ...] = (
    VERDICT, SHARE_MET, "unknown_count", "n_criteria", "margin_min", "margin_mean",
    "margin_max", BENEFIT, "benefit_low", "benefit_high", "days_to_end",
)
# Policy attributes from the catalog header.
POLICY_NUMERIC: tuple[str, ...] = ("benefit_years", "policy_regional")
POLICY_CATEGORICAL: tuple[str, ...] = ("policy_family", "issuer_level", "benefit_kind")
POLICY_FAMILY = "policy_family"
POLICY_TEXT = "policy_text"

# History statistics (features.history), from events strictly before a cut-off date.
HISTORY_NUMERIC: tuple[str, ...] = (
    "policy_prior_applications", "policy_prior_approval_rate",
    "family_prior_applications", "family_prior_approval_rate",
)

# Money columns get a signed log transform before modelling.
LOG_COLUMNS: tuple[str, ...] = (
    "employees", "revenue", "total_assets", "taxable_income", "rd_expense",
    "equity_financing_2y", BENEFIT, "benefit_low", "benefit_high",
    "policy_prior_applications", "family_prior_applications",
)

NUMERIC_COLUMNS: tuple[str, ...] = (FIRM_PROFILE_NUMERIC + FIRM_DERIVED_NUMERIC
                                    + FIRM_SUMMARY_NUMERIC + PAIR_NUMERIC + POLICY_NUMERIC
                                    + HISTORY_NUMERIC)
CATEGORICAL_COLUMNS: tuple[str, ...] = FIRM_CATEGORICAL + POLICY_CATEGORICAL
TEXT_COLUMNS: tuple[str, str] = (BUSINESS_SCOPE, POLICY_TEXT)

# Interaction log (SPEC §7).
EVENT_DATE = "event_date"
OUTCOME = "outcome"
OUTCOMES: tuple[str, ...] = ("approved", "rejected", "applied")
INTERACTION_COLUMNS: tuple[str, ...] = (FIRM_ID, POLICY_ID, EVENT_DATE, OUTCOME)

# Training label (graded relevance) column of a labelled pair table.
LABEL = "label"
