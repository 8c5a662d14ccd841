"""`spotrec serve`: the API and the web page on one machine, through the real Lambda handler.

Each request under /v1/ becomes an API Gateway REST proxy event (the shape of
``sam local generate-event apigateway aws-proxy``) and goes to the same ``lambda_handler`` that
runs in AWS, so the local server cannot drift from production behaviour. Everything else is a
static file of the web page (batch/spotrec/web/).

This module holds the HTTP server, the store configuration and the CLI; web_files.py finds the
page's static files. The request -> event translation and the handler loading
(``build_event``, ``match_resource``, ``RESOURCES``, ``LocalLambdaContext``,
``load_lambda_handler``) live in apigw_event.py; all but ``match_resource`` stay importable
from ``spotrec.server``.

The store is picked like the Lambda picks it: ``SPOTREC_TABLE`` set -> DynamoDB, otherwise
``SPOTREC_STORE`` (which this command sets from ``--store``).
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import signal
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from spotrec import schema

# Names tests and benchmarks import from spotrec.server; RESOURCES is re-exported explicitly.
from spotrec.apigw_event import RESOURCES as RESOURCES
from spotrec.apigw_event import LambdaHandler, LocalLambdaContext, build_event, load_lambda_handler
from spotrec.errors import SpotrecError
from spotrec.local_events import with_events_route
from spotrec.web_files import CONTENT_TYPES, DOCS_PAGE, WEB_DIR, docs_file, static_file
from spotrec_serving.errors import error_json

HELP = "serve the API (through the Lambda handler) and the web page on this machine"

log = logging.getLogger(__name__)

API_PREFIX = "/v1/"
ALLOWED_METHODS = "GET, HEAD, OPTIONS"


def _error_response(status: int, message: str) -> dict:
    body = error_json(status, message)
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}


class RequestHandler(BaseHTTPRequestHandler):
    server: SpotrecHTTPServer
    server_version = "spotrec"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    do_PUT = do_PATCH = do_DELETE = do_POST

    def __getattr__(self, name: str):
        # Any other method (TRACE, CONNECT, made-up ones) goes the same way, so the API answers
        # 405 in its error shape instead of http.server's 501 HTML page.
        if name.startswith("do_"):
            return self.do_POST
        raise AttributeError(name)

    def do_OPTIONS(self) -> None:
        # In AWS the API's CORS configuration answers preflights without calling the Lambda.
        self._read_body()  # an unread body would be parsed as the next request on this socket
        headers = {
            "Allow": ALLOWED_METHODS,
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": ALLOWED_METHODS,
            "Access-Control-Allow-Headers": "Content-Type, Authorization",
        }
        self._send(HTTPStatus.NO_CONTENT, headers, b"")

    def _read_body(self) -> bytes | None:
        """The request body, read whatever the method: a body left unread on a keep-alive
        connection would be parsed as the next request."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else None

    def _dispatch(self) -> None:
        self._started = time.perf_counter()
        self._body = self._read_body()
        if urlsplit(self.path).path.startswith(API_PREFIX):
            self._call_lambda()
        elif self.command in ("GET", "HEAD"):
            self._serve_static()
        else:
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": "GET, HEAD"}, b"")

    def _call_lambda(self) -> None:
        body = self._body
        # HEAD is answered as GET without the body, as API Gateway does for GET routes.
        method = "GET" if self.command == "HEAD" else self.command
        event = build_event(
            method,
            self.path,
            self.headers.items(),
            body,
            source_ip=self.client_address[0],
            server_port=self.server.server_address[1],
        )
        context = LocalLambdaContext(aws_request_id=event["requestContext"]["requestId"])
        try:
            # One invocation at a time, as one Lambda instance would: the handler's caches and
            # connections need not be thread-safe.
            with self.server.lambda_lock:
                response = self.server.lambda_handler(event, context)
            status = int(response["statusCode"])
        except Exception:
            log.error("the Lambda handler failed:\n%s", traceback.format_exc())
            response = _error_response(502, "the API handler failed; see the server log")
            status = 502
        headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(str(v) for v in values)
        payload = response.get("body") or ""
        data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
        self._send(status, headers, data)

    def _serve_static(self) -> None:
        url_path = urlsplit(self.path).path
        if url_path == DOCS_PAGE or url_path.startswith(DOCS_PAGE + "/"):
            file = docs_file(url_path, self.server.web_dir)
        else:
            file = static_file(url_path, self.server.web_dir)
        if file is None:
            self._send(
                HTTPStatus.NOT_FOUND, {"Content-Type": "text/plain; charset=utf-8"}, b"not found\n"
            )
            return
        content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        headers = {"Content-Type": content_type, "Cache-Control": "no-cache"}
        self._send(HTTPStatus.OK, headers, file.read_bytes())

    def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)
        elapsed_ms = (time.perf_counter() - getattr(self, "_started", time.perf_counter())) * 1e3
        log.info("%s %s %d %dB %.1fms", self.command, self.path, status, len(data), elapsed_ms)

    def log_request(self, code: object = "-", size: object = "-") -> None:
        """Silenced: _send logs one line per request, with its size and duration."""

    def log_message(self, format: str, *args: object) -> None:
        log.warning("%s: %s", self.address_string(), format % args)


class SpotrecHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], lambda_handler: LambdaHandler, web_dir: Path):
        super().__init__(address, RequestHandler)
        self.lambda_handler = lambda_handler
        self.lambda_lock = threading.Lock()
        self.web_dir = web_dir

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def configure_store(store: str | Path | None) -> str:
    """Point the handler at its store exactly as in AWS; returns a description for the log."""
    table = os.environ.get("SPOTREC_TABLE")
    if table:
        if store is not None:
            log.warning("SPOTREC_TABLE is set, so --store %s is ignored", store)
        return f"DynamoDB table {table} (SPOTREC_TABLE)"
    if store is None:
        raise SpotrecError("no store given: pass --store DIR (a build dir) or set SPOTREC_TABLE")
    path = Path(store).expanduser().resolve()
    if not path.exists():
        raise SpotrecError(f"store not found: {path} (run `spotrec build --out DIR` first)")
    if path.is_dir() and not (path / schema.STORE_FILE).is_file():
        raise SpotrecError(f"{path} holds no {schema.STORE_FILE}: is it a `spotrec build` output?")
    os.environ["SPOTREC_STORE"] = str(path)
    return f"SQLite store {path}"


def make_server(
    store_dir: str | Path | None,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    lambda_handler: LambdaHandler | None = None,
    web_dir: Path = WEB_DIR,
) -> SpotrecHTTPServer:
    """A ready, not yet serving, server (port 0 = any free port; see server.url)."""
    described = configure_store(store_dir)
    # events: POST /v1/events goes to the events function (local_events.py)
    handler = lambda_handler or with_events_route(load_lambda_handler())
    try:
        server = SpotrecHTTPServer((host, port), handler, web_dir)
    except OSError as exc:
        raise SpotrecError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    log.info("serving %s from %s", server.url, described)
    return server


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve_forever(server: SpotrecHTTPServer) -> None:
    """Serve until Ctrl-C (or SIGTERM, e.g. `docker stop`), then close the socket cleanly."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    print(f"spotrec: serving the API and the web page at {server.url}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nspotrec: stopped", flush=True)
    finally:
        server.server_close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="DIR",
        help="a build dir or its store.sqlite (optional when SPOTREC_TABLE names a DynamoDB table)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (0 = any free port)")


def serve(store: str | Path | None, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Make the server and serve until Ctrl-C (used by `spotrec serve` and `spotrec demo`)."""
    serve_forever(make_server(store, host, port))
    return 0


def run(args: argparse.Namespace) -> int:
    return serve(args.store, args.host, args.port)
