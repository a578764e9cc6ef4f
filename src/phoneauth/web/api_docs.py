"""Swagger UI at /docs from local files, so it works offline.

FastAPI's own page loads Swagger UI from a CDN and stays blank without the internet; the files
come from the `fastapi-offline` package's copy of Swagger UI 5 (its package data, found through
`importlib.resources`). No validator badge: Swagger UI would send the document's public URL to
validator.swagger.io. No /redoc: even from local files, ReDoc loads Redocly's logo from their
CDN on every visit, and /docs covers the same document.

The endpoints are module-level functions reading the app from the request: FastAPI caches keyed
by endpoint function live as long as the process, and would keep a closure's app alive (every
test builds an app).
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

DOCS_URL = "/docs"
DOCS_ASSETS_URL = "/docs/assets"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


async def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    app: FastAPI = request.app
    return get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
        swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
        swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
    )


async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


router = APIRouter(include_in_schema=False)
router.add_api_route(DOCS_URL, swagger_ui, methods=["GET"])
router.add_api_route(OAUTH2_REDIRECT_URL, swagger_ui_redirect, methods=["GET"])


def install_api_docs(app: FastAPI) -> None:
    """/docs and the files it loads; build the app with `docs_url=None, redoc_url=None`."""
    assets = files("fastapi_offline") / "static"
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=str(assets)), name="api-docs-assets")
    app.include_router(router)
