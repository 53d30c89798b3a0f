"""What each profile field is called for people, in Chinese and English, and its unit.

One table for every field of :class:`~recommender.profile.model.FirmProfile` (a test holds it
complete): the questions asked of a firm (``next_questions``), the "what it takes" steps and
the web pages read the names here, so a person never meets a raw field name such as
``class1_ip``. Units say how a page asks for the value: ``yuan`` (pages show 万元),
``share`` (pages show %), ``count``, ``years``, ``bool``, ``date``, ``choice``, ``titles``,
``code`` or ``text``; the profile itself always holds yuan and fractions (SPEC §1).
"""

from __future__ import annotations

from typing import Literal

Unit = Literal["yuan", "share", "count", "years", "bool", "date", "choice", "titles", "code", "text"]

FIELD_LABELS: dict[str, tuple[str, str, Unit]] = {
    # field: (中文, English, unit)
    "firm_id": ("企业编号", "firm id", "text"),
    "name": ("企业名称", "registered name", "text"),
    "credit_code": ("统一社会信用代码", "unified social credit code", "text"),
    "region_code": ("所在区县", "district of registration", "code"),
    "industry_code": ("所属行业", "industry", "code"),
    "established_on": ("注册成立日期", "registration date", "date"),
    "ownership": ("企业性质", "ownership", "choice"),
    "listed": ("是否已上市", "listed on an exchange", "bool"),
    "employees": ("职工人数", "employees", "count"),
    "revenue": ("上年营业收入", "operating revenue", "yuan"),
    "revenue_prev": ("前年营业收入", "previous year's revenue", "yuan"),
    "total_assets": ("资产总额", "total assets", "yuan"),
    "taxable_income": ("应纳税所得额", "taxable income", "yuan"),
    "rd_expense": ("研发费用", "R&D expense", "yuan"),
    "rd_expense_3y": ("近三年研发费用", "3-year R&D expense", "yuan"),
    "revenue_3y": ("近三年营业收入", "3-year revenue", "yuan"),
    "rd_domestic_share": ("境内研发费用占比", "share of R&D incurred in China", "share"),
    "rd_staff": ("研发人员", "R&D staff", "count"),
    "tech_staff": ("科技人员", "S&T staff", "count"),
    "high_tech_revenue_share": ("高新技术产品（服务）收入占比", "high-tech revenue share", "share"),
    "main_business_share": ("主营业务收入占比", "main-business share of revenue", "share"),
    "years_in_niche": ("从事细分市场年限", "years in the niche market", "years"),
    "invention_patents": ("发明专利", "invention patents", "count"),
    "class1_ip": ("I类知识产权", "Class I IP items", "count"),
    "class2_ip": ("II类知识产权", "Class II IP items", "count"),
    "equity_financing_2y": ("近两年新增股权融资", "new equity financing in the last 2 years", "yuan"),
    "certifications": ("已获称号", "titles held", "titles"),
    "tax_credit_rating": ("纳税信用等级", "tax credit rating", "choice"),
    "dishonest_record": ("是否被列入失信或严重违法名单", "on a dishonesty / serious-violation list", "bool"),
    "major_incident_last_year": ("近一年是否发生重大安全、质量或环境事故",
                                 "serious safety, quality or environmental incident in the past year", "bool"),
    "export_share": ("出口收入占比", "export share", "share"),
    "ui_premium_paid": ("上年缴纳失业保险费", "unemployment-insurance premiums paid last year", "yuan"),
    "insured_employees": ("参保职工", "insured employees", "count"),
    "layoff_rate": ("上年裁员率", "layoff rate last year", "share"),
    "graduates_hired": ("招用高校毕业生", "graduates hired", "count"),
    "vat_credit_balance": ("增值税期末留抵税额", "VAT input credit carried forward", "yuan"),
    "leases_state_property": ("是否租用国有房产", "rents premises owned by a state entity", "bool"),
    "business_scope": ("经营范围", "registered business scope", "text"),
}
"""``field: (Chinese, English, unit)`` for every profile field: short names, used inside sentences
("研发费用增加 …") as well as beside inputs."""

FIELD_HINTS: dict[str, str] = {
    "employees": "上年平均从业人数",
    "revenue": "上一会计年度",
    "revenue_prev": "上年的前一年",
    "total_assets": "上年末",
    "taxable_income": "上一纳税年度；亏损填负数",
    "rd_expense": "上一会计年度",
    "rd_expense_3y": "近三个会计年度合计",
    "revenue_3y": "近三个会计年度合计",
    "rd_domestic_share": "在中国境内发生的研发费用占全部研发费用的比例",
    "tech_staff": "直接从事研发和相关技术创新活动，以及专门从事上述活动管理和提供直接服务的人员",
    "high_tech_revenue_share": "高新技术产品（服务）收入占同期总收入的比例",
    "main_business_share": "主营业务收入占营业收入的比例",
    "invention_patents": "已授权、仍有效的发明专利",
    "class1_ip": "发明专利、植物新品种、国家级农作物品种、国家新药、集成电路布图设计等",
    "class2_ip": "实用新型专利、外观设计专利、软件著作权等",
    "equity_financing_2y": "近两年新增股权融资总额（实缴）",
    "ui_premium_paid": "上年实际缴纳的失业保险费",
    "layoff_rate": "上年裁员人数占参保职工人数的比例",
    "graduates_hired": "今年招用、离校2年内并参加失业保险的高校毕业生",
    "vat_credit_balance": "增值税期末留抵税额",
}
"""A line of explanation shown under some fields' inputs (Chinese)."""

CHOICE_LABELS: dict[str, dict[str, str]] = {
    "ownership": {"private": "民营", "state": "国有", "foreign": "外资", "collective": "集体", "other": "其他"},
    "tax_credit_rating": {"A": "A级", "B": "B级", "M": "M级", "C": "C级", "D": "D级"},
}
"""Chinese names of the values of each ``choice`` field."""
