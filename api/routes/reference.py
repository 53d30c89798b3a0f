"""GET /v1/reference/regions and /v1/reference/industries: codes from what a person types (SPEC §8)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from api.deps import PublicDep, SettingsDep
from api.openapi import errors
from recommender import MAX_LIMIT, MAX_QUERY_CHARS, find_industries, find_regions

router = APIRouter(prefix="/v1/reference", tags=["reference"], responses=errors(401, 403, 422))


class RegionItem(BaseModel):
    """An administrative division (GB/T 2260)."""

    code: str
    name_zh: str
    level: str
    province_code: str
    province_zh: str


class IndustryItem(BaseModel):
    """A GB/T 4754-2017 entry; ``code`` is canonical (section letter + digits, ``C3670``)."""

    code: str
    name_zh: str
    level: str
    section: str


class RegionPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [
        {"code": "500112", "name_zh": "渝北区", "level": "county", "province_code": "500000",
         "province_zh": "重庆市"}]}]})
    items: list[RegionItem]


class IndustryPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [
        {"code": "C3670", "name_zh": "汽车零部件及配件制造", "level": "class", "section": "C"}]}]})
    items: list[IndustryItem]


def _text(example: str) -> Any:
    return Query(min_length=1, max_length=MAX_QUERY_CHARS, pattern=r"\S", examples=[example],
                 description=f"what the person typed (1–{MAX_QUERY_CHARS} characters, not only spaces)")


RegionText = Annotated[str, _text("渝北")]
IndustryText = Annotated[str, _text("汽车零部件")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"most hits returned (1–{MAX_LIMIT})")]


@router.get("/regions", response_model=RegionPage, summary="Find a region code by name or code prefix")
async def regions(caller: PublicDep, settings: SettingsDep,
                  q: RegionText, limit: Limit = 10,
                  province: Annotated[str | None, Query(pattern=r"^\d{6}$", description="only this province's "
                                                        "regions, e.g. 500000 (Chongqing)")] = None) -> Any:
    """Chinese names (``渝北`` → 500112 渝北区) and code prefixes (``5001``), best first:
    the whole name or code, then prefixes, then names containing the text."""
    return {"items": find_regions(q, limit, province, settings.data_dir)}


@router.get("/industries", response_model=IndustryPage,
            summary="Find a GB/T 4754-2017 industry by words, pinyin, initials or code")
async def industries(caller: PublicDep, settings: SettingsDep,
                     q: IndustryText, limit: Limit = 10) -> Any:
    """Chinese words (``汽车零部件`` → C3670 汽车零部件及配件制造 first), pinyin (``qiche``) or its
    initials (``qclbj``), and codes or code prefixes (``C367``, ``367``), best first."""
    return {"items": find_industries(q, limit, settings.data_dir)}
