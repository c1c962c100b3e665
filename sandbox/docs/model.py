"""The spec's operations and webhook events as a view model the templates render.

Operations are grouped as the spec groups them: `x-tagGroups` of tags, each tag in the
order of the spec's `tags` list, operations in the order of `paths`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.docs.calls import Call, IdMap, call, parameter_example, same_id
from sandbox.docs.constraints import describe, type_label
from sandbox.docs.examples import samples
from sandbox.docs.responses import ErrorCase, Response, error_case, media_of, refusals, success
from sandbox.docs.schema import Field, Resolver, SchemaView
from sandbox.docs.text import slug, to_json

METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
# Parameters that carry a convention, and the guide section that states it once.
CONVENTIONS = {
    "Idempotency-Key": "[Idempotency](#idempotency)",
    "X-Business-Id": "[Tenancy](#tenancy)",
    "limit": "[Pagination](#pagination)",
    "offset": "[Pagination](#pagination)",
}


@dataclass(frozen=True)
class Input:
    """A parameter a reader can set when trying an operation, with the example's value."""

    name: str
    location: str
    value: str
    required: bool


@dataclass(frozen=True)
class Operation:
    """One operation (or webhook event: `path` is then the event name, no call or samples)."""

    id: str
    method: str
    path: str
    summary: str
    description: str
    tag: str
    scopes: tuple[str, ...]
    parameters: tuple[Field, ...]
    body: SchemaView | None
    body_required: bool
    body_example: str | None
    responses: tuple[Response, ...]
    errors: tuple[ErrorCase, ...]
    call: Call | None
    samples: tuple[tuple[str, str], ...]
    inputs: tuple[Input, ...]
    deprecated: bool
    deprecated_at: str | None
    sunset: str | None
    sandbox_only: bool
    idempotent: bool

    @property
    def curl(self) -> str:
        """The curl sample ("" for a webhook event)."""
        return dict(self.samples).get("curl", "")


@dataclass(frozen=True)
class Tag:
    """A tag with its operations, in spec order."""

    name: str
    anchor: str
    description: str
    surface: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class Group:
    """An `x-tagGroups` entry: a named group of tags."""

    name: str
    anchor: str
    tags: tuple[Tag, ...]


def operations(
    spec: dict[str, Any], resolver: Resolver, base_url: str, ids: IdMap = same_id
) -> list[Operation]:
    """Every operation under `paths`, in spec order; `ids` picks the ids its samples use."""
    found = []
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                op = item[method]
                found.append(_operation(resolver, method, path, op, shared, base_url, ids))
    return found


def webhook_events(spec: dict[str, Any], resolver: Resolver) -> list[Operation]:
    """The top-level `webhooks`: one entry per event, its payload as the body."""
    events = []
    for name, item in spec.get("webhooks", {}).items():
        for method in METHODS:
            if method in item:
                events.append(_operation(resolver, method, name, item[method], [], ""))
    return events


def groups(spec: dict[str, Any], found: list[Operation]) -> list[Group]:
    """Tags grouped by `x-tagGroups`; tags in no group form a trailing `Other` group."""
    declared = {tag["name"]: tag for tag in spec.get("tags", [])}
    names = list(dict.fromkeys([*declared, *(op.tag for op in found)]))
    tags = {
        name: Tag(
            name=name,
            anchor=f"tag-{slug(name)}",
            description=declared.get(name, {}).get("description", ""),
            surface=declared.get(name, {}).get("x-surface", ""),
            operations=tuple(op for op in found if op.tag == name),
        )
        for name in names
    }
    layout = [(g["name"], g["tags"]) for g in spec.get("x-tagGroups", [])]
    grouped = {name for _, members in layout for name in members}
    rest = [name for name in names if name not in grouped]
    if rest:
        layout.append(("Other", rest))
    return [
        Group(name, f"group-{slug(name)}", tuple(tags[n] for n in members if n in tags))
        for name, members in layout
    ]


