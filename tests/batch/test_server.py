"""`spotrec serve`: HTTP request -> API Gateway event -> lambda_handler -> HTTP response, and the
static web page. The last tests go through the real lambda/app.py over a tiny store."""

from __future__ import annotations

import base64
import http.client
import json
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from serve_support import serving, write_build
from spotrec import server as srv
from spotrec import web_files
from spotrec.errors import SpotrecError
from spotrec_serving.names import artist_id


def fetch(server: srv.SpotrecHTTPServer, method: str, target: str, body: bytes | None = None):
    """(status, headers, body) for a raw request target (no client-side path normalization)."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request(method, target, body=body)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


# --- request -> event ----------------------------------------------------------------------------


def sam_reference_event() -> dict:
    """The event `sam local generate-event apigateway aws-proxy` prints."""
    events = pytest.importorskip("samcli.lib.generated_sample_events.events")
    values = {
        "method": "GET",
        "path": "v1/search",
        "resource": "/v1/search",
        "body": "",
        "stage": "Prod",
        "querystringparameters": '{"q": "x"}',
        "account_id": "123456789012",
        "dns_suffix": "us-east-1.amazonaws.com",
    }
    return json.loads(events.Events().generate_event("apigateway", "aws-proxy", values))


def test_event_has_the_shape_of_sam_aws_proxy_events():
    reference = sam_reference_event()
    event = srv.build_event("GET", "/v1/search?q=x", [("Host", "h"), ("User-Agent", "ua")])
    assert set(event) == set(reference)
    assert set(event["requestContext"]) >= set(reference["requestContext"])
    assert set(event["requestContext"]["identity"]) == set(reference["requestContext"]["identity"])
    context = event["requestContext"]
    assert context["httpMethod"] == "GET" and context["resourcePath"] == "/v1/search"
    assert context["stage"] == "Prod" and context["path"] == "/v1/search"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "ua"
    assert re.fullmatch(r"[0-9a-f-]{36}", context["requestId"])


EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
ROUTE_EVENTS = sorted(
    path
    for path in EVENTS_DIR.glob("*.json")
    if json.loads(path.read_text())["resource"] != "/{proxy+}"
)


@pytest.mark.parametrize("event_file", ROUTE_EVENTS, ids=lambda path: path.stem)
def test_event_matches_the_shipped_api_gateway_event(event_file):
    """The same request gives the event that tests/events/ (and `sam local invoke`) use."""
    shipped = json.loads(event_file.read_text())
    query = urlencode(
        [(k, v) for k, vs in (shipped["multiValueQueryStringParameters"] or {}).items() for v in vs]
    )
    target = shipped["path"] + (f"?{query}" if query else "")
    event = srv.build_event(shipped["httpMethod"], target, [("Host", "localhost")])
    assert set(event) == set(shipped)
    for key in (
        "httpMethod",
        "path",
        "resource",
        "pathParameters",
        "queryStringParameters",
        "multiValueQueryStringParameters",
    ):
        assert event[key] == shipped[key], key
    assert event["requestContext"]["resourcePath"] == shipped["requestContext"]["resourcePath"]


def test_event_request_time_is_the_given_instant():
    now = datetime(2024, 4, 9, 12, 34, 56, tzinfo=UTC)
    context = srv.build_event("GET", "/v1/tracks", [], now=now)["requestContext"]
    assert context["requestTimeEpoch"] == 1712666096000
    assert context["requestTime"] == "09/Apr/2024:12:34:56 +0000"


@pytest.mark.parametrize(
    ("target", "resource", "path_parameters"),
    [
        ("/v1/tracks/4iV5W9uYEdYUVa79Axb7Rh", "/v1/tracks/{id}", {"id": "4iV5W9uYEdYUVa79Axb7Rh"}),
        ("/v1/audio-features/abc", "/v1/audio-features/{id}", {"id": "abc"}),
        ("/v1/tracks?ids=a,b", "/v1/tracks", None),
        ("/v1/recommendations?seed_tracks=a", "/v1/recommendations", None),
        (
            "/v1/recommendations/available-genre-seeds",
            "/v1/recommendations/available-genre-seeds",
            None,
        ),
        ("/v1/search?q=a", "/v1/search", None),
        ("/v1/tracks/a%20b", "/v1/tracks/{id}", {"id": "a b"}),
        ("/v1/nowhere/x", "/v1/nowhere/x", None),  # unknown: the handler answers "not found"
    ],
)
def test_resource_and_path_parameters(target, resource, path_parameters):
    event = srv.build_event("GET", target, [])
    assert event["resource"] == resource
    assert event["requestContext"]["resourcePath"] == resource
    assert event["pathParameters"] == path_parameters


def test_query_strings_are_decoded_and_multi_valued():
    target = "/v1/search?q=beyonc%C3%A9+knowles&seed=a&seed=b%2Cc&empty=&type=track"
    event = srv.build_event("GET", target, [])
    assert event["path"] == "/v1/search"
    assert event["queryStringParameters"] == {
        "q": "beyoncé knowles",
        "seed": "b,c",
        "empty": "",
        "type": "track",
    }
    assert event["multiValueQueryStringParameters"] == {
        "q": ["beyoncé knowles"],
        "seed": ["a", "b,c"],
        "empty": [""],
        "type": ["track"],
    }


def test_repeated_headers_keep_every_value():
    headers = [("Accept", "a/b"), ("X-Tag", "1"), ("X-Tag", "2")]
    event = srv.build_event("GET", "/v1/tracks", headers)
    assert event["headers"] == {"Accept": "a/b", "X-Tag": "2", "X-Forwarded-Proto": "http"}
    assert event["multiValueHeaders"] == {
        "Accept": ["a/b"],
        "X-Tag": ["1", "2"],
        "X-Forwarded-Proto": ["http"],
    }


def test_forwarded_headers_describe_this_server_not_the_client():
    headers = [("Host", "127.0.0.1:8000"), ("X-Forwarded-Proto", "https")]
    event = srv.build_event("GET", "/v1/tracks", headers, server_port=8000)
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["multiValueHeaders"]["X-Forwarded-Proto"] == ["http"]
    assert event["headers"]["X-Forwarded-Port"] == "8000"


def test_empty_parts_are_null_as_in_api_gateway():
    event = srv.build_event("GET", "/v1/recommendations/available-genre-seeds", [])
    for key in (
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "body",
        "stageVariables",
    ):
        assert event[key] is None, key
    assert event["isBase64Encoded"] is False


def test_bodies_are_text_or_base64():
    assert srv.build_event("POST", "/v1/x", [], b'{"a": 1}')["body"] == '{"a": 1}'
    binary = srv.build_event("POST", "/v1/x", [], b"\xff\x00\xfe")
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\xff\x00\xfe"


def test_powertools_reads_the_event():
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    event = APIGatewayProxyEvent(srv.build_event("GET", "/v1/tracks/abc?market=ES&x=1&x=2", []))
    assert event.path == "/v1/tracks/abc" and event.http_method == "GET"
    assert event.path_parameters == {"id": "abc"}
    assert event.query_string_parameters == {"market": "ES", "x": "2"}
    assert event.multi_value_query_string_parameters["x"] == ["1", "2"]
    assert event.request_context.stage == "Prod"


def test_resources_are_the_templates_routes(repo_root: Path):
    template = repo_root / "template.yaml"
    routes = set(re.findall(r"^\s+Path: (/v1/\S+)\s*$", template.read_text(), re.MULTILINE))
    assert routes == set(srv.RESOURCES)


# --- static files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_path", "name"),
    [
        ("/", "index.html"),
        ("/index.html", "index.html"),
        ("/app.js", "app.js"),
        ("/style.css", "style.css"),
        ("/./style.css", "style.css"),
    ],
)
def test_static_files_are_found(url_path, name):
    assert web_files.static_file(url_path) == web_files.WEB_DIR / name


@pytest.mark.parametrize(
    "url_path",
    [
        "/../server.py",
        "/%2e%2e/server.py",
        "/..%2fserver.py",
        "/web/../../errors.py",
        "/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/missing.js",
        "/a%00b",
        "//etc/passwd",
    ],
)
def test_static_refuses_traversal_and_missing_files(url_path):
    assert web_files.static_file(url_path) is None


def test_static_refuses_symlinks_out_of_the_web_dir(tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (web / "leak.txt").symlink_to(tmp_path / "secret.txt")
    assert web_files.static_file("/leak.txt", web) is None


# --- HTTP round trips with a stand-in handler -----------------------------------------------------


class RecordingHandler:
    """Stands in for lambda_handler: records events and answers with a canned response."""

    def __init__(self, response: dict | Exception):
        self.response = response
        self.events: list[dict] = []

    def __call__(self, event: dict, context: object) -> dict:
        self.events.append(event)
        assert context.get_remaining_time_in_millis() > 0
        if isinstance(self.response, Exception):
            raise self.response
        return self.response


@pytest.fixture
def store_dir(tmp_path, monkeypatch) -> Path:
    """A directory that passes the store check; the stand-in handler never opens it."""
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    monkeypatch.delenv("SPOTREC_STORE", raising=False)  # restored after the test
    (tmp_path / "store.sqlite").write_bytes(b"")
    return tmp_path


def test_api_requests_reach_the_handler_and_its_response_comes_back(store_dir):
    body = json.dumps({"tracks": {"items": []}})
    handler = RecordingHandler(
        {
            "statusCode": 200,
            "body": body,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"X-Multi": ["a", "b"]},
        }
    )
    with serving(srv.make_server(store_dir, port=0, lambda_handler=handler)) as server:
        status, headers, data = fetch(server, "GET", "/v1/search?q=hey%20jude&type=track")
    assert status == 200 and json.loads(data) == {"tracks": {"items": []}}
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Multi"] == "a, b"
    (event,) = handler.events
    assert event["queryStringParameters"] == {"q": "hey jude", "type": "track"}
    assert event["headers"]["Host"].startswith("127.0.0.1:")
    assert srv.os.environ["SPOTREC_STORE"] == str(store_dir.resolve())


def test_error_statuses_and_base64_bodies_pass_through(store_dir):
    error = {"error": {"status": 400, "message": "limit must be 1-100"}}
    handler = RecordingHandler({"statusCode": 400, "body": json.dumps(error)})
    binary = RecordingHandler(
        {"statusCode": 200, "isBase64Encoded": True, "body": base64.b64encode(b"\x00\x01").decode()}
    )
    with serving(srv.make_server(store_dir, port=0, lambda_handler=handler)) as server:
        assert fetch(server, "GET", "/v1/recommendations?limit=0")[::2] == (
            400,
            json.dumps(error).encode(),
        )
    with serving(srv.make_server(store_dir, port=0, lambda_handler=binary)) as server:
        assert fetch(server, "GET", "/v1/x")[2] == b"\x00\x01"


def test_a_crashing_handler_gives_a_502_in_spotify_error_shape(store_dir):
    handler = RecordingHandler(RuntimeError("secret detail"))
    with serving(srv.make_server(store_dir, port=0, lambda_handler=handler)) as server:
        status, _, data = fetch(server, "GET", "/v1/tracks/abc")
    assert status == 502
    assert json.loads(data)["error"]["status"] == 502
    assert b"secret detail" not in data  # no stack trace leaks to the client


def test_head_options_and_other_methods(store_dir):
    handler = RecordingHandler({"statusCode": 200, "body": '{"genres": []}'})
    with serving(srv.make_server(store_dir, port=0, lambda_handler=handler)) as server:
        status, headers, data = fetch(server, "HEAD", "/v1/recommendations/available-genre-seeds")
        assert (status, data, headers["Content-Length"]) == (200, b"", str(len('{"genres": []}')))
        assert handler.events[-1]["httpMethod"] == "GET"
        status, headers, _ = fetch(server, "OPTIONS", "/v1/search")
        assert status == 204 and "GET" in headers["Access-Control-Allow-Methods"]
        assert fetch(server, "POST", "/index.html", b"x")[0] == 405
        assert fetch(server, "HEAD", "/")[::2] == (200, b"")
    assert len(handler.events) == 1  # OPTIONS and static requests never reach the handler


def test_static_page_over_http(store_dir):
    with serving(srv.make_server(store_dir, port=0, lambda_handler=RecordingHandler({}))) as server:
        status, headers, data = fetch(server, "GET", "/")
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        assert b'data-testid="search-input"' in data
        assert fetch(server, "GET", "/app.js")[1]["Content-Type"].startswith("text/javascript")
        assert fetch(server, "GET", "/style.css")[1]["Content-Type"].startswith("text/css")
        for target in ("/../../pyproject.toml", "/%2e%2e/server.py", "/nope.html"):
            assert fetch(server, "GET", target)[0] == 404, target


# --- configuration errors ----------------------------------------------------------------------


def test_store_must_exist_unless_a_table_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    monkeypatch.delenv("SPOTREC_STORE", raising=False)
    with pytest.raises(SpotrecError, match="no store given"):
        srv.configure_store(None)
    with pytest.raises(SpotrecError, match="store not found"):
        srv.configure_store(tmp_path / "missing")
    with pytest.raises(SpotrecError, match=r"holds no store\.sqlite"):
        srv.configure_store(tmp_path)
    monkeypatch.setenv("SPOTREC_TABLE", "spotrec-items")
    assert "DynamoDB table spotrec-items" in srv.configure_store(None)
    assert "SPOTREC_STORE" not in srv.os.environ


def test_missing_lambda_code_is_a_clear_error():
    with pytest.raises(SpotrecError, match=r"Lambda code \(module 'no_such_app'.*not found"):
        srv.load_lambda_handler("no_such_app")


def test_busy_port_is_a_clear_error(store_dir):
    handler = RecordingHandler({})
    with serving(srv.make_server(store_dir, port=0, lambda_handler=handler)) as first:
        port = first.server_address[1]
        with pytest.raises(SpotrecError, match=f"cannot listen on 127.0.0.1:{port}"):
            srv.make_server(store_dir, port=port, lambda_handler=handler)


# --- the real handler over a tiny build -----------------------------------------------------------

TINY_TRACKS = [  # (name, artist, genre); the cosine lists below are the answers by construction
    ("Alpha Song", "Ann", "jazz"),
    ("Bravo Song", "Ben", "jazz"),
    ("Charlie Song", "Cy", "rock"),
    ("Delta Song", "Di", "rock"),
]
TINY = {name.split()[0].ljust(21, "0") + "1": (name, a, g) for name, a, g in TINY_TRACKS}
TINY_IDS = list(TINY)
TINY_LISTS = {  # rank order: each track's other tracks, its own genre first
    TINY_IDS[0]: [TINY_IDS[1], TINY_IDS[2], TINY_IDS[3]],
    TINY_IDS[1]: [TINY_IDS[0], TINY_IDS[3], TINY_IDS[2]],
    TINY_IDS[2]: [TINY_IDS[3], TINY_IDS[0], TINY_IDS[1]],
    TINY_IDS[3]: [TINY_IDS[2], TINY_IDS[1], TINY_IDS[0]],
}


def write_tiny_build(out: Path) -> Path:
    from spotrec import schema

    features = {name: 0.5 for name in schema.AUDIO_FEATURES} | {"tempo": 100.0, "loudness": -7.0}
    tracks = [
        {
            schema.TRACK_ID: tid,
            schema.NAME: name,
            schema.ARTISTS: [artist],
            schema.ALBUM: f"{name} album",
            schema.POPULARITY: 90 - i,
            schema.DURATION_MS: 1000,
            schema.EXPLICIT: False,
            **features,
            schema.GENRES: [genre],
            schema.SONG_ID: tid,
            schema.HOLDOUT: False,
            schema.FIRST_ROW: i,
        }
        for i, (tid, (name, artist, genre)) in enumerate(TINY.items())
    ]
    neighbours = [
        (tid, rank, other, 1.0 - rank / 10)
        for tid, others in TINY_LISTS.items()
        for rank, other in enumerate(others, start=1)
    ]
    manifest_fields = {
        "run_id": "20240101T000000Z-tiny0000",
        "models": ["cosine"],
        "default_model": "cosine",
        "top_n": 3,
    }
    return write_build(out, tracks, neighbours, manifest_fields)


@pytest.fixture
def tiny_server(tmp_path, monkeypatch) -> Iterator[srv.SpotrecHTTPServer]:
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    monkeypatch.delenv("SPOTREC_STORE", raising=False)
    build = write_tiny_build(tmp_path / "build")
    with serving(srv.make_server(build, port=0)) as server:
        yield server


def get_json(server: srv.SpotrecHTTPServer, target: str) -> tuple[int, dict]:
    status, headers, data = fetch(server, "GET", target)
    assert headers["Content-Type"].startswith("application/json")
    return status, json.loads(data)


def test_real_handler_answers_over_http(tiny_server):
    alpha, bravo, charlie, delta = TINY_IDS
    status, body = get_json(tiny_server, f"/v1/recommendations?seed_tracks={alpha}&limit=2")
    assert status == 200
    assert [t["id"] for t in body["tracks"]] == [bravo, charlie]
    assert body["seeds"][0]["id"] == alpha and body["seeds"][0]["type"] == "TRACK"
    first = body["tracks"][0]
    assert first["external_urls"]["spotify"] == f"https://open.spotify.com/track/{bravo}"
    assert first["href"] == f"{tiny_server.url}/v1/tracks/{bravo}"  # resolvable locally

    status, body = get_json(tiny_server, "/v1/search?q=char&type=track")
    assert status == 200 and [t["id"] for t in body["tracks"]["items"]] == [charlie]

    status, body = get_json(tiny_server, f"/v1/tracks/{delta}")
    assert (
        status == 200
        and body["name"] == "Delta Song"
        and [(a["name"], a["id"], a["uri"]) for a in body["artists"]]
        == [("Di", artist_id("Di"), f"spotify:artist:{artist_id('Di')}")]
        and body["artists"][0]["href"] == f"{tiny_server.url}/v1/artists/{artist_id('Di')}"
    )

    status, body = get_json(tiny_server, f"/v1/tracks?ids={alpha},{delta}")
    assert [t["id"] for t in body["tracks"]] == [alpha, delta]

    status, body = get_json(tiny_server, "/v1/recommendations/available-genre-seeds")
    assert body["genres"] == ["jazz", "rock"]


@pytest.mark.parametrize(
    ("target", "status", "message"),
    [
        ("/v1/recommendations?limit=5", 400, "seed"),
        ("/v1/recommendations?seed_tracks=nope", 400, "nope"),
        (f"/v1/recommendations?seed_tracks={TINY_IDS[0]}&model=transformer", 400, "transformer"),
        ("/v1/tracks/Zzzzzzzzzzzzzzzzzzzzzz", 404, "Zzzzzzzzzzzzzzzzzzzzzz"),
        ("/v1/nowhere", 404, "/v1/nowhere"),
    ],
)
def test_real_handler_errors_keep_spotifys_shape(tiny_server, target, status, message):
    got_status, body = get_json(tiny_server, target)
    assert got_status == status
    assert body["error"]["status"] == status and message in body["error"]["message"]


def test_spotrec_serve_command_serves_until_sigterm(tmp_path, monkeypatch):
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    build = write_tiny_build(tmp_path / "build")
    command = [sys.executable, "-m", "spotrec.cli", "serve", "--store", str(build), "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for line in process.stdout:  # the announcement names the port the system chose
            found = re.search(r"serving the API and the web page at (http://\S+)/ ", line)
            if found:
                url = found.group(1)
                break
        assert url, process.stderr.read()
        with urllib.request.urlopen(f"{url}/v1/tracks/{TINY_IDS[2]}", timeout=10) as response:
            assert json.load(response)["name"] == "Charlie Song"
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "spotrec: stopped" in out


# --- the contract pages: /docs (Swagger UI) and any HTTP method ----------------------------------


def test_docs_page_and_its_swagger_ui_files_are_served(store_dir):
    assert web_files.docs_file("/docs") == web_files.WEB_DIR / "docs.html"
    assert web_files.docs_file("/docs/") == web_files.WEB_DIR / "docs.html"
    assert web_files.docs_file("/docs/swagger-ui-bundle.js") == (
        web_files.swagger_ui_dir() / "swagger-ui-bundle.js"
    )
    for refused in ("/docs/../server.py", "/docs/index.css", "/docs/swagger-ui.js.map"):
        assert web_files.docs_file(refused) is None  # only the two files the page loads
    with serving(srv.make_server(store_dir, port=0, lambda_handler=RecordingHandler({}))) as server:
        status, headers, data = fetch(server, "GET", "/docs")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert b"/docs/swagger-ui-bundle.js" in data and b"https://" not in data  # no CDN
        status, headers, data = fetch(server, "GET", "/docs/swagger-ui-bundle.js")
        assert status == 200 and headers["Content-Type"].startswith("text/javascript")
        assert b"SwaggerUIBundle" in data
        status, _, data = fetch(server, "GET", "/docs.js")
        assert status == 200 and b'"/v1/openapi.json"' in data


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_any_method_on_the_api_reaches_the_handler(store_dir, method):
    """Not http.server's 501 HTML page: the handler answers (a 405 in Spotify's shape)."""
    handler = RecordingHandler({"statusCode": 405, "body": '{"error": {"status": 405}}'})
    with serving(srv.make_server(store_dir, port=0, lambda_handler=handler)) as server:
        status, _, data = fetch(server, method, "/v1/search")
    assert (status, json.loads(data)) == (405, {"error": {"status": 405}})
    assert handler.events[-1]["httpMethod"] == method


def test_the_real_handler_answers_405_with_allow(tiny_server):
    status, headers, data = fetch(tiny_server, "TRACE", "/v1/tracks")
    assert status == 405 and headers["Allow"] == "GET, OPTIONS"
    assert json.loads(data)["error"]["status"] == 405
