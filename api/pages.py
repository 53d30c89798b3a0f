"""Server-rendered pages: Jinja2 templates under ``api/templates``, assets under ``api/static``.

Every asset a page uses is served by the app itself (``/static``): users sit on government
intranets without internet, so no page may load anything from elsewhere (browser tests check
it). Templates extend ``base.html`` (Chinese first, English beside).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent
TEMPLATE_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
"""The one template environment (autoescaping on: every value a page shows is escaped)."""


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render template ``name`` with ``context`` (``request`` is always available to it)."""
    return templates.TemplateResponse(request, name, context, status_code=status_code)
