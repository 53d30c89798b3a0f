"""GET /docs and /redoc: Swagger UI and ReDoc from assets shipped with the app, never a CDN.

Government intranets are offline: the pages FastAPI builds by default load their scripts,
styles, favicon and fonts from the internet and stay blank there. The assets come from the
``fastapi-offline`` package (Swagger UI and ReDoc bundles, served at :data:`ASSETS_URL`);
the pages are FastAPI's own, pointed at them. Swagger UI's online validator badge is off, and
ReDoc's bundle is served with its one fetched image (the "API docs by Redocly" logo, from a
CDN) pointed at the app's own icon instead.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response

ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/apidocs-assets"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
REDOC_JS_URL = "/apidocs/redoc.standalone.js"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
LOCAL_LOGO = "/static/favicon.svg"

router = APIRouter(include_in_schema=False)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    return get_swagger_ui_html(openapi_url=f"{root}{request.app.openapi_url}",
                               title=f"{request.app.title} · API 文档 (Swagger UI)",
                               oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
                               swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
                               swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
                               swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
                               swagger_ui_parameters={"validatorUrl": None})


@router.get(OAUTH2_REDIRECT_URL)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    return get_redoc_html(openapi_url=f"{root}{request.app.openapi_url}",
                          title=f"{request.app.title} · API 文档 (ReDoc)",
                          redoc_js_url=f"{root}{REDOC_JS_URL}",
                          redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png", with_google_fonts=False)


@lru_cache(maxsize=1)
def redoc_bundle() -> bytes:
    """ReDoc's standalone bundle with its CDN logo replaced by the app's icon."""
    text = (ASSETS_DIR / "redoc.standalone.js").read_text(encoding="utf-8")
    return text.replace(REDOC_LOGO, LOCAL_LOGO).encode("utf-8")


@router.get(REDOC_JS_URL)
async def redoc_js() -> Response:
    return Response(redoc_bundle(), media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=86400"})