def _operation(
    resolver: Resolver,
    method: str,
    path: str,
    op: dict[str, Any],
    shared: list[dict[str, Any]],
    base_url: str,
    ids: IdMap = same_id,
) -> Operation:
    """The view of one operation; `base_url` empty means no call and no samples."""
    params = {}
    for raw in [*shared, *op.get("parameters", [])]:
        param, _ = resolver.follow(raw)
        params[(param["name"], param["in"])] = param
    body, body_required, body_example = None, False, None
    body_value = None
    if "requestBody" in op:
        request, _ = resolver.follow(op["requestBody"])
        body_required = bool(request.get("required"))
        media = media_of(request)
        body = resolver.view(media["schema"]) if "schema" in media else None
        if "example" in media:
            body_value = media["example"]
            body_example = to_json(body_value)
    idempotent = any(name == "Idempotency-Key" for name, _ in params)
    responses, errors = [], []
    for status, raw in op.get("responses", {}).items():
        response, _ = resolver.follow(raw)
        if str(status).startswith("2"):
            responses.append(success(resolver, str(status), response))
        else:
            errors.append(error_case(str(status), response))
            errors += refusals(op, str(status))
    security = op.get("security") or []
    operation_id = op.get("operationId") or slug(f"{method} {path}")
    made = (
        call(
            method,
            base_url + path,
            list(params.values()),
            body_value,
            idempotent,
            operation_id=operation_id,
            ids=ids,
        )
        if base_url
        else None
    )
    return Operation(
        id=operation_id,
        method=method,
        path=path,
        summary=op.get("summary", ""),
        description=op.get("description", ""),
        tag=(op.get("tags") or ["Other"])[0],
        scopes=tuple(scope for entry in security for scopes in entry.values() for scope in scopes),
        parameters=tuple(parameter_field(resolver, p) for p in params.values()),
        body=body,
        body_required=body_required,
        body_example=body_example,
        responses=tuple(responses),
        errors=tuple(errors),
        call=made,
        samples=samples(made) if made else (),
        inputs=tuple(_inputs(list(params.values()), operation_id, ids)) if made else (),
        deprecated=bool(op.get("deprecated")),
        deprecated_at=_text(op.get("x-deprecated-at")),
        sunset=_text(op.get("x-sunset")),
        sandbox_only=bool(op.get("x-sandbox-only")),
        idempotent=idempotent,
    )


def _inputs(params: list[dict[str, Any]], operation_id: str, ids: IdMap) -> list[Input]:
    """The path and query parameters a reader may set, path first; the example's values for
    path and required query parameters, empty for the others."""
    found = []
    for param in sorted(params, key=lambda p: p["in"] != "path"):
        if param["in"] not in ("path", "query"):
            continue
        value = parameter_example(param)
        shown = ""
        if value is not None and (param["in"] == "path" or param.get("required")):
            shown = ids(operation_id, param["name"], str(value))
        found.append(Input(param["name"], param["in"], shown, bool(param.get("required"))))
    return found


def parameter_field(resolver: Resolver, param: dict[str, Any]) -> Field:
    """A parameter as a row: its schema's type and notes, plus its own example."""
    schema, _ = resolver.schema(param.get("schema", {}))
    notes = describe(
        {**schema, **({"example": param["example"]} if "example" in param else {})}, resolver.schema
    )
    return Field(
        path="",
        name=param["name"],
        type=type_label(schema, resolver.schema),
        required=bool(param.get("required")),
        description=param.get("description") or schema.get("description", ""),
        notes=notes,
        test_values=tuple(param.get("x-test-values", schema.get("x-test-values", ()))),
        location=param["in"],
        see=CONVENTIONS.get(param["name"], ""),
    )


def _text(value: Any) -> str | None:
    """A scalar extension value (a date, say) as text; None stays None."""
    return None if value is None else str(value)
