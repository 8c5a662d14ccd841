"""The page's feedback loop in a real browser (Debian's chromium through Playwright) against
`spotrec serve` over the tiny build of test_web_page.py: like two results, skip one, ask again;
the skipped track is gone, the session panel lists them, and the events are in the SQLite event
store beside the build."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_web_page import (  # noqa: F401 (browser is a fixture)
    TIMEOUT_MS,
    browser,
    search_and_pick,
    track_id,
    write_tiny_build,
)

from serve_support import serving, store_environment

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture(scope="module", params=["spotify", "synthetic"])
def site(request, tmp_path_factory) -> Iterator[tuple[str, Path, str]]:
    from spotrec import manifest
    from spotrec.server import make_server
    from spotrec.writers.sqlite import write_store

    build = write_tiny_build(tmp_path_factory.mktemp("web-session-build"))
    if request.param == "synthetic":  # as `spotrec demo` builds it: --synthetic
        manifest.write_manifest(build, manifest.read_manifest(build) | {"synthetic": True})
        write_store(build)
    # SQLite store and the build's events file: no AWS variables leak in from the environment
    with store_environment(), serving(make_server(build, port=0)) as server:
        yield server.url, build, request.param


@pytest.fixture
def page(browser, site):  # noqa: F811 (browser: the imported fixture)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.goto(site[0] + "/")
    yield opened
    context.close()
    assert problems == [], f"JavaScript errors on the page: {problems}"


def result_ids(page) -> list[str]:
    rows = page.get_by_test_id("result-row")
    return [rows.nth(i).get_attribute("data-track-id") for i in range(rows.count())]


def row(page, key: str):
    return page.locator(f'[data-testid="result-row"][data-track-id="{track_id(key)}"]')


def test_like_two_skip_one_and_the_skipped_track_is_gone(page, site):
    from playwright.sync_api import expect

    from spotrec_serving.sqlite_event_store import SqliteEventStore

    search_and_pick(page, "morning light", "morning_light")
    search_and_pick(page, "night drive", "night_drive")
    page.get_by_test_id("mode-total").check()
    page.get_by_test_id("count-input").fill("6")
    page.get_by_test_id("recommend-button").click()
    expect(page.get_by_test_id("result-row")).to_have_count(6)
    assert track_id("chrome_hearts") in result_ids(page)
    # The API's reason, shown as it says it: Dawn Chorus is 1st in Morning Light's list, by the
    # same artist, in the same genre, and every track of this build has tempo 120, energy 0.5.
    reason = row(page, "dawn_chorus").get_by_test_id("result-reason")
    expect(reason).to_have_text(
        "From “Morning Light”: same artist (Aurora Fields), shared genre (acoustic), "
        "close tempo (120 BPM), similar energy (0.50)"
    )
    expect(reason).to_have_attribute(
        "data-kinds", "same_artist shared_genre close_tempo close_energy"
    )
    # City Lights is in Night Drive's list only: Neon Coast, synth-pop
    expect(row(page, "city_lights").get_by_test_id("result-reason")).to_contain_text(
        "From “Night Drive”: same artist (Neon Coast), shared genre (synth-pop)"
    )

    row(page, "dawn_chorus").get_by_test_id("result-like").click()
    expect(page.get_by_test_id("session-liked-item")).to_have_count(1)
    row(page, "city_lights").get_by_test_id("result-like").click()
    expect(page.get_by_test_id("session-liked-item")).to_have_count(2)
    row(page, "chrome_hearts").get_by_test_id("result-skip").click()
    expect(page.get_by_test_id("session-skipped-item")).to_have_count(1)
    # The list updated in place, without the skipped track.
    expect(row(page, "chrome_hearts")).to_have_count(0)
    expect(page.get_by_test_id("error")).to_be_hidden()

    page.get_by_test_id("recommend-button").click()  # ask again
    expect(page.get_by_test_id("message")).to_contain_text("recommendations for 2 songs")
    assert track_id("chrome_hearts") not in result_ids(page)
    assert result_ids(page)  # still an answer

    store = SqliteEventStore(site[1] / "events.sqlite")
    stored = sorted((e["track_id"], e["event"]) for e in store.iter_events())
    assert stored == sorted(
        [
            (track_id("dawn_chorus"), "like"),
            (track_id("city_lights"), "like"),
            (track_id("chrome_hearts"), "skip"),
        ]
    )
    (session_id,) = {e["session_id"] for e in store.iter_events()}
    assert page.evaluate("window.spotrecSession.id") == session_id

    page.get_by_test_id("session-clear").click()
    expect(page.get_by_test_id("session-panel")).to_be_hidden()
    assert page.evaluate("window.spotrecSession.id") != session_id


def test_synthetic_catalogues_show_no_dead_spotify_links(page, site):
    from playwright.sync_api import expect

    search_and_pick(page, "morning light", "morning_light")
    page.get_by_test_id("recommend-button").click()
    expect(page.get_by_test_id("result-row").first).to_be_visible()
    if site[2] == "synthetic":
        expect(page.get_by_test_id("result-link")).to_have_count(0)
        expect(page.get_by_test_id("score-note")).to_contain_text("synthetic")
    else:
        expect(page.get_by_test_id("result-link").first).to_be_visible()
        expect(page.get_by_test_id("score-note")).not_to_contain_text("synthetic")


def test_a_failed_feedback_shows_the_error(page, site):
    from playwright.sync_api import expect

    search_and_pick(page, "morning light", "morning_light")
    page.get_by_test_id("recommend-button").click()
    expect(page.get_by_test_id("result-row").first).to_be_visible()
    # The API refuses a malformed session id: the page says so instead of failing silently.
    page.evaluate("localStorage.setItem('spotrec.session', '{}')")
    page.route(
        "**/v1/events",
        lambda route: route.fulfill(
            status=400,
            content_type="application/json",
            body='{"error": {"status": 400, "message": "invalid \'session_id\'"}}',
        ),
    )
    page.get_by_test_id("result-like").first.click()
    expect(page.get_by_test_id("error")).to_contain_text("Feedback not recorded: invalid")
