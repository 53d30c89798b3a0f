"""The lookups' data and the field names people see: the committed pinyin table is what
pypinyin builds, every profile field has a Chinese name and a unit, and the questions asked of
a firm never show a raw field name."""

from __future__ import annotations

import re

import pytest

from recommender.profile import (FIELD_LABELS, PROFILE_KINDS, districts_of, find_industries, load_reference)
from recommender.profile.lookup import MAX_QUERY_CHARS
from recommender.profile.pinyin import TABLE_NAME, render_table
from recommender.settings import DEFAULT_DATA_DIR
from recommender.advice.questions import Pending, next_questions


def test_committed_pinyin_table_is_a_fresh_build() -> None:
    pytest.importorskip("pypinyin")
    committed = (DEFAULT_DATA_DIR / "reference" / TABLE_NAME).read_text(encoding="utf-8")
    assert committed == render_table(load_reference())
    assert "C3670,qi che ling bu jian ji pei jian zhi zao,qclbjjpjzz\n" in committed
    assert "M7517,san wei 3d da yin ji shu tui guang fu wu,sw3dyjstgfw\n" in committed   # 三维（3D）打印…


def test_every_profile_field_has_a_chinese_name_and_a_unit_fitting_its_kind() -> None:
    assert set(FIELD_LABELS) == set(PROFILE_KINDS)
    fits = {"number": {"yuan", "share", "count", "years"}, "bool": {"bool"}, "date": {"date"},
            "category": {"choice"}, "set": {"titles"}, "code": {"code"}, "text": {"text"}}
    for field, (zh, en, unit) in FIELD_LABELS.items():
        assert re.search(r"[\u4e00-\u9fff]", zh) and "_" not in zh and "_" not in en, field
        assert unit in fits[PROFILE_KINDS[field]], field


def test_questions_name_the_fact_in_words_never_the_field() -> None:
    asked = next_questions([Pending("p1", ("total_assets", "class1_ip"), 1000.0),
                            Pending("p2", ("tax_credit_rating",), None)])
    assert [(q["field"], q["question_zh"]) for q in asked] == [
        ("class1_ip", "请提供：I类知识产权"), ("total_assets", "请提供：资产总额"),
        ("tax_credit_rating", "请提供：纳税信用等级")]
    assert all(q["field"] not in q["question"] + q["question_zh"] for q in asked)


def test_chongqing_has_its_38_districts_and_counties_in_code_order() -> None:
    rows = districts_of("500000")
    assert len(rows) == 38 and rows[0]["code"] == "500101" and rows[-1]["code"] == "500243"
    assert {"code": "500112", "name_zh": "渝北区", "level": "county", "province_code": "500000",
            "province_zh": "重庆市"} in rows


@pytest.mark.parametrize("q", ["", "   ", "x" * (MAX_QUERY_CHARS + 1)])
def test_the_domain_refuses_what_the_api_refuses(q: str) -> None:
    with pytest.raises(ValueError, match="^q must"):
        find_industries(q)
    assert find_industries("x" * MAX_QUERY_CHARS) == []
