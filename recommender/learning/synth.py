"""Synthetic firm registry and dated application history (see ``data/synthetic_data_card.md``).

Vectorised numpy throughout: a 1,000,000-firm registry is one pass per column. Everything is
drawn from ``numpy.random.default_rng`` streams spawned from one seed, so a seed fixes the
output byte for byte. The registry imitates Chongqing: a manufacturing-heavy industry mix,
the 38 county-level divisions, size classes of the SME standard, log-normal revenue by size,
sector-dependent R&D intensity, certifications drawn only where their criteria roughly hold,
valid credit codes, and missing values at field-specific rates that rise as a latent
*document quality* falls. The history (:func:`generate_interactions`) is drawn per year from
the eligibility of each firm for each policy as of 1 July of that year, by one of the
mechanisms of :mod:`recommender.learning.mechanisms` (what drives applications and approvals).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.learning.mechanisms import DEFAULT_MECHANISM, Block, Firms, make_mechanism
from recommender.rules import Catalog
from recommender.engine import benefit_matrix, evaluate_catalog
from recommender.profile import (ALPHABET, FirmProfile, PROFILE_FIELDS, PROFILE_KINDS, ReferenceTables,
                                 base_types, coerce_frame)
from recommender.ranking import margin_summary


# (division, sector group, weight, revenue per employee (yuan, median), R&D propensity,
#  median R&D intensity, tech-staff ratio mean)
SECTORS: tuple[tuple[str, str, float, float, float, float, float], ...] = (
    ("C36", "auto", 0.09, 900_000, 0.60, 0.030, 0.12),
    ("C39", "electronics", 0.08, 800_000, 0.75, 0.045, 0.18),
    ("C34", "machinery", 0.05, 600_000, 0.60, 0.035, 0.14),
    ("C35", "machinery", 0.05, 600_000, 0.65, 0.040, 0.15),
    ("C38", "machinery", 0.03, 700_000, 0.60, 0.035, 0.14),
    ("C26", "chemicals", 0.04, 1_200_000, 0.50, 0.025, 0.10),
    ("C27", "chemicals", 0.02, 900_000, 0.80, 0.060, 0.20),
    ("C13", "food", 0.03, 1_000_000, 0.25, 0.010, 0.05),
    ("C14", "food", 0.03, 800_000, 0.30, 0.012, 0.06),
    ("C33", "other_mfg", 0.04, 500_000, 0.35, 0.020, 0.08),
    ("I65", "software", 0.08, 400_000, 0.85, 0.080, 0.45),
    ("I64", "software", 0.02, 600_000, 0.70, 0.050, 0.35),
    ("M73", "research", 0.03, 350_000, 0.95, 0.150, 0.55),
    ("M75", "research", 0.03, 300_000, 0.70, 0.060, 0.35),
    ("F51", "trade", 0.10, 2_000_000, 0.05, 0.005, 0.03),
    ("F52", "trade", 0.08, 900_000, 0.03, 0.003, 0.02),
    ("H62", "hospitality", 0.05, 200_000, 0.01, 0.002, 0.01),
    ("E48", "construction", 0.04, 700_000, 0.10, 0.008, 0.05),
    ("G54", "logistics", 0.04, 500_000, 0.05, 0.005, 0.03),
    ("L72", "business_services", 0.06, 300_000, 0.10, 0.010, 0.08),
    ("O81", "business_services", 0.01, 200_000, 0.02, 0.002, 0.02),
)
SECTOR_GROUPS: tuple[str, ...] = tuple(sorted({s[1] for s in SECTORS}))

# The 38 county-level divisions of Chongqing (policy-facts §10a), urban/industrial ones heavier.
REGIONS: tuple[str, ...] = tuple(f"5001{i:02d}" for i in range(1, 21)) + tuple(
    f"50015{i}" for i in range(1, 7)) + ("500229", "500230", "500231", "500233", "500235",
                                         "500236", "500237", "500238", "500240", "500241",
                                         "500242", "500243")
_HEAVY = {"500112": 6.0, "500107": 5.0, "500105": 4.0, "500106": 4.0, "500108": 3.5,
          "500103": 3.0, "500113": 3.0, "500109": 2.5, "500116": 2.5, "500120": 2.0,
          "500118": 2.0, "500102": 2.0, "500101": 2.0, "500117": 1.5, "500115": 1.5}
URBAN: frozenset[str] = frozenset(["500103", "500105", "500106", "500107", "500108", "500112"])

# Size class: share of firms and employee range (industry-like bounds of the SME standard).
SIZES: tuple[tuple[str, float, int, int], ...] = (
    ("micro", 0.62, 1, 19), ("small", 0.29, 20, 299), ("medium", 0.075, 300, 999),
    ("large", 0.015, 1000, 8000))

# Base missing rates; each is scaled by ``exp(-0.5 * document quality)``.
MISSING: dict[str, float] = {
    "name": 0.01, "credit_code": 0.04, "established_on": 0.02, "ownership": 0.05, "listed": 0.08,
    "employees": 0.03, "revenue": 0.04, "revenue_prev": 0.10, "total_assets": 0.07,
    "taxable_income": 0.12, "rd_expense": 0.12, "rd_expense_3y": 0.25, "revenue_3y": 0.20,
    "rd_domestic_share": 0.35, "rd_staff": 0.25, "tech_staff": 0.20,
    "high_tech_revenue_share": 0.35, "main_business_share": 0.25, "years_in_niche": 0.45,
    "invention_patents": 0.08, "class1_ip": 0.15, "class2_ip": 0.15, "equity_financing_2y": 0.35,
    "certifications": 0.04, "tax_credit_rating": 0.08, "dishonest_record": 0.04,
    "major_incident_last_year": 0.08, "export_share": 0.25, "ui_premium_paid": 0.25,
    "insured_employees": 0.12, "layoff_rate": 0.30, "graduates_hired": 0.25,
    "vat_credit_balance": 0.35, "leases_state_property": 0.45, "business_scope": 0.03,
}

_SCOPES: dict[str, tuple[str, ...]] = {
    "auto": ("汽车零部件研发、制造、销售", "汽车整车制造", "摩托车及配件制造", "新能源汽车电机研发"),
    "electronics": ("电子元器件制造", "集成电路设计", "智能终端研发、生产", "显示面板制造"),
    "machinery": ("通用设备制造", "专用设备研发、制造", "工业机器人制造", "电气机械及器材制造"),
    "chemicals": ("化学原料及化学制品制造", "药品研发、生产", "天然气化工产品销售", "医药中间体制造"),
    "food": ("食品生产、销售", "火锅底料加工", "饮料制造", "农副产品加工"),
    "other_mfg": ("金属制品加工", "建筑材料生产", "塑料制品制造", "包装材料制造"),
    "software": ("软件开发、信息技术咨询服务", "数据处理和存储服务", "互联网信息服务", "信息系统集成服务"),
    "research": ("工程和技术研究与试验发展", "技术推广服务、技术转让", "检验检测服务", "新材料技术研发"),
    "trade": ("日用百货批发、零售", "五金交电销售", "汽车配件批发", "农产品零售"),
    "hospitality": ("餐饮服务", "火锅餐饮服务", "小吃服务", "酒店管理"),
    "construction": ("建筑工程施工", "市政工程施工", "建筑装饰装修", "机电设备安装"),
    "logistics": ("道路货物运输", "仓储服务、装卸搬运", "城市配送", "物流信息咨询"),
    "business_services": ("企业管理咨询", "人力资源服务", "广告设计、制作", "会议及展览服务"),
}
_NAME_WORDS = np.array(list("渝巴嘉陵山城两江长江鸿泰盛华恒达兴隆瑞丰新锦宏鑫博远创"))

CERTS: tuple[str, ...] = ("hnte", "tech_sme", "innovative_sme", "srdi_sme", "little_giant",
                          "single_champion", "above_scale", "smart_factory", "digital_workshop",
                          "green_factory", "enterprise_tech_center")


def _credit_codes(rng: np.random.Generator, regions: np.ndarray) -> np.ndarray:
    """Valid 18-character USCCs: ``91`` + division + 9-char body + GB 32100 check character."""
    n = len(regions)
    alpha = np.array(list(ALPHABET))
    value = {c: i for i, c in enumerate(ALPHABET)}
    div = np.stack([np.char.asarray(regions).astype("U6").view("U1").reshape(n, 6)[:, k]
                    for k in range(6)], axis=1) if n else np.empty((0, 6), dtype="U1")
    body = rng.integers(0, 31, size=(n, 9))
    head = np.tile(np.array([value["9"], value["1"]]), (n, 1))
    digits = np.concatenate([head, np.vectorize(value.__getitem__, otypes=[int])(div) if n else
                             np.empty((0, 6), int), body], axis=1)
    weights = np.array([pow(3, i, 31) for i in range(17)])
    r = 31 - (digits @ weights) % 31
    check = np.where(r == 31, 0, r)
    chars = alpha[np.concatenate([digits, check[:, None]], axis=1)]
    return np.array(["".join(row) for row in chars], dtype=object) if n else np.empty(0, dtype=object)


def _mask(rng: np.random.Generator, values: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """``values`` as object/float with entries dropped at per-row ``rate``."""
    drop = rng.random(len(values)) < rate
    if values.dtype.kind == "f":
        return np.where(drop, np.nan, values)
    out = values.astype(object)
    out[drop] = None
    return out


def generate_registry(n: int, seed: int, as_of: dt.date) -> pd.DataFrame:
    """A registry of ``n`` firms (every SPEC §2 column, ``;``-joined certifications).

    Also returns latent columns (dropped before writing) used by the history generator:
    ``_doc_quality``, ``_awareness``, ``_group`` (sector group), ``_size`` (true size class,
    0 micro … 3 large) and ``_pool`` (holds a title of the innovation ladder: tech-SME, HNTE,
    innovative, specialised or little-giant SME — before any value is masked).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    sec_w = np.array([s[2] for s in SECTORS])
    sec = rng.choice(len(SECTORS), size=n, p=sec_w / sec_w.sum())
    col = {k: np.array([s[i] for s in SECTORS])[sec] for i, k in enumerate(
        ("division", "group", "w", "rev_per_emp", "rd_prop", "rd_med", "tech_mean"))}
    manuf = np.char.startswith(col["division"].astype(str), "C")
    reg_w = np.array([_HEAVY.get(r, 1.0) for r in REGIONS])
    region = np.array(REGIONS)[rng.choice(len(REGIONS), size=n, p=reg_w / reg_w.sum())]
    size_p = np.array([s[1] for s in SIZES])
    size = rng.choice(len(SIZES), size=n, p=size_p / size_p.sum())
    lo = np.array([s[2] for s in SIZES])[size]
    hi = np.array([s[3] for s in SIZES])[size]
    employees = np.floor(np.exp(rng.uniform(np.log(lo), np.log(hi + 1)))).clip(lo, hi)
    revenue = np.round(employees * col["rev_per_emp"] * rng.lognormal(0.0, 0.6, n), -3)
    growth = rng.normal(0.08, 0.22, n).clip(-0.7, 3.0)
    revenue_prev = np.round(revenue / (1 + growth), -3)
    revenue_3y = revenue + revenue_prev + np.round(revenue_prev / (1 + rng.normal(0.08, 0.2, n).clip(-0.6, 2)), -3)
    total_assets = np.round(revenue * rng.lognormal(np.where(manuf, 0.1, -0.4), 0.5), -3)
    doc_quality = rng.normal(0.0, 1.0, n)
    does_rd = rng.random(n) < col["rd_prop"]
    rd_int = np.where(does_rd, col["rd_med"] * rng.lognormal(0.0, 0.6, n), 0.0).clip(0, 0.6)
    rd_expense = np.round(revenue * rd_int, -2)
    rd_expense_3y = np.round(rd_expense * rng.uniform(2.2, 3.0, n), -2)
    tech_ratio = np.clip(rng.beta(2, 2 / np.maximum(col["tech_mean"], 0.01) - 2 + 1e-9, n), 0, 1)
    tech_staff = np.floor(employees * tech_ratio)
    rd_staff = np.floor(tech_staff * rng.uniform(0.3, 0.9, n))
    high_tech = np.where(does_rd, rng.beta(4, 3, n), rng.beta(1, 8, n))
    age = np.clip(rng.lognormal(np.log(7), 0.7, n), 0.2, 40)
    established = pd.Timestamp(as_of) - pd.to_timedelta(np.round(age * 365.25), unit="D")
    patents = rng.poisson(np.where(does_rd, 0.5 + 30 * rd_int * np.log1p(employees) / 3, 0.05))
    class1 = patents + rng.poisson(0.2 * does_rd)
    class2 = rng.poisson(np.where(does_rd, 2.0 + np.log1p(employees), 0.3))
    taxable = np.round(revenue * rng.normal(0.05, 0.07, n), -2)
    rating = np.array(["A", "B", "M", "C", "D"])[rng.choice(5, n, p=[0.25, 0.55, 0.12, 0.05, 0.03])]
    rating = np.where((age < 1.0) & (rng.random(n) < 0.8), "M", rating)
    u = rng.random((len(CERTS), n))
    rd_sme = (employees <= 500) & (revenue <= 2e8) & (total_assets <= 2e8)
    hnte = (rd_int >= 0.03) & (high_tech >= 0.6) & (tech_ratio >= 0.1) & (class1 + class2 >= 1) & (u[0] < 0.55)
    tech_sme = rd_sme & (rd_int >= 0.02) & (tech_ratio >= 0.1) & (u[1] < 0.6)
    innov = (employees < 1000) & (rd_int >= 0.03) & (class1 + class2 >= 1) & (u[2] < 0.45)
    srdi = innov & (revenue >= 1e7) & (u[3] < 0.35)
    giant = srdi & manuf & (revenue >= 1e8) & (u[4] < 0.25)
    champion = manuf & (size == 3) & (u[5] < 0.05)
    above = np.where(manuf, revenue >= 2e7, revenue >= 1e7) & (u[6] < 0.9)
    smart = above & manuf & (u[7] < 0.06)
    workshop = above & manuf & (u[8] < 0.10)
    green = manuf & (size >= 1) & (u[9] < 0.04)
    centre = above & does_rd & (u[10] < 0.08)
    held = np.stack([hnte, tech_sme, innov, srdi, giant, champion, above, smart, workshop, green, centre])
    certs = pd.Series([""] * n, dtype=object)
    for k, name in enumerate(CERTS):
        certs = certs.where(~held[k], certs + np.where(certs == "", "", ";") + name)
    insured = np.floor(employees * rng.beta(8, 2, n))
    export = np.where(rng.random(n) < np.where(manuf, 0.3, 0.05), rng.beta(2, 5, n), 0.0)
    scope_idx = rng.integers(0, 4, n)
    scope = np.array([_SCOPES[g][k] for g in SECTOR_GROUPS for k in range(4)], dtype=object)[
        np.searchsorted(np.array(SECTOR_GROUPS), col["group"]) * 4 + scope_idx]
    scope = scope + np.where(rng.random(n) < 0.5, "；技术咨询、技术服务", "；货物进出口")
    words = _NAME_WORDS[rng.integers(0, len(_NAME_WORDS), size=(n, 2))]
    name = pd.Series(words[:, 0]).str.cat(pd.Series(words[:, 1])).radd("重庆").str.cat(
        pd.Series(col["group"]).map({g: _SCOPES[g][0][:2] for g in SECTOR_GROUPS})) + "有限公司"
    awareness = (0.35 * np.log10(employees + 1) + 0.3 * held.any(axis=0) + 0.3 * np.isin(region, list(URBAN))
                 + 0.25 * doc_quality + rng.normal(0, 0.8, n))
    miss = np.exp(-0.5 * doc_quality)
    raw: dict[str, np.ndarray] = {
        "name": name.to_numpy(dtype=object), "credit_code": _credit_codes(rng, region),
        "established_on": established.to_numpy(), "ownership": np.array(
            ["private", "state", "foreign", "collective", "other"])[rng.choice(5, n, p=[0.85, 0.05, 0.03, 0.02, 0.05])],
        "listed": ((size >= 2) & (rng.random(n) < 0.05)).astype(float),
        "employees": employees, "revenue": revenue, "revenue_prev": revenue_prev,
        "total_assets": total_assets, "taxable_income": taxable, "rd_expense": rd_expense,
        "rd_expense_3y": rd_expense_3y, "revenue_3y": revenue_3y,
        "rd_domestic_share": np.where(does_rd, rng.beta(20, 1, n), np.nan),
        "rd_staff": rd_staff, "tech_staff": tech_staff, "high_tech_revenue_share": high_tech,
        "main_business_share": rng.beta(8, 1.5, n), "years_in_niche": np.round(age * rng.uniform(0.3, 1, n), 1),
        "invention_patents": patents.astype(float), "class1_ip": class1.astype(float),
        "class2_ip": class2.astype(float),
        "equity_financing_2y": np.where(rng.random(n) < 0.06, np.round(rng.lognormal(15.5, 1.2, n), -4), 0.0),
        "certifications": certs.to_numpy(dtype=object), "tax_credit_rating": rating,
        "dishonest_record": (rng.random(n) < 0.02).astype(float),
        "major_incident_last_year": (rng.random(n) < 0.01).astype(float),
        "export_share": export, "ui_premium_paid": np.round(insured * 60_000 * 0.005, 2),
        "insured_employees": insured, "layoff_rate": np.round(rng.beta(1, 40, n), 4),
        "graduates_hired": rng.poisson(0.03 * employees).astype(float),
        "vat_credit_balance": np.where(rng.random(n) < 0.3, np.round(revenue * rng.uniform(0, 0.04, n), -2), 0.0),
        "leases_state_property": (rng.random(n) < 0.08).astype(float), "business_scope": scope,
    }
    out: dict[str, object] = {"firm_id": np.char.add("F", np.char.zfill(np.arange(1, n + 1).astype(str), 7)).astype(object),
                              "region_code": region.astype(object), "industry_code": col["division"].astype(object)}
    for field in PROFILE_FIELDS:
        if field in raw:
            vals = raw[field]
            if field == "established_on":
                drop = rng.random(n) < MISSING[field] * miss
                out[field] = pd.Series(vals).mask(drop).to_numpy()
            else:
                out[field] = _mask(rng, vals, MISSING[field] * miss)
    frame = pd.DataFrame({f: out[f] for f in PROFILE_FIELDS})
    frame["_doc_quality"] = doc_quality
    frame["_awareness"] = awareness
    frame["_group"] = col["group"]
    frame["_size"] = size                                   # 0 micro, 1 small, 2 medium, 3 large
    frame["_pool"] = (hnte | tech_sme | innov | srdi | giant)  # in a cultivation ladder (true, unmasked)
    return frame


