"""The demo page and its files, served from this package: no build step, no CDN.

Plotly's JavaScript comes from the ``plotly`` Python package (``package_data/plotly.min.js``).
"""

from __future__ import annotations

from pathlib import Path

import plotly
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent / "static"
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
_FILES = {"app.js": "text/javascript", "style.css": "text/css"}

# The page renders model text with textContent only; the policy is a second line of defence.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_HEADERS = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=_HEADERS)


@router.get("/favicon.ico")
async def favicon() -> Response:
    return Response(status_code=204)  # no icon; saves browsers a logged 404


@router.get("/static/plotly.min.js")
async def plotly_js() -> FileResponse:
    return FileResponse(PLOTLY_JS, media_type="text/javascript",
                        headers={**_HEADERS, "Cache-Control": "public, max-age=86400"})


@router.get("/static/{name}")
async def static_file(name: str) -> FileResponse:
    if name not in _FILES:
        raise HTTPException(404, f"static/{name[:60]}: not found")
    return FileResponse(STATIC_DIR / name, media_type=_FILES[name], headers=_HEADERS)
