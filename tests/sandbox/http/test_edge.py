"""Hostile input at the HTTP edge of a served sandbox, over raw sockets, on both databases.

Every answer is the envelope with `X-Request-Id`, never a 5xx or an HTML page, and the
server goes on serving at once afterwards.
"""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox.spec import load_spec
from tests.sandbox.conftest import postgres_copy
from tests.sandbox.served import banner_key, serving

pytestmark = pytest.mark.slow
SPEC = load_spec()
BASE = SPEC.base_path
REQUEST_ID = re.compile(r"^req_[A-Za-z0-9]+$")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def envelope(self, status: int, code: str) -> dict:
        """The error body, checked: status, JSON envelope, request id equal to the header."""
        assert self.status == status, (self.status, self.body[:300])
        assert self.headers["content-type"] == "application/json", self.headers
        request_id = self.headers["x-request-id"]
        assert REQUEST_ID.match(request_id)
        error = json.loads(self.body)
        assert error["code"] == code, error
        assert error["request_id"] == request_id
        return error


@dataclass(frozen=True)
class Server:
    port: int
    key: str

    def send(self, data: bytes, timeout: float = 10) -> Answer:
        """Send raw bytes on a new connection; the response to them."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            try:
                sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed before reading all of it
            return _read_response(sock)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: tuple[str, ...] = (),
        timeout: float = 10,
    ) -> Answer:
        head = f"{method} {path} HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\n"
        head += f"Authorization: Bearer {self.key}\r\n"
        head += "".join(f"{h}\r\n" for h in headers)
        data = body.encode() if isinstance(body, str) else (body or b"")
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        return self.send(head.encode() + b"\r\n" + data, timeout)

    def assert_serving(self) -> None:
        """A request afterwards is served at once."""
        answer = self.request("GET", f"{BASE}/crm/contacts?limit=1", timeout=5)
        assert answer.status == 200, answer


def _read_response(sock: socket.socket) -> Answer:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the body"
        body += chunk
    return Answer(int(status_line.split()[1]), headers, body)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One served sandbox per database for the module (2 workers, limits lifted)."""
    if request.param == "sqlite":
        yield from _served(f"sqlite:///{tmp_path_factory.mktemp('edge')}/edge.db")
    else:
        with postgres_copy(request.getfixturevalue("postgres_template")) as url:
            yield from _served(url)


def _served(url: str) -> Iterator[Server]:
    with serving(url, "--rate-limit-scale", "0") as (port, lines):
        yield Server(port, banner_key(lines, "enterprise"))


def _with_ids(path: str) -> str:
    return BASE + re.sub(r"\{[^}]+\}", "x1", path)


BODY_OPERATIONS = sorted(
    (op for op in SPEC.operations.values() if op.request_schema is not None),
    key=lambda op: op.operation_id,
)


# 1. Depth
def test_a_body_nested_10000_levels_is_400_on_every_operation_with_a_body(server: Server) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    for op in BODY_OPERATIONS:
        answer = server.request(op.method, _with_ids(op.path), deep)
        error = answer.envelope(400, "bad_request")
        assert "nests deeper than 128 levels" in error["message"], op.operation_id
    server.assert_serving()


def test_a_body_past_the_spec_depth_but_under_the_parsers_is_400(server: Server) -> None:
    body = '{"name": ' + "[" * 500 + "]" * 500 + "}"
    server.request("POST", f"{BASE}/crm/contacts", body).envelope(400, "bad_request")


def _nested(levels: int) -> str:
    return '{"a":' * (levels - 1) + "{}" + "}" * (levels - 1)


@pytest.mark.parametrize("levels", [33, 120])
def test_event_properties_deeper_than_32_levels_are_422_naming_the_field(
    server: Server, levels: int
) -> None:
    body = '{"event": "deep", "properties": ' + _nested(levels) + "}"
    error = server.request("POST", f"{BASE}/events", body).envelope(422, "validation_error")
    assert error["details"] == [{"field": "properties", "error": "too_deep"}]
    assert "32 levels" in error["message"]


def test_event_properties_of_32_levels_are_stored(server: Server) -> None:
    body = '{"event": "deep", "properties": ' + _nested(32) + "}"
    created = server.request("POST", f"{BASE}/events", body)
    assert created.status == 201, created.body
    event_id = json.loads(created.body)["event_id"]
    stored = server.request("GET", f"{BASE}/events/{event_id}")
    assert json.loads(stored.body)["properties"] == json.loads(_nested(32))


def test_a_batch_refuses_a_too_deep_item_alone(server: Server) -> None:
    body = '{"events": [{"event": "fine"}, {"event": "deep", "properties": ' + _nested(40) + "}]}"
    answer = server.request("POST", f"{BASE}/events/batch", body)
    assert answer.status == 200, answer.body
    result = json.loads(answer.body)
    assert (result["processed"], result["failed"]) == (1, 1)
    assert result["errors"][0]["index"] == 1
    assert result["errors"][0]["details"] == [
        {"field": "events[1].properties", "error": "too_deep"}
    ]


