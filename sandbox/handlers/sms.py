"""SMS: send (validated and logged, never dispatched), list and get the log.

The test phone numbers and what each does come from the spec (`x-test-mode.phone_numbers`).
"""

from __future__ import annotations

from typing import Any

from sandbox.conventions.context import Reply, RequestContext
from sandbox.domain.sms import segments
from sandbox.errors import ValidationFailed, detail
from sandbox.handlers.lookups import newest_first, require_contact
from sandbox.ids import new_id
from sandbox.storage.messaging import SmsMessage

INVALID_NUMBER = "Field 'to_phone' is not a valid phone number: {number}"


def phone_outcome(ctx: RequestContext, number: str) -> dict[str, Any] | None:
    """The spec's entry for a test phone number, or None for any other number."""
    return next(
        (entry for entry in ctx.spec.test_mode["phone_numbers"] if entry["value"] == number), None
    )


def send_sms(ctx: RequestContext) -> Reply:
    """201 with the logged message (`sent` or `undeliverable`); 422 for an invalid number.

    Sends sms.logged.
    """
    number = ctx.body["to_phone"]
    status, error_code = "sent", None
    if (entry := phone_outcome(ctx, number)) is not None:
        if entry["outcome"] == "invalid":
            raise ValidationFailed(
                INVALID_NUMBER.format(number=number),
                details=[detail("to_phone", entry["error_code"], number)],
            )
        status, error_code = entry["outcome"], entry["error_code"]
    if "contact_id" in ctx.body:
        require_contact(ctx, ctx.body["contact_id"])
    message = SmsMessage(
        id=new_id("sms"),
        to_phone=number,
        message=ctx.body["message"],
        contact_id=ctx.body.get("contact_id"),
        status=status,
        error_code=error_code,
        segments=segments(ctx.body["message"]),
        **ctx.tenancy(),
    )
    ctx.session.add(message)
    ctx.emit("sms.logged", message.to_api())
    return 201, message.to_api()


def list_sms_messages(ctx: RequestContext) -> Reply:
    """200 with a page of logged messages, newest first, optionally of one status."""
    return newest_first(ctx, SmsMessage, "status")


def get_sms_message(ctx: RequestContext) -> Reply:
    """200 with one logged message."""
    return 200, ctx.get(SmsMessage, ctx.path["message_id"], "SMS message").to_api()
