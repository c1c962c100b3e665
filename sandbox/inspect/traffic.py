"""The inspector's traffic fragments: the request log, and webhook events with their
deliveries, attempts and Resend.

    GET  /inspect/requests                    listRequestLog (status_class, operation_id,
                                              request_id, offset)
    GET  /inspect/requests/<id>               getRequestLogEntry
    GET  /inspect/events                      listWebhookEvents (type, offset)
    GET  /inspect/events/<id>                 getWebhookEvent
    POST /inspect/deliveries/<id>/resend      resendWebhookDelivery, then getWebhookEvent
"""

from __future__ import annotations

from flask import Blueprint, Response

from sandbox.inspect.dispatch import call
from sandbox.inspect.fragments import page_query, refused, show

REQUEST_FILTERS = ("status_class", "operation_id", "request_id")


def register(inspect: Blueprint) -> None:
    """Add the traffic fragments to the inspector's blueprint."""
    inspect.add_url_rule("/requests", view_func=list_requests, methods=["GET"])
    inspect.add_url_rule("/requests/<request_log_id>", view_func=show_request, methods=["GET"])
    inspect.add_url_rule("/events", view_func=list_events, methods=["GET"])
    inspect.add_url_rule("/events/<event_id>", view_func=show_event, methods=["GET"])
    inspect.add_url_rule(
        "/deliveries/<delivery_id>/resend", view_func=resend_delivery, methods=["POST"]
    )


def list_requests() -> Response:
    """The company's logged requests, newest first, filtered as the form says."""
    query = page_query(*REQUEST_FILTERS)
    filtered = any(query[name] for name in REQUEST_FILTERS)
    return show("inspect/requests.html", call("listRequestLog", query=query), filtered=filtered)


def show_request(request_log_id: str) -> Response:
    """One logged request: its request and response, headers and bodies."""
    answer = call("getRequestLogEntry", {"request_log_id": request_log_id})
    return show("inspect/request.html", answer)


def list_events() -> Response:
    """The company's webhook events, newest first (optionally of one `type`)."""
    answer = call("listWebhookEvents", query=page_query("type"))
    return show("inspect/events.html", answer)


def show_event(event_id: str) -> Response:
    """One event: its payload and each delivery with every attempt."""
    return show("inspect/event.html", call("getWebhookEvent", {"event_id": event_id}))


def resend_delivery(delivery_id: str) -> Response:
    """Queue one more attempt of the delivery, then show its event as it now stands."""
    resent = call("resendWebhookDelivery", {"delivery_id": delivery_id})
    if not resent.ok:
        return refused(resent)
    return show_event(resent.body["event_id"])
