"""A stateless mock of openapi.yaml, like `prism mock`: it validates requests, answers examples.

Nothing is stored: a create answers its example (the same id every time), a delete succeeds
and the resource is still served, a list answers its example page. Any non-empty bearer key
is accepted, so every key sees the same account. There is no rate limiting (never 429), no
idempotent replay and no pagination beyond the example. Operations named in `hang` sleep
before answering, whatever the request holds, to stand for a server that never answers.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.spec import Operation, Spec, load_spec
from tests.contracts.serving import served

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")
RATE_LIMIT = 1000
WINDOW_SECONDS = 60
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    422: "validation_error",
}
COERCIONS: dict[Any, Callable[[str], Any]] = {
    "integer": int,
    "number": float,
    "boolean": {"true": True, "false": False}.__getitem__,
}
NO_BODY = object()  # the canned answer of an operation whose 2xx has no content
MISSING_FIELD = "Missing required field: {field}"
INVALID_FIELD = "Field '{field}' is invalid: {reason}"


@dataclass
class Refusal(Exception):
    """A request the mock answers with the error envelope (code by status) instead."""

    status: int
    message: str
    details: list[dict[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One operation compiled at start-up: its checks and its canned answer."""

    operation: Operation
    secured: bool
    parameters: Any  # validator of the parameters as one object, keyed by name
    body: Any  # validator of the JSON body, None when the operation takes none
    status: int
    example: Any  # NO_BODY when the 2xx has no content
    headers: dict[str, str]  # fixed success headers: Deprecation and Sunset


def stateless_app(
    spec: Spec | None = None, hang: Collection[str] = frozenset(), hang_seconds: float = 60.0
) -> WsgiApp:
    """A WSGI app answering every operation of `spec` (default: openapi.yaml) with its example.

    Raises ValueError if `hang` names an operation the spec does not have.
    """
    spec = spec or load_spec()
    routes = {op_id: compile_route(spec, op) for op_id, op in spec.operations.items()}
    if unknown := set(hang) - set(routes):
        raise ValueError(f"no such operations to hang: {sorted(unknown)}")
    rules = [
        Rule(
            spec.base_path + re.sub(r"\{(\w+)\}", r"<\1>", op.path),
            endpoint=op_id,
            methods=[op.method],
        )
        for op_id, op in spec.operations.items()
    ]
    url_map = Map(rules, merge_slashes=False)

    @Request.application
    def app(request: Request) -> Response:
        request_id = f"req_{secrets.token_hex(12)}"
        try:
            route, path_args = match(url_map, routes, request)
            if route.operation.operation_id in hang:
                time.sleep(hang_seconds)  # before any check: a malformed request hangs too
            authenticate(route, request)
            check_parameters(route, request, path_args)
            check_body(route, request)
            response = answer(route)
        except Refusal as refusal:
            response = envelope(refusal, request_id)
        limits = (RATE_LIMIT, RATE_LIMIT - 1, int(time.time()) + WINDOW_SECONDS)
        response.headers.update(zip(RATE_HEADERS, map(str, limits), strict=True))
        response.headers["X-Request-Id"] = request_id
        return response

    return app


def compile_route(spec: Spec, op: Operation) -> Route:
    """Compile `op`'s validators and canned answer; raises ValueError if a fixed header
    the mock sends breaks the schema `components/headers` gives it."""
    response = spec.resolve(op.raw["responses"][str(op.success_status)])
    declared = {name: spec.resolve(node) for name, node in response.get("headers", {}).items()}
    fixed = {"Deprecation": op.deprecation_header, "Sunset": op.sunset_header}
    headers = {name: value for name, value in fixed.items() if name in declared and value}
    for name, value in headers.items():
        if not validator(spec, declared[name].get("schema", {})).is_valid(value):
            raise ValueError(f"{op.operation_id}: {name} {value!r} breaks its schema")
    content = response.get("content", {}).get("application/json")
    parameters = {
        "type": "object",
        "properties": {p["name"]: p.get("schema", {}) for p in op.parameters},
        "required": [p["name"] for p in op.parameters if p.get("required")],
    }
    return Route(
        operation=op,
        secured=bool(op.raw.get("security", spec.raw.get("security"))),
        parameters=validator(spec, parameters),
        body=validator(spec, op.request_schema) if op.request_schema else None,
        status=op.success_status,
        example=NO_BODY if content is None else example_of(spec, content),
        headers=headers,
    )


def validator(spec: Spec, schema: dict[str, Any]) -> Any:
    """A jsonschema-rs validator of `schema`, its `$ref`s resolved within the spec."""
    document = {"components": spec.raw["components"], **schema}
    return jsonschema_rs.validator_for(document, validate_formats=True)


def example_of(spec: Spec, content: dict[str, Any]) -> Any:
    """The media type's `example`, else its first `examples` entry, else one built."""
    if "example" in content:
        return content["example"]
    if examples := content.get("examples"):
        return spec.resolve(next(iter(examples.values()))).get("value")
    return minimal_value(spec, content.get("schema", {}))


