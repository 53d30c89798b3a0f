"""GET /v1/reference/regions and /industries (SPEC §8): exact top hits for what people type,
bounded input (422 naming the field), public and in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

Clients = dict[Any, httpx.Client]


def codes(client: httpx.Client, path: str, **params: Any) -> list[str]:
    r = client.get(f"/v1/reference/{path}", params=params)
    assert r.status_code == 200, r.text
    return [item["code"] for item in r.json()["items"]]


@pytest.mark.parametrize(("q", "top"), [
    ("渝北区", ["500112"]),                       # the whole name
    ("渝北", ["500112"]),                         # a prefix of it
    ("500112", ["500112"]),                       # the code itself
    ("九龙坡", ["500107"]),
])
def test_regions_find_the_district(clients: Clients, q: str, top: list[str]) -> None:
    assert codes(clients[None], "regions", q=q)[:len(top)] == top


def test_region_items_carry_name_level_and_province(clients: Clients) -> None:
    r = clients[None].get("/v1/reference/regions", params={"q": "渝北区"})
    assert r.json() == {"items": [{"code": "500112", "name_zh": "渝北区", "level": "county",
                                   "province_code": "500000", "province_zh": "重庆市"}]}


def test_region_code_prefix_lists_in_code_order_and_limit_bounds(clients: Clients) -> None:
    assert codes(clients[None], "regions", q="50011", limit=5) == ["500110", "500111", "500112", "500113", "500114"]
    assert codes(clients[None], "regions", q="5001", limit=1) == ["500100"]


def test_same_name_in_two_provinces_and_the_province_filter(clients: Clients) -> None:
    assert codes(clients[None], "regions", q="朝阳区") == ["110105", "220104"]
    assert codes(clients[None], "regions", q="朝阳区", province="220000") == ["220104"]
    assert codes(clients[None], "regions", q="朝阳区", province="500000") == []


def test_industry_words_put_the_class_first(clients: Clients) -> None:
    r = clients[None].get("/v1/reference/industries", params={"q": "汽车零部件", "limit": 3})
    assert r.json()["items"][0] == {"code": "C3670", "name_zh": "汽车零部件及配件制造", "level": "class",
                                    "section": "C"}
    assert codes(clients[None], "industries", q="汽车零部件", limit=3) == ["C3670", "C367", "C3752"]
    assert codes(clients[None], "industries", q="汽车 零部件", limit=2) == ["C3670", "C367"]   # words, any order
    assert codes(clients[None], "industries", q="模具") == ["C3525"]
    assert codes(clients[None], "industries", q="软件开发", limit=5) == ["I651", "I6511", "I6512", "I6513", "I6519"]


def test_industry_pinyin_and_initials(clients: Clients) -> None:
    assert codes(clients[None], "industries", q="qclbj") == ["C3670", "C367"]         # 汽车零部件…
    assert codes(clients[None], "industries", q="QCZC") == ["C361"]                   # 汽车整车制造, any case
    assert codes(clients[None], "industries", q="qichezhengche") == ["C361"]          # full pinyin
    # initials are ambiguous: 蜜饯制作 and 模具制造 are both mjzz (standard order), then a name containing them
    assert codes(clients[None], "industries", q="mjzz") == ["C1422", "C3525", "C142"]
    assert codes(clients[None], "industries", q="mujuzhizao") == ["C3525"]


def test_everyday_words_for_a_trade(clients: Clients) -> None:
    assert codes(clients[None], "industries", q="火锅") == ["H6210", "C1469"]      # 正餐服务; 火锅底料 → 调味品
    assert codes(clients[None], "industries", q="火锅底料") == ["C1469"]
    assert codes(clients[None], "industries", q="电商") == ["F5292"]               # 互联网零售
    assert codes(clients[None], "industries", q="小程序") == ["I6513"]             # 应用软件开发
    assert codes(clients[None], "industries", q="装修", limit=2) == ["E5012", "E5011"]


def test_industry_codes_and_prefixes(clients: Clients) -> None:
    assert codes(clients[None], "industries", q="C3670") == ["C3670"]
    assert codes(clients[None], "industries", q="3670") == ["C3670"]
    assert codes(clients[None], "industries", q="c367") == ["C367", "C3670"]
    assert codes(clients[None], "industries", q="36", limit=3) == ["C36", "C361", "C362"]
    assert codes(clients[None], "industries", q="A36") == []                       # division 36 is in C
    assert codes(clients[None], "industries", q="C", limit=1) == ["C"]               # a lone section letter


def test_nothing_found_is_an_empty_list(clients: Clients) -> None:
    assert codes(clients[None], "industries", q="不存在的行业名称") == []
    assert codes(clients[None], "regions", q="999999") == []


@pytest.mark.parametrize(("path", "params", "field"), [
    ("industries", {"q": ""}, "query.q"),
    ("industries", {"q": "   "}, "query.q"),
    ("industries", {"q": "汽" * 51}, "query.q"),
    ("industries", {}, "query.q"),
    ("industries", {"q": "汽车", "limit": 0}, "query.limit"),
    ("industries", {"q": "汽车", "limit": 51}, "query.limit"),
    ("regions", {"q": ""}, "query.q"),
    ("regions", {"q": "渝" * 51}, "query.q"),
    ("regions", {"q": "渝北", "limit": 51}, "query.limit"),
    ("regions", {"q": "渝北", "province": "50"}, "query.province"),
])
def test_bad_queries_are_422_naming_the_field(clients: Clients, path: str, params: dict[str, Any], field: str) -> None:
    r = clients[None].get(f"/v1/reference/{path}", params=params)
    assert r.status_code == 422
    assert [i["field"] for i in r.json()["issues"]] == [field]


def test_limits_at_the_bounds(clients: Clients) -> None:
    assert len(codes(clients[None], "industries", q="制造", limit=50)) == 50
    assert len(codes(clients[None], "industries", q="制造", limit=1)) == 1
    assert codes(clients[None], "industries", q="汽" * 50) == []                     # 50 characters: accepted


def test_lookups_are_public_and_documented(clients: Clients) -> None:
    spec = clients[None].get("/openapi.json").json()
    for path, example in (("/v1/reference/regions", "500112"), ("/v1/reference/industries", "C3670")):
        op = spec["paths"][path]["get"]
        assert {p["name"] for p in op["parameters"]} >= {"q", "limit"}
        assert "reference" in op["tags"]
    assert clients[None].get("/v1/reference/industries", params={"q": "汽车"}).status_code == 200   # no key
