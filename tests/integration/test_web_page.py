"""The web page in a real browser (Debian's chromium through Playwright) against `spotrec serve`
over a tiny build whose answers are known by construction.

The catalogue: two seeds, "Morning Light" (Aurora Fields) and "Night Drive" (Neon Coast). Each
seed's cosine list holds the other seed or a variant of it ("Morning Light" live, same song),
which the API must drop. With 2 recommendations per song the API interleaves the seeds' best
remaining tracks: Dawn Chorus, City Lights, Quiet Harbour, Chrome Hearts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from serve_support import serving, store_environment, write_build

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000

# key: (name, artists, album, genres, popularity)
CATALOGUE = {
    "morning_light": ("Morning Light", ["Aurora Fields"], "Sunrise Sessions", ["acoustic"], 80),
    "morning_light_live": ("Morning Light", ["Aurora Fields"], "Live at Home", ["acoustic"], 40),
    "night_drive": ("Night Drive", ["Neon Coast"], "Midnight Radio", ["synth-pop"], 70),
    "dawn_chorus": ("Dawn Chorus", ["Aurora Fields"], "Sunrise Sessions", ["acoustic"], 55),
    "quiet_harbour": (
        "Quiet Harbour",
        ["Willow Lane", "Sea Glass"],
        "Tides",
        ["acoustic", "folk"],
        50,
    ),
    "city_lights": (
        "City Lights",
        ["Neon Coast"],
        "Midnight Radio",
        ["electronic", "synth-pop"],
        60,
    ),
    "chrome_hearts": ("Chrome Hearts", ["Velvet Static"], "Analog Dreams", ["synth-pop"], 45),
    "paper_boats": ("Paper Boats", ["Willow Lane"], "Tides", ["folk"], 35),
    "static_bloom": ("Static Bloom", ["Velvet Static"], "Analog Dreams", ["electronic"], 30),
    "morning_coffee": ("Morning Coffee", ["The Kettles"], "Breakfast Club", ["indie-pop"], 50),
}
SONG_OF = {"morning_light_live": "morning_light"}  # a variant: same title, same artists
SEED_LISTS = {  # the seeds' cosine neighbours, rank order, with scores
    "morning_light": [
        ("dawn_chorus", 0.95),
        ("night_drive", 0.90),
        ("quiet_harbour", 0.85),
        ("paper_boats", 0.80),
    ],
    "night_drive": [
        ("city_lights", 0.96),
        ("morning_light_live", 0.91),
        ("chrome_hearts", 0.88),
        ("static_bloom", 0.83),
    ],
}
TOP_N = 4
EXPECTED_PER_SONG_2 = ["dawn_chorus", "city_lights", "quiet_harbour", "chrome_hearts"]


def track_id(key: str) -> str:
    """A valid 22-character base-62 id that reads like its track."""
    return re.sub(r"[^0-9A-Za-z]", "", key.title())[:20].ljust(20, "0") + "01"


def write_tiny_build(out: Path) -> Path:
    from spotrec import schema

    rows = []
    for index, (key, (name, artists, album, genres, popularity)) in enumerate(CATALOGUE.items()):
        features = {f: 0.5 for f in schema.AUDIO_FEATURES} | {
            "key": 5,
            "mode": 1,
            "tempo": 120.0,
            "loudness": -8.0,
            "time_signature": 4,
        }
        rows.append(
            {
                schema.TRACK_ID: track_id(key),
                schema.NAME: name,
                schema.ARTISTS: artists,
                schema.ALBUM: album,
                schema.POPULARITY: popularity,
                schema.DURATION_MS: 200_000 + index,
                schema.EXPLICIT: False,
                **features,
                schema.GENRES: sorted(genres),
                schema.SONG_ID: SONG_OF.get(key, key),
                schema.HOLDOUT: False,
                schema.FIRST_ROW: index,
            }
        )
    neighbour_rows = []
    for key in CATALOGUE:
        ranked = (
            SEED_LISTS.get(key)
            or [  # the other songs, in catalogue order
                (other, 0.5)
                for other in CATALOGUE
                if SONG_OF.get(other, other) != SONG_OF.get(key, key) and other not in SONG_OF
            ][:TOP_N]
        )
        for rank, (other, score) in enumerate(ranked, start=1):
            neighbour_rows.append((track_id(key), rank, track_id(other), score))
    manifest_fields = {
        "run_id": "20240101T000000Z-webtest0",
        "created": "2024-01-01T00:00:00+00:00",
        "models": ["cosine"],
        "default_model": "cosine",
        "top_n": TOP_N,
        "counts": {
            "rows_read": len(rows),
            "rows_rejected": 0,
            "tracks": len(rows),
            "songs": len(rows) - len(SONG_OF),
            "variant_tracks": 2,
        },
    }
    return write_build(out, rows, neighbour_rows, manifest_fields)


@pytest.fixture(scope="module")
def site_url(tmp_path_factory) -> Iterator[str]:
    from spotrec.server import make_server

    build = write_tiny_build(tmp_path_factory.mktemp("web-build"))
    with store_environment(), serving(make_server(build, port=0)) as server:  # SQLite, no events
        yield server.url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser, site_url):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.goto(site_url + "/")
    yield opened
    context.close()
    assert problems == [], f"JavaScript errors on the page: {problems}"


def search_and_pick(page, text: str, key: str) -> None:
    page.get_by_test_id("search-input").fill(text)
    page.locator(f'[data-testid="search-option"][data-track-id="{track_id(key)}"]').click()


def picked_ids(page) -> list[str]:
    chips = page.get_by_test_id("seed-chip")
    return [chips.nth(i).get_attribute("data-track-id") for i in range(chips.count())]


def test_search_pick_two_songs_and_get_recommendations(page, repo_root: Path):
    from playwright.sync_api import expect

    # Search as you type: "morn" matches both Morning Lights and Morning Coffee.
    page.get_by_test_id("search-input").press_sequentially("morn", delay=30)
    options = page.get_by_test_id("search-option")
    expect(options).to_have_count(3)
    expect(options.first).to_contain_text("Morning Light")
    expect(options.first).to_contain_text("Aurora Fields")
    options.filter(has_text="Morning Coffee").wait_for()
    page.locator(f'[data-track-id="{track_id("morning_light")}"]').click()

    # The second one with the keyboard: the most popular "neon" match is Night Drive.
    page.get_by_test_id("search-input").press_sequentially("neon", delay=30)
    expect(page.get_by_test_id("search-option").first).to_contain_text("Night Drive")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("seed-chip")).to_have_count(2)
    assert picked_ids(page) == [track_id("morning_light"), track_id("night_drive")]

    page.get_by_test_id("count-input").fill("2")
    page.get_by_test_id("mode-per-seed").check()
    page.get_by_test_id("recommend-button").click()

    rows = page.get_by_test_id("result-row")
    expect(rows).to_have_count(len(EXPECTED_PER_SONG_2))
    ids = [rows.nth(i).get_attribute("data-track-id") for i in range(rows.count())]
    assert ids == [track_id(key) for key in EXPECTED_PER_SONG_2]
    excluded = {track_id(k) for k in ("morning_light", "morning_light_live", "night_drive")}
    assert excluded.isdisjoint(ids)  # seeds and their variants never come back

    harbour = rows.nth(2)
    expect(harbour.get_by_test_id("result-name")).to_have_text("Quiet Harbour")
    expect(harbour.get_by_test_id("result-artists")).to_have_text("Willow Lane, Sea Glass")
    expect(harbour.get_by_test_id("result-album")).to_have_text("Tides")
    expect(harbour.get_by_test_id("result-genres")).to_contain_text("folk")
    expect(harbour.get_by_test_id("result-score")).to_contain_text("0.850")
    link = harbour.get_by_test_id("result-link")
    expect(link).to_have_attribute(
        "href", f"https://open.spotify.com/track/{track_id('quiet_harbour')}"
    )
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    expect(page.get_by_test_id("message")).to_have_text(
        "4 recommendations for 2 songs, up to 2 per song."
    )
    expect(page.get_by_test_id("error")).to_be_hidden()

    artifacts = repo_root / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "web-page.png"), full_page=True)

    # In total instead of per song: reciprocal rank fusion, the earlier seed wins ties.
    page.get_by_test_id("mode-total").check()
    page.get_by_test_id("count-input").fill("3")
    page.get_by_test_id("recommend-button").click()
    expect(rows).to_have_count(3)
    expect(rows.first.get_by_test_id("result-name")).to_have_text("Dawn Chorus")
    expect(rows.nth(1).get_by_test_id("result-name")).to_have_text("City Lights")


def test_api_errors_and_the_five_seed_limit_are_explained(page):
    from playwright.sync_api import expect

    error = page.get_by_test_id("error")
    page.get_by_test_id("recommend-button").click()  # nothing picked yet
    expect(error).to_contain_text("Pick at least one song")

    search_and_pick(page, "morning light", "morning_light")
    # This release was built with the cosine model only: the API refuses the transformer (offered
    # by the page's fallback list, or by a page loaded before the release changed).
    page.eval_on_selector(
        '[data-testid="model-select"]',
        "s => [...s.options].some(o => o.value === 'transformer')"
        " || s.add(new Option('transformer'))",
    )
    page.get_by_test_id("model-select").select_option("transformer")
    page.get_by_test_id("recommend-button").click()
    expect(error).to_be_visible()
    expect(error).to_contain_text("transformer")
    expect(page.get_by_test_id("results")).to_be_hidden()

    for text, key in [
        ("neon", "night_drive"),
        ("dawn", "dawn_chorus"),
        ("quiet", "quiet_harbour"),
        ("chrome", "chrome_hearts"),
    ]:
        search_and_pick(page, text, key)
    expect(page.get_by_test_id("seed-chip")).to_have_count(5)
    expect(page.get_by_test_id("seed-count")).to_have_text("5 of 5 songs picked.")
    search_and_pick(page, "paper", "paper_boats")
    expect(error).to_contain_text("up to 5 songs")
    expect(page.get_by_test_id("seed-chip")).to_have_count(5)

    page.get_by_role("button", name="Remove Dawn Chorus").click()
    expect(page.get_by_test_id("seed-chip")).to_have_count(4)
    assert track_id("dawn_chorus") not in picked_ids(page)

    page.get_by_test_id("search-input").fill("zzzz")
    expect(page.get_by_test_id("search-results")).to_contain_text("No songs match")


def test_page_assets_are_local(page, site_url):
    """No CDN: every script and stylesheet comes from our own server (the page works offline)."""
    sources = page.eval_on_selector_all(
        "script[src], link[href]", "nodes => nodes.map(n => n.src || n.href)"
    )
    assert sources and all(s.startswith((site_url, "data:")) for s in sources), sources
    assert page.evaluate("document.documentElement.lang") == "en"