# 2. Text that cannot be stored
@pytest.mark.parametrize(
    "body, field",
    [
        ('{"x": "\\ud800"}', "x"),
        ('{"\\udfff": 1}', "\\udfff"),
        ('{"a": {"b": ["ok", "\\ud800 and more"]}}', "a.b[1]"),
    ],
)
def test_a_lone_surrogate_is_422_naming_the_field_on_every_operation_with_a_body(
    server: Server, body: str, field: str
) -> None:
    for op in BODY_OPERATIONS:
        error = server.request(op.method, _with_ids(op.path), body).envelope(
            422, "validation_error"
        )
        assert error["details"] == [{"field": field, "error": "invalid_characters"}], op
    server.assert_serving()


def test_a_surrogate_pair_is_text_like_any_other(server: Server) -> None:
    created = server.request("POST", f"{BASE}/crm/contacts", '{"first_name": "\\ud83d\\ude00"}')
    assert created.status == 201, created.body
    assert json.loads(created.body)["first_name"] == "\U0001f600"


def test_nul_inside_free_form_properties_is_stored_and_read_back(server: Server) -> None:
    # JSON holds NUL escaped, and the spec admits it below the keys of `properties`.
    properties = {"note": "a\x00b", "nested": {"k\x00": ["\x00"]}}
    body = json.dumps({"event": "nul", "properties": properties})
    created = server.request("POST", f"{BASE}/events", body)
    assert created.status == 201, created.body
    event_id = json.loads(created.body)["event_id"]
    stored = server.request("GET", f"{BASE}/events/{event_id}")
    assert json.loads(stored.body)["properties"] == properties


@pytest.mark.parametrize(
    "body, field",
    [
        ({"event": "a\x00b"}, "event"),
        ({"event": "ok", "properties": {"k\x00": 1}}, "properties.k\x00"),
    ],
)
def test_nul_in_text_bound_for_a_column_is_422_naming_the_field(
    server: Server, body: dict[str, Any], field: str
) -> None:
    answer = server.request("POST", f"{BASE}/events", json.dumps(body))
    error = answer.envelope(422, "validation_error")
    assert error["details"] == [{"field": field, "error": "invalid_characters"}]
    assert "NUL" in error["message"]


def test_a_batch_refuses_an_item_with_nul_in_its_name_alone(server: Server) -> None:
    events = [{"event": "a\x00"}, {"event": "b", "properties": {"x": ["\x00"]}}]
    answer = server.request("POST", f"{BASE}/events/batch", json.dumps({"events": events}))
    assert answer.status == 200, answer.body
    result = json.loads(answer.body)
    assert (result["processed"], result["failed"]) == (1, 1)
    assert result["errors"][0]["details"] == [
        {"field": "events[0].event", "error": "invalid_characters"}
    ]


# 3. Numbers that cannot be stored
def test_a_number_past_a_double_is_422_naming_the_field(server: Server) -> None:
    body = '{"event": "big", "properties": {"ok": 1e308, "x": {"y": [1e400]}}}'
    error = server.request("POST", f"{BASE}/events", body).envelope(422, "validation_error")
    assert error["details"] == [{"field": "properties.x.y[0]", "error": "not_finite"}]
    body = '{"event": "small", "properties": {"x": -1e999}}'
    error = server.request("POST", f"{BASE}/events", body).envelope(422, "validation_error")
    assert error["details"] == [{"field": "properties.x", "error": "not_finite"}]


def test_a_batch_refuses_an_item_with_an_infinite_number_alone(server: Server) -> None:
    body = '{"events": [{"event": "a", "properties": {"x": 1e400}}, {"event": "b"}]}'
    result = json.loads(server.request("POST", f"{BASE}/events/batch", body).body)
    assert (result["processed"], result["failed"]) == (1, 1)
    assert result["errors"][0]["details"] == [
        {"field": "events[0].properties.x", "error": "not_finite"}
    ]


def test_ingest_rejects_an_item_with_an_infinite_number_alone(server: Server) -> None:
    customer = json.loads(server.request("POST", f"{BASE}/customers", '{"name": "Edge"}').body)
    events = [
        {"event_id": f"edge-{uuid.uuid4()}", "customer_id": customer["id"], "event_name": "x"}
        for _ in range(2)
    ]
    events[1]["metadata"] = {"m": "INFINITY"}
    body = json.dumps({"events": events}).replace('"INFINITY"', "1e400")
    answer = server.request("POST", f"{BASE}/meters/ingest", body)
    assert answer.status == 200, answer.body
    result = json.loads(answer.body)
    assert (result["ingested"], result["rejected"]) == (1, 1)
    assert result["results"][1]["error"]["details"] == [
        {"field": "events[1].metadata.m", "error": "not_finite"}
    ]


