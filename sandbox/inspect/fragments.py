"""Rendering what the API answered as an HTML fragment: the data, or the API's refusal.

A fragment carries the API's status, so a refused call (401 bad key, 403 missing scope,
404, 422, 429) is a fragment with that status showing the envelope's code and message;
the page's script swaps fragments of every status in.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, render_template, request

from sandbox.inspect.dispatch import Answer

PAGE_SIZE = 50
HTML = "text/html"


def show(template: str, answer: Answer, **context: Any) -> Response:
    """`template` filled with the answer's body as `data`; the refusal if the API refused."""
    if not answer.ok:
        return refused(answer)
    page = render_template(template, data=answer.body, **context)
    return Response(page, status=answer.status, mimetype=HTML)


def refused(answer: Answer) -> Response:
    """The API's error as a readable message, with the API's status."""
    page = render_template("inspect/error.html", status=answer.status, error=answer.error)
    return Response(page, status=answer.status, mimetype=HTML)


def first_refusal(*answers: Answer) -> Answer | None:
    """The first answer that is not a success, if any."""
    return next((answer for answer in answers if not answer.ok), None)


def page_query(*filters: str) -> dict[str, str]:
    """This request's values of `filters` plus the page (`offset`, `limit`), for a list call.

    Values pass unchecked: the API validates them and its refusal is what the visitor sees.
    """
    query = {name: request.args.get(name, "").strip() for name in filters}
    query["offset"] = request.args.get("offset", "").strip()
    query["limit"] = str(PAGE_SIZE)
    return query


def pretty(value: Any) -> str:
    """`value` as indented JSON (autoescaped where it is shown)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def body_text(body: str | None) -> str:
    """A logged body for reading: indented if it is JSON, else as it was; '' for none."""
    if body is None:
        return ""
    try:
        return pretty(json.loads(body))
    except ValueError:
        return body


def amount(value: int | None) -> str:
    """An amount in minor units with thousands separators ('' for none)."""
    return "" if value is None else f"{value:,}"


def when(value: str | None) -> str:
    """An API timestamp to the second, for a table cell: `2026-11-20 10:30:00`."""
    return "" if value is None else value[:19].replace("T", " ")


HELPERS = {"pretty": pretty, "body_text": body_text, "amount": amount, "when": when}
