"""The inspector at `/inspect`: one company's requests, events, records and test clock.

`GET /inspect` is the page (no data in it); its fragments under `/inspect/…` each call
one or more spec operations in-process as the visitor (sandbox/inspect/dispatch.py) and
render the JSON. The visitor's key lives in the tab's sessionStorage only: the page's
script sends it as `Authorization` on each fragment request, and the server keeps nothing.
Routes that are not fragments (an unknown path, a wrong method) are answered by the app's
error handlers, with the envelope, as every other path of the sandbox is.

Static files: htmx 2.0.11 (`htmx.min.js` from the npm package `htmx.org`, its licence in
`htmx.LICENSE`), `inspect.js` and `inspect.css`.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from flask import Blueprint, Response, render_template, request

from sandbox.inspect import records, traffic
from sandbox.inspect.dispatch import call, spec
from sandbox.inspect.fragments import HELPERS, HTML, refused, show

HTMX_VERSION = "2.0.11"
# What each advance button asks advanceTestClock for (ClockAdvance: seconds, days or to).
STEPS: dict[str, dict[str, int | str]] = {"hour": {"seconds": 3600}, "day": {"days": 1}}
STEP_LABELS = (("hour", "+1 hour"), ("day", "+1 day"), ("month", "+1 month"))
TABS = (
    ("requests", "Requests"),
    ("events", "Events & webhooks"),
    ("sms", "SMS outbox"),
    ("chat", "Chat"),
    ("orders", "Orders & payments"),
    ("usage", "Usage"),
)


def blueprint() -> Blueprint:
    """The inspector's blueprint: the page, its fragments and its static files."""
    inspect = Blueprint(
        "inspect",
        __name__,
        url_prefix="/inspect",
        template_folder="templates",
        static_folder="static",
    )
    inspect.context_processor(lambda: HELPERS)
    inspect.add_url_rule("", view_func=show_page, methods=["GET"], strict_slashes=False)
    inspect.add_url_rule("/account", view_func=show_account, methods=["GET"])
    inspect.add_url_rule("/clock", view_func=show_clock, methods=["GET"])
    inspect.add_url_rule("/clock/advance", view_func=advance_clock, methods=["POST"])
    traffic.register(inspect)
    records.register(inspect)
    return inspect


def show_page() -> Response:
    """The inspector's page: the key form, the tabs and their empty panels (their filters'
    choices read from the spec)."""
    served = spec()
    page = render_template(
        "inspect/page.html",
        tabs=TABS,
        htmx_version=HTMX_VERSION,
        status_classes=choices("listRequestLog", "status_class"),
        operation_ids=sorted(served.operations),
        event_types=served.schema("WebhookEventType")["enum"],
        sms_statuses=choices("listSmsMessages", "status"),
        order_statuses=choices("listOrders", "status"),
    )
    return Response(page, mimetype=HTML)


def choices(operation_id: str, parameter: str) -> list[str]:
    """The values the spec allows for one query parameter of an operation."""
    for found in spec().operations[operation_id].parameters:
        if found["name"] == parameter and found["in"] == "query":
            return list(found["schema"]["enum"])
    raise KeyError(f"{operation_id} has no query parameter {parameter}")


def show_account() -> Response:
    """The key's company, plan and scopes, and the business selector (getAccount)."""
    return show("inspect/account.html", call("getAccount"))


def show_clock() -> Response:
    """The company's test clock with its advance buttons (getTestClock)."""
    return show("inspect/clock.html", call("getTestClock"), steps=STEP_LABELS)


def advance_clock() -> Response:
    """Move the clock by the form's `step` (hour, day, month) with advanceTestClock.

    A month is a calendar month from the clock's current time (read with getTestClock),
    sent as `to`; an unknown step is the API's own refusal of an empty advance. A refusal
    is shown under the clock as it stands, with the refusal's status.
    """
    clock = call("getTestClock")
    if not clock.ok:
        return refused(clock)
    step = request.form.get("step", "")
    body: dict[str, int | str] = dict(STEPS.get(step, {}))
    if step == "month":
        body = {"to": _iso(month_after(_parse(clock.body["now"])))}
    answer = call("advanceTestClock", body=body)
    if not answer.ok:
        page = render_template(
            "inspect/clock.html", data=clock.body, steps=STEP_LABELS, refusal=answer
        )
        return Response(page, status=answer.status, mimetype=HTML)
    response = show("inspect/clock.html", answer, steps=STEP_LABELS)
    # Everything that reads the clock (usage ranges, retries due) is worth reloading.
    response.headers["HX-Trigger"] = "inspect:refresh"
    return response


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def month_after(moment: datetime) -> datetime:
    """The same time a calendar month later (the 31st becomes the month's last day)."""
    year, month = divmod(moment.month, 12)
    year, month = moment.year + year, month + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
