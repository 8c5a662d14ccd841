"""The web page's files for `spotrec serve`: the page itself (batch/spotrec/web/) and the /docs
page (Swagger UI over /v1/openapi.json, its assets from the swagger-ui-py package).

A URL path resolves to a file only inside its directory (no ``..`` escapes, no NUL bytes).
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import unquote

WEB_DIR = Path(__file__).resolve().parent / "web"
DOCS_PAGE = "/docs"  # Swagger UI over /v1/openapi.json; its files come from swagger-ui-py
DOCS_ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
}


def swagger_ui_dir() -> Path | None:
    """Swagger UI's static files (the swagger-ui-py package, batch extra), or None."""
    try:
        import swagger_ui
    except ImportError:
        return None
    return Path(swagger_ui.__file__).resolve().parent / "static"


def docs_file(url_path: str, web_dir: Path = WEB_DIR) -> Path | None:
    """The file of the /docs page a URL path names (None: not a /docs path, or missing)."""
    if url_path in (DOCS_PAGE, DOCS_PAGE + "/"):
        return static_file("/docs.html", web_dir)
    name = url_path.removeprefix(DOCS_PAGE + "/")
    assets = swagger_ui_dir()
    if name == url_path or name not in DOCS_ASSETS or assets is None:
        return None
    return static_file("/" + name, assets)


def static_file(url_path: str, web_dir: Path = WEB_DIR) -> Path | None:
    """The web page file a URL path names, or None when it is missing or outside web_dir."""
    relative = posixpath.normpath(unquote(url_path)).lstrip("/")
    if relative in ("", "."):
        relative = "index.html"
    root = web_dir.resolve()
    try:
        candidate = (root / relative).resolve()
        found = candidate.is_relative_to(root) and candidate.is_file()
    except (OSError, ValueError):  # e.g. an embedded NUL byte
        return None
    return candidate if found else None
