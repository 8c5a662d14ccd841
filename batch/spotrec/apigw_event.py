"""HTTP request -> API Gateway REST proxy event, and the Lambda handler that receives it.

``build_event`` gives the event ``sam local generate-event apigateway aws-proxy`` would give for
one request (resource matched against the API's routes, query and headers in their single- and
multi-value views, base64 for binary bodies). ``load_lambda_handler`` imports the real
``lambda_handler`` from lambda/app.py, and ``LocalLambdaContext`` stands in for AWS's context, so
that `spotrec serve` (server.py) runs exactly the code that runs in AWS.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import spotrec
from spotrec.errors import SpotrecError

LAMBDA_DIR = Path(spotrec.__file__).resolve().parents[2] / "lambda"
STAGE = "Prod"  # SAM's implicit API stage, as `sam local start-api` reports it
# The API's resources, as declared in template.yaml. A request matching none of them still
# reaches the handler (with resource = path) so the app's own "not found" answer is shown.
RESOURCES = (
    "/v1/recommendations/available-genre-seeds",
    "/v1/recommendations",
    "/v1/search",
    "/v1/tracks/{id}",
    "/v1/tracks",
    "/v1/audio-features/{id}",
    "/v1/events",  # events: POST, served by the EventsFunction (lambda/events_app.py)
)
FORWARDED_HEADERS = ("x-forwarded-proto", "x-forwarded-port")
# requestContext.identity fields that only an authenticated AWS caller would fill.
IDENTITY_NULL_FIELDS = [
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "user",
]

LambdaHandler = Callable[[dict, object], dict]


def _resource_pattern(resource: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(resource))
    return re.compile(f"^{regex}$")


RESOURCE_PATTERNS = tuple((resource, _resource_pattern(resource)) for resource in RESOURCES)


def match_resource(path: str) -> tuple[str, dict[str, str] | None]:
    """The resource template a decoded path falls under, and its path parameters (or None)."""
    for resource, pattern in RESOURCE_PATTERNS:
        found = pattern.match(path)
        if found:
            return resource, found.groupdict() or None
    return path, None


def _single_and_multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict | None, dict | None]:
    """API Gateway's two views of repeated keys: the last value, and every value in order."""
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key, []).append(value)
    if not multi:
        return None, None
    return {key: values[-1] for key, values in multi.items()}, multi


def build_event(
    method: str,
    raw_target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | None = None,
    *,
    source_ip: str = "127.0.0.1",
    server_port: int | None = None,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict:
    """The API Gateway REST proxy event for one HTTP request (raw_target = path?query)."""
    target = urlsplit(raw_target)
    path = unquote(target.path)
    resource, path_parameters = match_resource(path)
    query, multi_query = _single_and_multi(parse_qsl(target.query, keep_blank_values=True))
    # As in AWS (and `sam local`), the handler learns the client-facing scheme and port here.
    header_pairs = [(k, v) for k, v in headers if k.lower() not in FORWARDED_HEADERS]
    header_pairs += [("X-Forwarded-Proto", "http")]
    if server_port is not None:
        header_pairs += [("X-Forwarded-Port", str(server_port))]
    single_headers, multi_headers = _single_and_multi(header_pairs)
    user_agent = next((v for k, v in header_pairs if k.lower() == "user-agent"), None)
    is_base64, body_text = False, None
    if body:
        try:
            body_text = body.decode("utf-8")
        except UnicodeDecodeError:  # binary payloads travel base64-encoded, as in AWS
            is_base64, body_text = True, base64.b64encode(body).decode("ascii")
    now = now or datetime.now(UTC)
    return {
        "body": body_text,
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "isBase64Encoded": is_base64,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "spotreclocal",
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "requestId": request_id or str(uuid.uuid4()),
            "extendedRequestId": None,
            "stage": STAGE,
            # No stage prefix: locally the API is served at /v1/, and the handler derives its
            # hrefs from this path (as under `sam local start-api`).
            "path": path,
            "protocol": "HTTP/1.1",
            "domainName": single_headers.get("Host") if single_headers else None,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": dict.fromkeys(IDENTITY_NULL_FIELDS)
            | {"sourceIp": source_ip, "userAgent": user_agent},
        },
    }


@dataclass
class LocalLambdaContext:
    """The attributes of AWS's LambdaContext that powertools' Logger and Tracer read."""

    aws_request_id: str
    function_name: str = "spotrec-api-local"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:local:123456789012:function:spotrec-api-local"
    memory_limit_in_mb: int = 256
    log_group_name: str = "/aws/lambda/spotrec-api-local"
    log_stream_name: str = "local"
    deadline: float = field(default_factory=lambda: time.monotonic() + 30)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def load_lambda_handler(lambda_dir: Path = LAMBDA_DIR) -> LambdaHandler:
    """`lambda_handler` from lambda/app.py, imported by file path (lambda/ is no package)."""
    app_file = lambda_dir / "app.py"
    if not app_file.is_file():
        raise SpotrecError(
            f"the Lambda code was not found at {app_file}: `spotrec serve` runs the handler from "
            "the source tree, so install spotrec from a checkout (pip install -e .)"
        )
    # Locally there is no CloudWatch to read the metrics' EMF lines off stdout; keep them off
    # unless the user asks for them.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    if str(lambda_dir) not in sys.path:  # app.py imports its sibling spotrec_serving
        sys.path.insert(0, str(lambda_dir))
    loaded = sys.modules.get("app")
    if loaded is None or Path(getattr(loaded, "__file__", "")).resolve() != app_file:
        spec = importlib.util.spec_from_file_location("app", app_file)
        loaded = importlib.util.module_from_spec(spec)
        sys.modules["app"] = loaded
        spec.loader.exec_module(loaded)
    return loaded.lambda_handler
