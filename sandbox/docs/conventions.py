"""Blocks of the convention sections: overview, authentication, tenancy, errors, rate limits,
pagination and idempotency, each read from the spec's structured parts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sandbox.docs.blocks import Block, Note, Request, Sample, Schema, Table, link, records_table
from sandbox.docs.calls import call
from sandbox.docs.examples import samples
from sandbox.docs.lifecycle import test_mode, versioning, webhooks
from sandbox.docs.model import parameter_field
from sandbox.docs.responses import ErrorCase, header_field, media_of
from sandbox.docs.schema import SchemaView
from sandbox.docs.text import slug, to_json

if TYPE_CHECKING:
    from sandbox.docs.section import Context


def overview(ctx: Context) -> list[Block]:
    """Base URL, the servers of the spec, and the surfaces (the first request is in
    Getting started)."""
    rows = [(f"`{ctx.base_url}`", "The sandbox these examples call")]
    rows += [
        (f"`{server['url']}`", server.get("description", ""))
        for server in ctx.spec.get("servers", [])
        if server["url"] != ctx.base_url
    ]
    surfaces = tuple(
        (group["name"], ", ".join(link(f"tag-{slug(tag)}", tag) for tag in group["tags"]))
        for group in ctx.spec.get("x-tagGroups", [])
    )
    blocks: list[Block] = [Table("Base URL", ("URL", "Server"), tuple(rows))]
    if surfaces:
        blocks.append(Table("Surfaces", ("Surface", "Resources"), surfaces))
    return blocks


def authentication(ctx: Context) -> list[Block]:
    """Key kinds by prefix, the scopes with the operations that need each, a 401 example."""
    blocks: list[Block] = []
    prefixes = ctx.spec.get("x-test-mode", {}).get("key_prefixes", {})
    if prefixes:
        rows = tuple((mode.capitalize(), f"`{prefix}…`") for mode, prefix in prefixes.items())
        blocks.append(Table("Keys", ("Mode", "Prefix"), rows))
    for scheme in ctx.spec.get("components", {}).get("securitySchemes", {}).values():
        scopes = scheme.get("x-scopes", {})
        scope_rows = tuple(
            (
                f"`{scope}`",
                grants,
                ", ".join(link(op.id, op.id) for op in ctx.operations if scope in op.scopes),
            )
            for scope, grants in scopes.items()
        )
        if scope_rows:
            blocks.append(Table("Scopes", ("Scope", "Grants", "Required by"), scope_rows))
    return blocks + _error_sample(ctx, "401", "401 Unauthorized")


def tenancy(ctx: Context) -> list[Block]:
    """The header that picks a business."""
    fields = tuple(
        parameter_field(ctx.resolver, param)
        for param in ctx.spec.get("components", {}).get("parameters", {}).values()
        if param.get("in") == "header" and "business" in param.get("name", "").lower()
    )
    return [Schema("Header", SchemaView(None, "", "", fields=fields))] if fields else []


def errors(ctx: Context) -> list[Block]:
    """The envelope schema, every code of its `code` enum with status and cause, an example."""
    media = _error_media(ctx)
    if not media:
        return []
    envelope, _ = ctx.resolver.schema(media["schema"])
    blocks: list[Block] = [Schema("Error envelope", ctx.resolver.view(media["schema"]))]
    cases = _error_cases(ctx, envelope)
    rows = tuple((case.status, f"`{case.code}`", case.when) for case in cases)
    anchors = tuple((f"error-{case.code}", case.code) for case in cases)
    blocks.append(Table("Error codes", ("Status", "Code", "When"), rows, anchors=anchors))
    limit = ctx.spec.get("x-max-request-bytes")
    if limit:
        blocks.append(Note(f"Request bodies are limited to {limit:,} bytes."))
    return blocks + _error_sample(ctx, "422", "422 Unprocessable Content")


def rate_limits(ctx: Context) -> list[Block]:
    """The plan table from `x-plans`, the rate-limit headers and a 429 example."""
    blocks: list[Block] = []
    plans = ctx.spec.get("x-plans", [])
    if plans:
        blocks.append(records_table("Plans", plans, code_column="plan", empty="unlimited"))
    headers = ctx.spec.get("components", {}).get("headers", {})
    fields = tuple(
        header_field(ctx.resolver, name, raw)
        for name, raw in headers.items()
        if "ratelimit" in name.lower() or name.lower() == "retry-after"
    )
    if fields:
        blocks.append(Schema("Headers", SchemaView(None, "", "", fields=fields)))
    return blocks + _error_sample(ctx, "429", "429 Too Many Requests")


def pagination(ctx: Context) -> list[Block]:
    """The paging parameters, the page schema, and a list call with its answer."""
    listing = next(
        (op for op in ctx.operations if any(p.name == "limit" for p in op.parameters)), None
    )
    if listing is None:
        return []
    fields = tuple(p for p in listing.parameters if p.name in ("limit", "offset"))
    blocks: list[Block] = [Schema("Query parameters", SchemaView(None, "", "", fields=fields))]
    page = ctx.spec.get("components", {}).get("schemas", {}).get("Page")
    if page:
        blocks.append(Schema("Page", ctx.resolver.view(page)))
    query = [
        {"name": p.name, "in": "query", "required": True, "example": e}
        for p, e in zip(fields, (2, 0), strict=False)
    ]
    blocks.append(
        Request(f"GET {listing.path}", samples(call("get", ctx.base_url + listing.path, query)))
    )
    if listing.responses and listing.responses[0].example:
        blocks.append(
            Sample(f"{listing.responses[0].status} OK", "json", listing.responses[0].example)
        )
    return blocks


def idempotency(ctx: Context) -> list[Block]:
    """The idempotency headers, the operations that take a key, and a retry-safe create."""
    creates = [op for op in ctx.operations if op.idempotent]
    if not creates:
        return []
    key = next(p for p in creates[0].parameters if p.name == "Idempotency-Key")
    replayed = [h for r in creates[0].responses for h in r.headers if "replay" in h.name.lower()]
    blocks: list[Block] = [
        Schema("Headers", SchemaView(None, "", "", fields=(key, *replayed[:1]))),
        Table(
            "Operations that take an Idempotency-Key",
            ("Operation", "Request"),
            tuple(
                (link(op.id, op.summary or op.id), f"`{op.method.upper()} {op.path}`")
                for op in creates
            ),
        ),
        Request(f"{creates[0].method.upper()} {creates[0].path}", creates[0].samples),
    ]
    return blocks


def _error_media(ctx: Context) -> dict[str, Any] | None:
    """The media type (schema and example) of the first error response of the spec."""
    for _, raw in _error_responses(ctx):
        response, _ = ctx.resolver.follow(raw)
        media = media_of(response)
        if "schema" in media:
            return media
    return None


def _error_sample(ctx: Context, status: str, label: str) -> list[Block]:
    """The JSON example of the first error response with this status, as a sample (if any)."""
    for code, raw in _error_responses(ctx):
        if code == status:
            response, _ = ctx.resolver.follow(raw)
            media = media_of(response)
            if "example" in media:
                return [Sample(label, "json", to_json(media["example"]))]
    return []


def _error_responses(ctx: Context) -> list[tuple[str, dict[str, Any]]]:
    """Every (status, response) pair of the spec's non-2xx responses, in spec order."""
    return [
        (str(status), raw)
        for item in ctx.spec.get("paths", {}).values()
        for op in item.values()
        if isinstance(op, dict) and "responses" in op
        for status, raw in op["responses"].items()
        if not str(status).startswith("2")
    ]


