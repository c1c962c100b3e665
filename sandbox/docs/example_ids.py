"""The ids the reference's examples use, picked from a sandbox's own data.

The spec's examples name ids no sandbox has (`con_42bXk9`). Pasted as they are, they
answer 404 or 422. So each example id is replaced by an id of the company whose key
`sandbox serve` exports as `SANDBOX_KEY` (the first full-access key, by plan), in its
primary business, chosen so that the example answers as documented: a contact no deal
refers to (it can be deleted), a pending order (it can be paid and canceled), the
succeeded payment with the most left to refund.

`PICKS` is looked up by `operationId.field` first, then by field name.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from sandbox.docs.calls import IdMap
from sandbox.spec import Spec
from sandbox.storage.database import Database


@dataclass(frozen=True)
class Pick:
    """Where an id is found: a table (`t` in `where` and `order`), its id column, a condition."""

    table: str
    column: str = "id"
    where: str = "1 = 1"
    order: str = "t.id"
    per_business: bool = True  # False for a table of the company's alone (the request log)


PICKS: dict[str, Pick] = {
    "event_id": Pick("events"),
    "dashboard_id": Pick("dashboards"),
    "website_id": Pick("websites"),
    "revenue_id": Pick("revenue"),
    "contact_id": Pick(
        "contacts", where="NOT EXISTS (SELECT 1 FROM deals d WHERE d.contact_id = t.id)"
    ),
    "deal_id": Pick("deals"),
    "message_id": Pick("sms_messages"),
    "conversation_id": Pick("conversations"),
    "order_id": Pick("orders", where="t.status = 'pending'"),
    "payment_id": Pick(
        "payments", where="t.status = 'succeeded'", order="t.amount_refunded - t.amount, t.id"
    ),
    "refund_id": Pick("refunds"),
    "invoice_id": Pick("invoices"),
    "webhook_id": Pick(
        "webhooks",
        where="t.enabled AND EXISTS (SELECT 1 FROM webhook_deliveries w WHERE w.webhook_id = t.id)",
    ),
    "delivery_id": Pick("webhook_deliveries", where="t.webhook_id = :webhook_id"),
    "customer_id": Pick("customers"),
    "deleteCustomer.customer_id": Pick(
        "customers", where="NOT EXISTS (SELECT 1 FROM usage_events u WHERE u.customer_id = t.id)"
    ),
    "meter_id": Pick("meters"),
    "getUsageEvent.event_id": Pick("usage_events", column="event_id", order="t.event_id"),
    "getWebhookEvent.event_id": Pick("webhook_events"),
    # A fresh sandbox has logged nothing: the served page names the newest request once
    # there is one; the static page keeps the spec's example.
    "request_log_id": Pick("request_log", order="t.created_at DESC, t.id DESC", per_business=False),
}

# The company of the key the banner exports: `sandbox serve` lists keys by plan, then label.
BANNER_BUSINESS = """
SELECT c.id, b.id FROM api_keys k
JOIN companies c ON c.id = k.company_id
JOIN businesses b ON b.company_id = c.id AND b."primary"
WHERE k.label = 'Full access'
ORDER BY c.plan, k.label
LIMIT 1
"""


def picked(database: Database) -> dict[str, str]:
    """The id each pick finds for the banner key's primary business (picks that find none
    are left out)."""
    with database.session(write=False) as session:
        connection = session.connection()
        row = connection.execute(text(BANNER_BUSINESS)).first()
        return _picks(connection, row[0], row[1]) if row else {}


def _picks(connection: Connection, company_id: str, business_id: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, pick in PICKS.items():  # in order: a pick may use an earlier one (:webhook_id)
        business = "AND t.business_id = :business " if pick.per_business else ""
        statement = (
            f"SELECT t.{pick.column} FROM {pick.table} t WHERE t.company_id = :company "
            f"{business}AND {pick.where} ORDER BY {pick.order} LIMIT 1"
        )
        values = {"company": company_id, "business": business_id, **found}
        if ":webhook_id" in statement and "webhook_id" not in found:
            continue
        value = connection.execute(text(statement), values).scalar()
        if value is not None:
            found[key] = str(value)
    return found


def lookup(found: dict[str, str]) -> IdMap:
    """An IdMap choosing the picked id for `operationId.field`, else for the field, else the
    example itself."""

    def choose(operation_id: str, name: str, example: str) -> str:
        return found.get(f"{operation_id}.{name}", found.get(name, example))

    return choose


def seeded(seed: int, spec: Spec) -> dict[str, str]:
    """The picks of a fresh sandbox of `seed`: the banner's company alone, seeded in memory.

    Fixtures are deterministic, so these are the ids `sandbox serve --seed seed` starts with.
    """
    from sandbox.fixtures import COMPANIES, company_world, seed_company

    database = Database(":memory:")
    try:
        database.create_schema()
        index = min(range(len(COMPANIES)), key=lambda i: COMPANIES[i].plan)
        with database.session() as session:
            seed_company(session, company_world(session, seed, index, spec, create=True))
        return picked(database)
    finally:
        database.dispose()
