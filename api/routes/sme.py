"""GET /: the SME self-check page (server-rendered; ``api/static/sme.js`` asks the follow-up
questions and shows the result, calling the public API).

The page is filled from the domain: Chongqing's districts (GB/T 2260), the titles a firm may
hold, and every profile field's Chinese name, unit and hint, so the follow-up questions the
result asks for (``next_questions``) are put in words and in the units people use (万元, %).
Nothing about the firm is stored: the answers live in the page and, for a shared link, in the
URL fragment, which browsers never send to a server.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep
from api.pages import render
from recommender import CERTIFICATION_LABELS, CHOICE_LABELS, FIELD_HINTS, FIELD_LABELS, districts_of

router = APIRouter(include_in_schema=False)

CHONGQING = "500000"


def field_meta() -> dict[str, dict[str, Any]]:
    """``field → {zh, en, unit, hint, choices}`` for the page's questions."""
    return {field: {"zh": zh, "en": en, "unit": unit, "hint": FIELD_HINTS.get(field, ""),
                    "choices": CHOICE_LABELS.get(field, {})}
            for field, (zh, en, unit) in FIELD_LABELS.items()}


@router.get("/", response_class=HTMLResponse)
async def sme_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    districts = districts_of(CHONGQING, settings.data_dir)
    titles = [{"id": cert, "en": en, "zh": zh} for cert, (en, zh) in CERTIFICATION_LABELS.items()]
    return render(request, "sme.html", nav="sme", districts=districts, titles=titles,
                  meta={"fields": field_meta(), "titles": titles,
                        "districts": {d["code"]: d["name_zh"] for d in districts}})