# 4. Huge request lines
def test_a_20_mb_url_is_refused_414_at_once_and_health_is_served(server: Server) -> None:
    started = time.monotonic()
    answer = server.send(
        b"GET " + BASE.encode() + b"/crm/contacts?q=" + b"a" * 20_000_000 + b" HTTP/1.1\r\n"
        b"Host: sandbox\r\n\r\n",
        timeout=10,
    )
    error = answer.envelope(414, "uri_too_long")
    assert "8190 bytes" in error["message"]
    health = server.send(b"GET /healthz HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\n\r\n")
    assert health.status == 200
    assert time.monotonic() - started < 10  # before: 30 s of a worker on the URL


def test_a_url_just_under_the_limit_reaches_the_app(server: Server) -> None:
    path = f"{BASE}/crm/contacts?limit=1&q="
    padding = 8190 - len(f"GET {path} HTTP/1.1")
    assert server.request("GET", path + "a" * padding).status == 200
    server.request("GET", path + "a" * (padding + 1)).envelope(414, "uri_too_long")


# 5. What the server refuses before the app runs
@pytest.mark.parametrize(
    "data, status, code",
    [
        (b"GARBAGE\r\n\r\n", 400, "bad_request"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400, "bad_request"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400, "bad_request"),
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-%d: a\r\n" % i for i in range(150))
            + b"\r\n",
            431,
            "header_fields_too_large",
        ),
        (
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 9000 + b"\r\n\r\n",
            431,
            "header_fields_too_large",
        ),
        (
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            400,
            "bad_request",
        ),
        (
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: ab\r\n\r\n",
            400,
            "bad_request",
        ),
        (
            b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
            "bad_request",
        ),
    ],
    ids=[
        "request-line",
        "bare-cr",
        "nul",
        "too-many-headers",
        "header-too-large",
        "negative-length",
        "bad-length",
        "length-and-chunked",
    ],
)
def test_what_the_server_refuses_before_the_app_is_the_envelope(
    server: Server, data: bytes, status: int, code: str
) -> None:
    answer = server.send(data)
    answer.envelope(status, code)
    assert "x-ratelimit-limit" in answer.headers
    server.assert_serving()


def test_merged_slashes_are_no_path_of_the_spec(server: Server) -> None:
    error = server.request("GET", f"{BASE}//crm//contacts").envelope(404, "not_found")
    assert "//crm//contacts" in error["message"]


# 6. Chunked bodies
def _chunked(body: bytes) -> bytes:
    step = 65536
    chunks = b"".join(
        b"%x\r\n" % len(body[i : i + step]) + body[i : i + step] + b"\r\n"
        for i in range(0, len(body), step)
    )
    return chunks + b"0\r\n\r\n"


def test_a_chunked_body_over_the_limit_is_413(server: Server) -> None:
    body = b'{"first_name": "' + b"a" * (SPEC.max_request_bytes + 10) + b'"}'
    head = (
        f"POST {BASE}/crm/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.key}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    server.send(head.encode() + _chunked(body)).envelope(413, "payload_too_large")
    server.assert_serving()


@pytest.mark.parametrize(
    "chunks", [b"zz\r\n", b"3\r\nabcXX\r\n0\r\n\r\n", b"3;\x01\r\nabc\r\n0\r\n\r\n"]
)
def test_malformed_chunked_framing_is_400(server: Server, chunks: bytes) -> None:
    head = (
        f"POST {BASE}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.key}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    error = server.send(head.encode() + chunks).envelope(400, "bad_request")
    assert error["message"].startswith("Malformed chunked body")
    server.assert_serving()


def test_a_chunked_body_under_the_limit_is_read_whole(server: Server) -> None:
    body = b'{"first_name": "Chunk", "last_name": "' + b"b" * 100 + b'"}'
    head = (
        f"POST {BASE}/crm/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.key}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    answer = server.send(head.encode() + _chunked(body))
    assert answer.status == 201, answer.body


# 7. Search
def test_search_matches_percent_and_underscore_as_themselves(server: Server) -> None:
    marker = uuid.uuid4().hex[:8]
    names = [f"{marker}100%", f"{marker}1000", f"{marker}a_b", f"{marker}axb"]
    for name in names:
        body = json.dumps({"first_name": name})
        assert server.request("POST", f"{BASE}/crm/contacts", body).status == 201

    def found(term: str) -> list[str]:
        answer = server.request("GET", f"{BASE}/crm/contacts?limit=200&search={term}")
        return sorted(c["first_name"] for c in json.loads(answer.body)["items"])

    assert found(f"{marker}100%25") == [names[0]]
    assert found(f"{marker}a_b") == [names[2]]
    assert found(marker) == sorted(names)
    everything_with_percent = found("%25")
    assert names[0] in everything_with_percent
    assert all("%" in name for name in everything_with_percent)
