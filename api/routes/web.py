"""GET /: the SME's page (plain HTML + a little JS from ``api/web/``, no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
router = APIRouter(tags=["web"])


@router.get("/", response_class=HTMLResponse, summary="Web page: check a firm's eligibility")
def index() -> HTMLResponse:
    """A form posting a profile to POST /v1/match; renders eligible policies with their
    estimated value, reasons and what is missing."""
    return HTMLResponse((WEB_DIR / "index.html").read_text(encoding="utf-8"))
