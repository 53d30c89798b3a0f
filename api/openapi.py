"""OpenAPI helpers: documented error responses, hand-parsed bodies, and the extra schemas.

Bodies parsed by :mod:`api.bodies` are documented with ``openapi_extra`` pointing at the
domain models' JSON schemas, which :func:`install_openapi` adds to ``components``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.schemas import ErrorBody
from recommender import FirmProfile, OutcomeRecord
from recommender import SubscriptionRequest

_REASONS = {
    401: "no API key, or an unknown one",
    403: "the key's role may not use this endpoint",
    404: "unknown policy or job",
    409: "conflict: result not ready, or a reload refused",
    413: "body too large, or too many items (use POST /v1/jobs)",
    415: "unsupported content or file type",
    422: "invalid input: each issue names the field path and the reason",
    503: "not ready, or the database unavailable (unreachable, locked, its file deleted): nothing was stored",
}
BODY_MODELS: tuple[type, ...] = (FirmProfile, OutcomeRecord)
BODY_MODELS += (SubscriptionRequest,)

EXAMPLE_PROFILE: dict[str, Any] = {
    "firm_id": "CQ-001", "name": "重庆渝北精工汽车零部件有限公司", "region_code": "500112",
    "industry_code": "C3670", "established_on": "2015-03-18", "ownership": "private",
    "listed": False, "employees": 180, "revenue": 48_000_000.0, "revenue_prev": 40_000_000.0,
    "total_assets": 36_000_000.0, "taxable_income": 2_400_000.0, "rd_expense": 2_880_000.0,
    "rd_expense_3y": 7_500_000.0, "revenue_3y": 125_000_000.0, "rd_staff": 30, "tech_staff": 40,
    "high_tech_revenue_share": 0.65, "invention_patents": 2, "class1_ip": 2, "class2_ip": 9,
    "certifications": ["tech_sme", "innovative_sme"], "tax_credit_rating": "A",
    "dishonest_record": False, "major_incident_last_year": False, "insured_employees": 175,
    "graduates_hired": 6, "vat_credit_balance": 850_000.0,
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for the given error statuses, all with :class:`ErrorBody`."""
    return {code: {"model": ErrorBody, "description": _REASONS[code]} for code in codes}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(model: str, *, array: bool = False, max_items: int | None = None,
              example: Any = None, extra_content: dict[str, Any] | None = None) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body of ``model`` (or a list of it)."""
    schema: dict[str, Any] = {"type": "array", "items": _ref(model)} if array else _ref(model)
    if array and max_items is not None:
        schema["description"] = f"at most {max_items} items; more gets 413 (use POST /v1/jobs)"
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    content = {"application/json": media, **(extra_content or {})}
    return {"requestBody": {"required": True, "content": content}}


def install_openapi(app: FastAPI) -> None:
    """Generate the schema once, with the body models' schemas in ``components``."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes, tags=app.openapi_tags)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in BODY_MODELS:
            js = model.model_json_schema(ref_template="#/components/schemas/{model}")  # type: ignore[attr-defined]  # the models listed are pydantic models
            components.update(js.pop("$defs", {}))
            components[model.__name__] = js
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]  # FastAPI's documented way to replace the schema builder