def minimal_value(spec: Spec, schema: dict[str, Any]) -> Any:
    """A small value for `schema`: its example or default, else its required properties."""
    schema = spec.resolve(schema)
    if known := [schema[key] for key in ("example", "default", "const") if key in schema]:
        return known[0]
    if listed := schema.get("examples") or schema.get("enum"):
        return listed[0]
    if alternatives := schema.get("oneOf") or schema.get("anyOf") or schema.get("allOf"):
        return minimal_value(spec, alternatives[0])
    kind = schema.get("type", "object")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            name: minimal_value(spec, properties.get(name, {}))
            for name in schema.get("required", [])
        }
    empty = {"array": [], "string": "", "integer": 0, "number": 0, "boolean": False}
    return empty.get(kind)


def match(url_map: Map, routes: dict[str, Route], request: Request) -> tuple[Route, dict]:
    """The route and path arguments of `request`; Refusal 404 or 405 (with `Allow`)."""
    try:
        endpoint, path_args = url_map.bind_to_environ(request.environ).match()
    except MethodNotAllowed as error:
        allowed = [m for m in HTTP_METHODS if m in (error.valid_methods or ())]
        message = f"{request.method} is not allowed on {request.path}"
        raise Refusal(405, message, headers={"Allow": ", ".join(allowed)}) from None
    except HTTPException:  # not found, or a redirect to a path that would match
        raise Refusal(404, f"No such path: {request.path}") from None
    return routes[endpoint], path_args


def authenticate(route: Route, request: Request) -> None:
    """Refusal 401 unless a secured operation has `Authorization: Bearer <non-empty>`."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if route.secured and not (scheme.lower() == "bearer" and token.strip()):
        message = "Missing or malformed API key"
        raise Refusal(401, message, headers={"WWW-Authenticate": "Bearer"})


def check_parameters(route: Route, request: Request, path_args: dict[str, str]) -> None:
    """Refusal 400 for a missing required parameter, 422 for a bad one (coerced first)."""
    sources = {"path": path_args, "query": request.args, "header": request.headers}
    values = {
        p["name"]: coerce(raw, p.get("schema", {}))
        for p in route.operation.parameters
        if (raw := sources.get(p["in"], {}).get(p["name"])) is not None
    }
    refuse_errors(route.parameters, values)


def coerce(value: str, schema: dict[str, Any]) -> Any:
    """`value` as the type `schema` declares, or unchanged if it does not read as one."""
    convert = COERCIONS.get(schema.get("type"), str)
    try:
        return convert(value)
    except (KeyError, ValueError):
        return value


def check_body(route: Route, request: Request) -> None:
    """Refusal 400 for a missing or malformed body or a missing field, 422 for a bad value."""
    if route.body is None:
        return
    data = request.get_data(cache=False)
    if not data:
        if route.operation.body_required:
            raise Refusal(400, "A JSON request body is required")
        return
    try:
        body = json.loads(data, parse_constant=_not_json)
    except ValueError as error:  # UnicodeDecodeError too
        raise Refusal(400, f"Malformed JSON body: {error}") from None
    refuse_errors(route.body, body)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def refuse_errors(check: Any, instance: Any) -> None:
    """Refusal for `instance`'s schema errors: 400 if a required field is missing, else 422."""
    described = [describe(error) for error in check.iter_errors(instance)]
    if described:
        missing = [entry for entry in described if entry[0]["error"] == "required"]
        chosen = missing or described
        raise Refusal(400 if missing else 422, chosen[0][1], [detail for detail, _ in chosen])


def describe(error: Any) -> tuple[dict[str, str], str]:
    """(detail, message) for one jsonschema-rs error; a missing field's error is `required`."""
    kind, path = error.kind, list(error.instance_path)
    name = type(kind).__name__
    if name == "Required":
        where = field_path([*path, kind.property])
        return {"field": where, "error": "required"}, MISSING_FIELD.format(field=where)
    if name == "AdditionalProperties":
        path.append((kind.as_dict().get("unexpected") or ["?"])[0])
    where = field_path(path) or "body"
    code = re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
    return {"field": where, "error": code}, INVALID_FIELD.format(field=where, reason=error.message)


def field_path(parts: list[Any]) -> str:
    """`['events', 3, 'event']` as `events[3].event`."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")


def answer(route: Route) -> Response:
    """The operation's success status with its example (no body when it has no content)."""
    if route.example is NO_BODY:
        response = Response(status=route.status)
        del response.headers["Content-Type"]
    else:
        body = json.dumps(route.example)
        response = Response(body, route.status, mimetype="application/json")
    response.headers.update(route.headers)
    return response


def envelope(refusal: Refusal, request_id: str) -> Response:
    """The error envelope `{code, message, details?, request_id}` of `refusal`."""
    body: dict[str, Any] = {"code": ERROR_CODES[refusal.status], "message": refusal.message}
    if refusal.details:
        body["details"] = refusal.details
    body["request_id"] = request_id
    response = Response(json.dumps(body), refusal.status, mimetype="application/json")
    response.headers.update(refusal.headers)
    return response


@contextmanager
def serving_app(app: WsgiApp, base_path: str | None = None) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port, threaded) until the block ends.

    Yields the base URL with the spec's base path (or `base_path`). Each request runs in
    its own daemon thread, so a hung one never delays shutdown.
    """
    with served(app) as origin:
        yield origin + (load_spec().base_path if base_path is None else base_path)