def registry_to_parquet_frame(registry: pd.DataFrame) -> pd.DataFrame:
    """SPEC §2 columns with file dtypes: Int64 counts, boolean flags, dates, strings."""
    out = {}
    for name in PROFILE_FIELDS:
        col = registry[name]
        kind = PROFILE_KINDS[name]
        if kind == "bool":
            out[name] = col.astype("float64").map({1.0: True, 0.0: False}).astype("boolean")
        elif kind == "number" and base_types(FirmProfile.model_fields[name].annotation) == {int, type(None)}:
            out[name] = col.astype("float64").round().astype("Int64")
        elif kind == "date":
            out[name] = pd.to_datetime(col).dt.date.astype(object).where(col.notna(), None)
        else:
            out[name] = col
    return pd.DataFrame(out)


PENDING_DAYS = 60
"""Applications in the last 60 days of the history are still pending (outcome ``applied``)."""


def year_as_of(year: int) -> dt.date:
    """The date eligibility is evaluated for the applications of ``year``: 1 July."""
    return dt.date(year, 7, 1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def generate_interactions(registry: pd.DataFrame, catalog: Catalog, ref: ReferenceTables,
                          years: int, seed: int, end: dt.date, chunk: int = 250_000,
                          mechanism: str = DEFAULT_MECHANISM) -> pd.DataFrame:
    """Dated applications (``firm_id, policy_id, event_date, outcome``) over ``years`` years.

    For year ``y`` eligibility is evaluated as of 1 July ``y``. For each policy in force, each
    firm applies with probability ``sigmoid(apply logit)`` and an application is approved with
    probability ``sigmoid(approval logit)``; the ``mechanism`` (:mod:`recommender.learning.mechanisms`)
    gives both logits. The default, ``margins``: a firm applies with probability
    ``sigmoid(-3.4 + 1.2·eligible + 0.5·awareness + 0.35·log10(1 + benefit/1e4)
    + 2·affinity(family, sector) + appeal(policy) + application_shift + N(0, 0.5))``
    (ineligible firms at −4.5 of that); an application is approved with probability
    ``sigmoid(approval_logit + N(0, 0.3))`` with ``b`` = 0.5 eligible, −0.5 undetermined,
    −4 ineligible (see :class:`~recommender.learning.mechanisms.Margins` and the data card).

    Raises
    ------
    ValueError
        When ``mechanism`` is not one of :data:`~recommender.learning.mechanisms.MECHANISMS`.
    """
    process = make_mechanism(mechanism, registry, [p.id for p in catalog], seed)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    typed = coerce_frame(registry)
    firms = Firms.of(registry)
    ids = registry["firm_id"].to_numpy()
    out = []
    for year in range(end.year - years + 1, end.year + 1):
        as_of = year_as_of(year)
        start_y, end_y = dt.date(year, 1, 1), min(dt.date(year, 12, 31), end)
        for a in range(0, len(typed), chunk):
            sl = slice(a, min(a + chunk, len(typed)))
            elig = evaluate_catalog(catalog, typed.iloc[sl], as_of, ref)
            low, high = benefit_matrix(elig)
            for j, o in enumerate(elig.outcomes.values()):
                h = o.policy.header
                first = max(start_y, h.valid_from)
                last = min(end_y, h.valid_to or end_y)
                if not o.in_force or first > last:
                    continue
                block = Block(year=year, policy_id=o.policy.id, family=h.family, kind=h.benefit.kind, rows=sl,
                              firms=firms[sl], verdict=o.verdict, margin=margin_summary(o, elig)[0],
                              unknown=o.unknown_count(),
                              benefit=np.nan_to_num((low[:, j] + high[:, j]) / 2, nan=5e4).clip(0, None))
                p_apply = _sigmoid(process.apply_logit(block, rng))    # its noise is drawn first
                applies = rng.random(len(p_apply)) < p_apply
                idx = np.flatnonzero(applies)
                if len(idx) == 0:
                    continue
                p_ok = _sigmoid(process.approval_logit(block, idx, rng))
                span = (last - first).days + 1
                day = pd.Timestamp(first) + pd.to_timedelta(rng.integers(0, span, len(idx)), unit="D")
                outcome = np.where(rng.random(len(idx)) < p_ok, "approved", "rejected").astype(object)
                outcome[np.asarray(day > pd.Timestamp(end) - pd.Timedelta(days=PENDING_DAYS))
                        & (rng.random(len(idx)) < 0.6)] = "applied"
                out.append(pd.DataFrame({"firm_id": ids[sl][idx], "policy_id": o.policy.id,
                                         "event_date": day.date, "outcome": outcome}))
    cols = ["firm_id", "policy_id", "event_date", "outcome"]
    if not out:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    events = pd.concat(out, ignore_index=True)
    return events.sort_values(["event_date", "firm_id", "policy_id"], kind="stable").reset_index(drop=True)


def write_synthetic(out_dir: Path, n_firms: int, years: int, seed: int, catalog: Catalog,
                    ref: ReferenceTables, end: dt.date = dt.date(2022, 12, 31),
                    mechanism: str = DEFAULT_MECHANISM) -> tuple[Path, Path]:
    """Write ``registry.parquet`` and ``interactions.parquet`` under ``out_dir`` (the history
    drawn by ``mechanism``; the registry is the same for every mechanism)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    registry = generate_registry(n_firms, seed, end)
    events = generate_interactions(registry, catalog, ref, years, seed, end, mechanism=mechanism)
    reg_path, ev_path = out_dir / "registry.parquet", out_dir / "interactions.parquet"
    registry_to_parquet_frame(registry).to_parquet(reg_path, index=False)
    events.to_parquet(ev_path, index=False)
    return reg_path, ev_path
