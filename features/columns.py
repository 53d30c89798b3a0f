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
N_CERTIFICATIONS = "n_certifications"
N_UNKNOWN_FIELDS = "n_unknown_fields"
FIRM_SUMMARY_NUMERIC: tuple[str, ...] = (N_CERTIFICATIONS, N_UNKNOWN_FIELDS)
# Firm categories: three profile fields, and the GB/T 4754 section letter and division (C36).
INDUSTRY_SECTION = "industry_section"
INDUSTRY_DIVISION = "industry_division"
FIRM_PROFILE_CATEGORICAL: tuple[str, ...] = ("size_class", "ownership", "tax_credit_rating")
FIRM_CATEGORICAL: tuple[str, ...] = FIRM_PROFILE_CATEGORICAL + (INDUSTRY_SECTION, INDUSTRY_DIVISION)
BUSINESS_SCOPE = "business_scope"

# Pair features from the eligibility outcome table and the benefit estimate.
VERDICT = "verdict"                 # 0 ineligible, 1 undetermined, 2 eligible
SHARE_MET = "share_met"
UNKNOWN_COUNT = "unknown_count"     # criteria not decidable for want of data
MARGIN_MIN = "margin_min"           # clipped relative margins to the numeric thresholds
MARGIN_MEAN = "margin_mean"
MARGIN_MAX = "margin_max"
MARGINS: tuple[str, str, str] = (MARGIN_MIN, MARGIN_MEAN, MARGIN_MAX)
BENEFIT_LOW = "benefit_low"         # yuan over the benefit's years; NaN when unknown
BENEFIT_HIGH = "benefit_high"
BENEFIT = "benefit_point"           # yuan, (low + high) / 2; NaN when unknown
PAIR_BUILT: tuple[str, ...] = (VERDICT, SHARE_MET, UNKNOWN_COUNT, *MARGINS, BENEFIT_LOW, BENEFIT_HIGH, BENEFIT)
"""The pair-level columns the pair builder (``recommender.ranking.pairs``) computes."""

# Policy attributes from the catalog header.
N_CRITERIA = "n_criteria"           # checkable criteria (declarations excluded)
DAYS_TO_END = "days_to_end"         # NaN when the policy has no end date
BENEFIT_YEARS = "benefit_years"
POLICY_REGIONAL = "policy_regional"
POLICY_FAMILY = "policy_family"
ISSUER_LEVEL = "issuer_level"
BENEFIT_KIND = "benefit_kind"
POLICY_TEXT = "policy_text"
POLICY_NUMERIC: tuple[str, ...] = (BENEFIT_YEARS, POLICY_REGIONAL)
POLICY_CATEGORICAL: tuple[str, ...] = (POLICY_FAMILY, ISSUER_LEVEL, BENEFIT_KIND)
POLICY_BUILT: tuple[str, ...] = (POLICY_ID, N_CRITERIA, DAYS_TO_END, *POLICY_NUMERIC, *POLICY_CATEGORICAL,
                                 POLICY_TEXT)
"""The policy-level columns the pair builder computes from the catalog header."""

PAIR_NUMERIC: tuple[str, ...] = (
    VERDICT, SHARE_MET, UNKNOWN_COUNT, N_CRITERIA, MARGIN_MIN, MARGIN_MEAN,
    MARGIN_MAX, BENEFIT, BENEFIT_LOW, BENEFIT_HIGH, DAYS_TO_END,
)
PAIR_TABLE_ORDER: tuple[str, ...] = (
    VERDICT, SHARE_MET, UNKNOWN_COUNT, N_CRITERIA, *MARGINS, BENEFIT_LOW, BENEFIT_HIGH, BENEFIT,
    DAYS_TO_END, BENEFIT_YEARS, POLICY_REGIONAL, POLICY_FAMILY, ISSUER_LEVEL, BENEFIT_KIND, POLICY_TEXT,
)
"""Column order of a flat pair table after the firm columns, row, col and policy id."""

# History statistics (features.history), from events strictly before a cut-off date.
# Counts are per 365 days in force within the observable look-back; NaN when nothing could
# be observed (the policy was not in force then, or the log does not reach back).
POLICY_PRIOR_APPLICATIONS = "policy_prior_applications"
POLICY_PRIOR_APPROVALS = "policy_prior_approvals"
POLICY_PRIOR_APPROVAL_RATE = "policy_prior_approval_rate"
FAMILY_PRIOR_APPLICATIONS = "family_prior_applications"
FAMILY_PRIOR_APPROVALS = "family_prior_approvals"
FAMILY_PRIOR_APPROVAL_RATE = "family_prior_approval_rate"
HISTORY_NUMERIC: tuple[str, ...] = (
    POLICY_PRIOR_APPLICATIONS, POLICY_PRIOR_APPROVALS, POLICY_PRIOR_APPROVAL_RATE,
    FAMILY_PRIOR_APPLICATIONS, FAMILY_PRIOR_APPROVALS, FAMILY_PRIOR_APPROVAL_RATE,
)

# Money columns get a signed log transform before modelling.
LOG_COLUMNS: tuple[str, ...] = (
    "employees", "revenue", "total_assets", "taxable_income", "rd_expense",
    "equity_financing_2y", BENEFIT, BENEFIT_LOW, BENEFIT_HIGH,
    POLICY_PRIOR_APPLICATIONS, POLICY_PRIOR_APPROVALS, FAMILY_PRIOR_APPLICATIONS, FAMILY_PRIOR_APPROVALS,
)

NUMERIC_COLUMNS: tuple[str, ...] = (FIRM_PROFILE_NUMERIC + FIRM_DERIVED_NUMERIC
                                    + FIRM_SUMMARY_NUMERIC + PAIR_NUMERIC + POLICY_NUMERIC
                                    + HISTORY_NUMERIC)
CATEGORICAL_COLUMNS: tuple[str, ...] = FIRM_CATEGORICAL + POLICY_CATEGORICAL
TEXT_COLUMNS: tuple[str, str] = (BUSINESS_SCOPE, POLICY_TEXT)
SIMILARITY = "scope_policy_similarity"
"""The encoded feature: cosine similarity of the two text columns' char n-gram tf-idf vectors."""

# Interaction log (SPEC §7).
EVENT_DATE = "event_date"
OUTCOME = "outcome"
OUTCOMES: tuple[str, ...] = ("approved", "rejected", "applied")
INTERACTION_COLUMNS: tuple[str, ...] = (FIRM_ID, POLICY_ID, EVENT_DATE, OUTCOME)

# Training label (graded relevance) column of a labelled pair table.
LABEL = "label"
