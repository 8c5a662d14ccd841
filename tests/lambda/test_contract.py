"""The route table is the one source of the contract: the handler registers exactly its routes,
serves the OpenAPI document derived from it, enforces the ranges it declares, validates before
reading the store, and every error (405 with Allow, 503 with Retry-After) keeps Spotify's shape."""

from __future__ import annotations

import json
import sqlite3

import pytest
from jsonschema import Draft202012Validator
from lambda_fixtures import LAMBDA_CONTEXT, A, B, C, D, E, F, load_event, with_path, with_query

from spotrec_serving.errors import RETRY_AFTER_SECONDS
from spotrec_serving.routes import ROUTES, route_named, routes_of


def test_every_table_route_has_exactly_one_function():
    import app

    assert set(app.REGISTERED) == {r.name for r in routes_of(app.FUNCTION)}


def test_the_openapi_document_describes_every_route(handler):
    status, doc, headers = handler(with_path(load_event("genres"), "/v1/openapi.json"))
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert doc["openapi"] == "3.1.0"
    operations = {
        (method.upper(), path): op
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }
    assert set(operations) == {(r.method, r.path) for r in ROUTES}
    for route in ROUTES:
        operation = operations[(route.method, route.path)]
        assert operation["operationId"] == route.name
        assert [p["name"] for p in operation.get("parameters", [])] == [
            p.name for p in route.parameters
        ]
        for error in route.errors:
            schema = operation["responses"][str(error)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}
    assert doc["servers"] == [
        {"url": "https://1234567890.execute-api.us-east-1.amazonaws.com/prod"}
    ]
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    error_schema = Draft202012Validator(doc["components"]["schemas"]["Error"])
    assert error_schema.is_valid({"error": {"status": 400, "message": "x"}})
    assert not error_schema.is_valid({"error": {"status": 400}})


INT_PARAMS = [
    (route.name, p.name)
    for route in ROUTES
    for p in route.parameters
    if p.schema.get("type") == "integer" and {"minimum", "maximum"} <= set(p.schema)
]
BASE_QUERY = {"Recommendations": {"seed_tracks": A}, "Search": {"q": "halo", "type": "track"}}
EVENT_OF = {"Recommendations": "recommend", "Search": "search"}


@pytest.mark.parametrize(("route_name", "name"), INT_PARAMS)
def test_integer_ranges_enforced_are_the_ranges_declared(handler, route_name, name):
    low, high = route_named(route_name).param(name).int_range
    event = load_event(EVENT_OF[route_name])
    for value, accepted in ((low, True), (high, True), (low - 1, False), (high + 1, False)):
        query = {**BASE_QUERY[route_name], name: str(value)}
        status, body, _ = handler(with_query(event, **query))
        assert (status == 200) is accepted, (value, body)
        if not accepted:
            assert status == 400 and f"'{name}'" in body["error"]["message"]


@pytest.mark.parametrize("extra", [{"market": "ES"}, {"country": "US"}, {"market": "from_token"}])
def test_market_and_country_are_accepted_and_ignored(handler, extra):
    plain = handler(with_query(load_event("recommend"), seed_tracks=f"{A},{B}"))
    with_market = handler(with_query(load_event("recommend"), seed_tracks=f"{A},{B}", **extra))
    assert with_market[0] == 200 and with_market[1] == plain[1]
    track = handler(with_query(with_path(load_event("track"), f"/v1/tracks/{A}", id=A), **extra))
    assert track[0] == 200 and track[1]["id"] == A


def test_a_wrong_method_is_a_405_naming_the_allowed_ones(handler):
    event = load_event("recommend")
    event["httpMethod"] = "DELETE"
    status, body, headers = handler(event)
    assert status == 405 and body["error"]["status"] == 405
    assert headers["Allow"] == "GET, OPTIONS"


@pytest.fixture
def no_release(tmp_path, monkeypatch):
    """The handler over a store with no published release (an empty items table)."""
    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE items(pk TEXT PRIMARY KEY, run_id TEXT, body TEXT)")
    monkeypatch.setenv("SPOTREC_STORE", str(path))
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    import app

    def invoke(event):
        response = app.lambda_handler(event, LAMBDA_CONTEXT)
        headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = ",".join(values)
        return response["statusCode"], json.loads(response["body"]), headers

    return invoke


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"limit": "5"}, "at least one seed"),
        ({"seed_tracks": ",".join([A, B, C, D, E, F])}, "too many seeds: 6"),
        ({"seed_tracks": f"{A},{A}"}, "duplicate"),
        ({"seed_tracks": A, "limit": "0"}, "'limit'"),
    ],
)
def test_bad_input_is_a_400_even_before_any_release(no_release, query, fragment):
    status, body, _ = no_release(with_query(load_event("recommend"), **query))
    assert status == 400 and fragment in body["error"]["message"]


def test_no_release_is_a_503_with_retry_after(no_release):
    status, body, headers = no_release(with_query(load_event("recommend"), seed_tracks=A))
    assert status == 503 and body["error"]["status"] == 503
    assert "no release" in body["error"]["message"]
    assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
