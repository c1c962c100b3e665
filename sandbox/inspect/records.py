"""The inspector's record fragments: the business's SMS outbox, chat conversations, orders
with their payments and refunds, and usage per meter.

    GET /inspect/sms                      listSmsMessages (status, offset)
    GET /inspect/conversations            listConversations (offset)
    GET /inspect/conversations/<id>       getConversation
    GET /inspect/orders                   listOrders (status, offset)
    GET /inspect/orders/<id>              listPayments (order_id), listRefunds (payment_id)
    GET /inspect/meters                   listMeters (offset), getMeterUsage for each meter
"""

from __future__ import annotations

from flask import Blueprint, Response

from sandbox.inspect.dispatch import call
from sandbox.inspect.fragments import first_refusal, page_query, refused, show

# Payments of one order and refunds of one payment: more than the inspector lists is rare.
DETAIL_LIMIT = "100"


def register(inspect: Blueprint) -> None:
    """Add the record fragments to the inspector's blueprint."""
    inspect.add_url_rule("/sms", view_func=list_sms, methods=["GET"])
    inspect.add_url_rule("/conversations", view_func=list_conversations, methods=["GET"])
    inspect.add_url_rule(
        "/conversations/<conversation_id>", view_func=show_conversation, methods=["GET"]
    )
    inspect.add_url_rule("/orders", view_func=list_orders, methods=["GET"])
    inspect.add_url_rule("/orders/<order_id>", view_func=show_order, methods=["GET"])
    inspect.add_url_rule("/meters", view_func=list_meters, methods=["GET"])


def list_sms() -> Response:
    """The SMS outbox of the business, newest first."""
    return show("inspect/sms.html", call("listSmsMessages", query=page_query("status")))


def list_conversations() -> Response:
    """The business's chat conversations."""
    return show("inspect/conversations.html", call("listConversations", query=page_query()))


def show_conversation(conversation_id: str) -> Response:
    """One conversation with its messages."""
    answer = call("getConversation", {"conversation_id": conversation_id})
    return show("inspect/conversation.html", answer)


def list_orders() -> Response:
    """The business's orders (optionally of one `status`)."""
    return show("inspect/orders.html", call("listOrders", query=page_query("status")))


def show_order(order_id: str) -> Response:
    """The order's payments (listPayments by order_id), each with its refunds."""
    payments = call("listPayments", query={"order_id": order_id, "limit": DETAIL_LIMIT})
    if not payments.ok:
        return refused(payments)
    refunds = {
        payment["id"]: call(
            "listRefunds", query={"payment_id": payment["id"], "limit": DETAIL_LIMIT}
        )
        for payment in payments.body["items"]
    }
    if (refusal := first_refusal(*refunds.values())) is not None:
        return refused(refusal)
    return show(
        "inspect/order.html",
        payments,
        order_id=order_id,
        refunds={payment_id: answer.body["items"] for payment_id, answer in refunds.items()},
    )


def list_meters() -> Response:
    """The business's meters, each with its usage over the current period (getMeterUsage's
    default range: from the start of the test clock's month to its now)."""
    meters = call("listMeters", query=page_query())
    if not meters.ok:
        return refused(meters)
    usage = {
        meter["id"]: call("getMeterUsage", {"meter_id": meter["id"]})
        for meter in meters.body["items"]
    }
    if (refusal := first_refusal(*usage.values())) is not None:
        return refused(refusal)
    return show(
        "inspect/meters.html",
        meters,
        usage={meter_id: answer.body for meter_id, answer in usage.items()},
    )
