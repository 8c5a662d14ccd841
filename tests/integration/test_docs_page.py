"""/docs in `spotrec serve`: Swagger UI, served from the installed swagger-ui-py package (no
CDN: every request the page makes stays on 127.0.0.1), renders the API's OpenAPI 3.1 document
with every route of the table, in Debian's chromium."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from api_support import serve, write_synthetic_build
from spotrec_serving.routes import ROUTES

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def test_swagger_ui_renders_every_route_offline(tmp_path, monkeypatch):
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    build = write_synthetic_build(tmp_path / "build", n_tracks=12, n_genres=3)
    requested_hosts: set[str] = set()
    with serve(build.path) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested_hosts.add(urlsplit(request.url).netloc))
            page.goto(f"{url}/docs")
            page.wait_for_selector(".opblock-summary-path", timeout=15_000)
            shown = {
                (block.get_attribute("data-path") or block.inner_text()).replace("\u200b", "")
                for block in page.query_selector_all(".opblock-summary-path")
            }
            info = page.inner_text(".info")
        finally:
            browser.close()
    assert shown == {route.path for route in ROUTES}
    assert "OAS 3.1" in info  # Swagger UI 5 reads 3.1 documents (4.x refused them)
    assert requested_hosts == {urlsplit(url).netloc}
