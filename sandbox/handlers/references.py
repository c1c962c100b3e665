"""References between business resources: a body field naming a row, and rows naming a contact."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import func, select

from sandbox.conventions.context import RequestContext
from sandbox.errors import ValidationFailed, detail
from sandbox.storage.commerce import Invoice, Order

Model = TypeVar("Model")
NOT_OURS = "Field '{field}' must be {what} of this business"


def require_own(
    ctx: RequestContext,
    model: type[Model],
    resource_id: str,
    field: str,
    what: str,
    *,
    lock: bool = False,
) -> Model:
    """The row of the caller's business that a body field names (locked if asked); 422 otherwise."""
    row = ctx.session.get(model, resource_id, with_for_update=lock)
    if (
        row is None
        or row.company_id != ctx.company_id  # type: ignore[attr-defined]
        or row.business_id != ctx.business.id  # type: ignore[attr-defined]
    ):
        raise ValidationFailed(
            NOT_OURS.format(field=field, what=what),
            details=[detail(field, "not_found", resource_id)],
        )
    return row


def contact_in_use(ctx: RequestContext, contact_id: str) -> str | None:
    """Why the contact cannot be deleted while orders or invoices refer to it, or None."""
    for model, what in ((Order, "order"), (Invoice, "invoice")):
        query = select(func.count()).select_from(model).where(model.contact_id == contact_id)
        if count := ctx.session.scalar(query):
            return f"Contact {contact_id} still has {count} {what}(s); it cannot be deleted"
    return None
