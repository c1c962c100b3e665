"""HANDLERS: the operationId → handler table the app binds to the spec."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.context import Reply, RequestContext
from sandbox.handlers import account, contacts, deals, pending, sandbox_control
from sandbox.spec import load_spec

Handler = Callable[[RequestContext], Reply]

HANDLERS: dict[str, Handler] = {
    # ---- platform
    "getAccount": account.get_account,
    # ---- analytics (events, metrics, dashboards, websites, revenue)
    # ---- business (CRM, SMS, chat, orders, payments, invoices, webhooks)
    "listContacts": contacts.list_contacts,
    "createContact": contacts.create_contact,
    "getContact": contacts.get_contact,
    "updateContact": contacts.update_contact,
    "deleteContact": contacts.delete_contact,
    "listDeals": deals.list_deals,
    "createDeal": deals.create_deal,
    "getDeal": deals.get_deal,
    "updateDeal": deals.update_deal,
    "deleteDeal": deals.delete_deal,
    # ---- metering (customers, meters, usage)
    # ---- sandbox controls
    "resetSandbox": sandbox_control.reset_sandbox,
    "listRequestLog": sandbox_control.list_request_log,
    "getTestClock": sandbox_control.get_test_clock,
    "advanceTestClock": sandbox_control.advance_test_clock,
}

PENDING = sorted(set(load_spec().operations) - set(HANDLERS))
HANDLERS.update({op: pending.not_yet(op) for op in PENDING})
