"""Pagination: the `limit`/`offset` invariants of every list, and its bounds.

A list is a GET whose 2xx schema is `allOf` with the shared Page schema. A list behind a
path parameter (`/websites/{website_id}/conversion-events`) gets its parent from a create
whose response links to it. Lists with fewer than three items get a few from the create
that feeds them, so that a walk spans several pages.
"""

from __future__ import annotations

import json
import math
from typing import Any

from contracts.context import Context, Rule
from contracts.factory import Factory, SetupError
from contracts.links import evaluate_all
from contracts.outcome import Verdict
from contracts.spec import Operation

RULES = (
    Rule(
        "pagination.page",
        "Every page has len(items) <= limit, echoes limit and offset, and has_more == "
        "(offset + len(items) < total).",
    ),
    Rule("pagination.walk", "Walking all pages yields every item exactly once, total items."),
    Rule("pagination.bounds", "A limit or offset outside the spec's bounds is 422."),
)
MIN_ITEMS = 3


def check(ctx: Context, verdicts: dict[str, Verdict]) -> None:
    for listing in ctx.spec.lists:
        ctx.progress(f"pagination {listing.operation_id}")
        factory = ctx.main.factory
        try:
            params = parent_params(ctx, factory, listing)
        except SetupError as exc:
            for verdict in verdicts.values():
                verdict.expect(
                    False, listing.label, "a parent made from the spec's example", exc.exchange
                )
            continue
        if params is None:
            for verdict in verdicts.values():
                verdict.skip(f"{listing.label}: no create links to it to supply its parent")
            continue
        if bounds := verdicts.get("pagination.bounds"):
            check_bounds(factory, listing, params, bounds)
        if {"pagination.page", "pagination.walk"} & set(verdicts):
            fill(ctx, factory, listing, params)
            walk(ctx, factory, listing, params, verdicts)


def parent_params(ctx: Context, factory: Factory, listing: Operation) -> dict[str, Any] | None:
    """Path parameters for `listing`, from a create that links to it; None if none does."""
    if not listing.path_parameters:
        return {}
    for create in ctx.spec.creates:
        for link in create.links:
            if link.operation_id == listing.operation_id:
                body = factory.body(create)
                made = factory.send(create, params=factory.path_params(create), body=body)
                if not made.ok:
                    raise SetupError(create, made)
                return evaluate_all(link.parameters, request_body=body, response=made)
    return None


def fill(ctx: Context, factory: Factory, listing: Operation, params: dict[str, Any]) -> None:
    """Create items until the list has MIN_ITEMS, when a create at its path feeds it."""
    feeders = [op for op in ctx.spec.creates if op.path == listing.path]
    first = factory.send(listing, params=params, query={"limit": 1})
    total = (first.json() or {}).get("total", 0) if first.ok else MIN_ITEMS
    for _ in range(max(0, MIN_ITEMS - total) if feeders and isinstance(total, int) else 0):
        factory.send(feeders[0], params=params, body=factory.body(feeders[0]))


def walk(ctx: Context, factory: Factory, listing: Operation, params: dict, verdicts: dict) -> None:
    page_v, walk_v = verdicts.get("pagination.page"), verdicts.get("pagination.walk")
    first = factory.send(listing, params=params, query={"limit": 1})
    total = (first.json() or {}).get("total") if first.ok else None
    if not isinstance(total, int):
        for verdict in (page_v, walk_v):
            if verdict:
                verdict.expect(False, listing.label, "a page with an integer total", first)
        return
    maximum = (listing.parameter("limit") or {}).get("schema", {}).get("maximum", 200)
    # About four pages, or as few as the profile's page budget allows for a long list.
    limit = min(maximum, max(1, math.ceil(total / 4), math.ceil(total / ctx.profile.max_pages)))
    seen: list[str] = []
    offset = 0
    for _ in range(ctx.profile.max_pages):
        answer = factory.send(listing, params=params, query={"limit": limit, "offset": offset})
        page = answer.json() if answer.ok else None
        problems = page_problems(page, limit, offset)
        if page_v is not None:
            page_v.expect(
                not problems,
                listing.label,
                "a consistent page",
                answer,
                "; ".join(problems) or None,
            )
        if problems or not isinstance(page, dict):
            if walk_v is not None:
                walk_v.expect(
                    False,
                    listing.label,
                    f"a walk over consistent pages (limit {limit})",
                    answer,
                    f"at offset {offset}: " + "; ".join(problems),
                )
            return
        seen += [identity(item) for item in page["items"]]
        if not page["has_more"]:
            break
        offset += limit
    else:
        if walk_v is not None:
            walk_v.skip(f"{listing.label}: more than {ctx.profile.max_pages} pages, walk cut short")
        return
    if walk_v is not None:
        walk_v.expect(
            len(seen) == len(set(seen)) == total,
            listing.label,
            f"{total} distinct items over the pages (limit {limit})",
            got=f"{len(seen)} items, {len(set(seen))} distinct",
        )


def page_problems(page: Any, limit: int, offset: int) -> list[str]:
    """What breaks the page invariants (empty list: none)."""
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        return ["no items list"]
    items, total = page["items"], page.get("total")
    problems = []
    if len(items) > limit:
        problems.append(f"{len(items)} items for limit {limit}")
    if page.get("limit") != limit or page.get("offset") != offset:
        problems.append(
            f"limit/offset {page.get('limit')}/{page.get('offset')} echoed for {limit}/{offset}"
        )
    if not isinstance(total, int):
        return [*problems, "total is not an integer"]
    if page.get("has_more") != (offset + len(items) < total):
        problems.append(
            f"has_more {page.get('has_more')} with offset {offset}, "
            f"{len(items)} items, total {total}"
        )
    if len(items) != max(0, min(limit, total - offset)):
        problems.append(f"{len(items)} items where {max(0, min(limit, total - offset))} remain")
    return problems


def identity(item: Any) -> str:
    """An item's id (`id`, else the first `*_id`), else its JSON."""
    if isinstance(item, dict):
        if "id" in item:
            return str(item["id"])
        for key, value in item.items():
            if key.endswith("_id"):
                return f"{key}={value}"
    return json.dumps(item, sort_keys=True)


def check_bounds(factory: Factory, listing: Operation, params: dict, verdict: Verdict) -> None:
    for name in ("limit", "offset"):
        schema = (listing.parameter(name) or {}).get("schema", {})
        for value in (schema.get("minimum"), schema.get("maximum")):
            if value is None:
                continue
            outside = value - 1 if value == schema.get("minimum") else value + 1
            answer = factory.send(listing, params=params, query={name: outside})
            code = (answer.json() or {}).get("code") if answer.status == 422 else None
            verdict.expect(
                code == "validation_error",
                listing.label,
                f"422 validation_error for {name}={outside}",
                answer,
            )