def _error_cases(ctx: Context, envelope: dict[str, Any]) -> list[ErrorCase]:
    """Each error code of the envelope's enum (then any other documented), with status and
    cause from the operations' responses, else from the spec's own Errors table."""
    known: dict[str, ErrorCase] = {}
    for case in (case for op in ctx.operations for case in op.errors):
        known.setdefault(case.code, case)
    table = _description_rows(ctx.prose.get("Errors", ""))
    codes = envelope.get("properties", {}).get("code", {}).get("enum", [])
    cases = []
    for code in dict.fromkeys([*codes, *(c for c in known if c)]):
        status, when = table.get(code, ("", ""))
        documented = known.get(code)
        cases.append(
            ErrorCase(
                documented.status if documented else status,
                code,
                (documented.when if documented else "") or when,
            )
        )
    return cases


def _description_rows(text: str) -> dict[str, tuple[str, str]]:
    """Rows `| status | `code` | when |` of a Markdown table, by code."""
    rows = {}
    for match in re.finditer(r"^\|\s*(\d{3})\s*\|\s*`([a-z_]+)`\s*\|\s*(.*?)\s*\|$", text, re.M):
        rows[match[2]] = (match[1], match[3])
    return rows


BUILDERS = {
    "Overview": overview,
    "Authentication": authentication,
    "Tenancy": tenancy,
    "Errors": errors,
    "Rate limits": rate_limits,
    "Pagination": pagination,
    "Idempotency": idempotency,
    "Webhooks": webhooks,
    "Versioning": versioning,
    "Test mode": test_mode,
}
