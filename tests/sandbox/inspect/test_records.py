"""The inspector's records: orders with payments and refunds, the SMS outbox, chat, usage
per meter, each as the API lists it; the business selector; the test clock's buttons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from sandbox.inspect.web import month_after

from ..conftest import BASE, Key
from ..helpers import create_order, pay
from .conftest import fragment, ids, text


def listed(client: FlaskClient, key: Key, path: str, business: str | None = None) -> list[str]:
    headers = {**key.headers, **({"X-Business-Id": business} if business else {})}
    response = client.get(f"{BASE}{path}", headers=headers)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_each_list_shows_what_the_api_lists(client: FlaskClient, key: Key) -> None:
    for fragment_path, api_path in (
        ("/orders", "/orders?limit=50"),
        ("/orders?status=paid", "/orders?status=paid&limit=50"),
        ("/sms", "/sms/messages?limit=50"),
        ("/sms?status=undeliverable", "/sms/messages?status=undeliverable&limit=50"),
        ("/conversations", "/chat/conversations?limit=50"),
        ("/meters", "/meters?limit=50"),
    ):
        shown = fragment(client, key, fragment_path)
        assert shown.status_code == 200, text(shown)
        expected = listed(client, key, api_path)
        assert expected, api_path  # the seed fills every surface
        assert ids(shown) == expected, fragment_path
        assert shown.get_data(as_text=True).count("<details") >= len(expected) * (
            0 if fragment_path == "/conversations" else 1
        )


def test_an_order_shows_its_payments_and_their_refunds(client: FlaskClient, key: Key) -> None:
    order = create_order(client, key, amount=5_000)
    payment = pay(client, key, order["id"]).json
    refund = client.post(
        f"{BASE}/refunds", json={"payment_id": payment["id"], "amount": 1_200}, headers=key.headers
    )
    assert refund.status_code == 201

    shown = fragment(client, key, f"/orders/{order['id']}")
    assert shown.status_code == 200
    assert ids(shown) == [payment["id"], refund.json["id"]]
    assert "1,200" in text(shown)
    unpaid = create_order(client, key)
    assert "No payments" in text(fragment(client, key, f"/orders/{unpaid['id']}"))


def test_a_conversation_opens_to_its_messages(client: FlaskClient, key: Key) -> None:
    conversation_id = listed(client, key, "/chat/conversations")[0]
    conversation = client.get(f"{BASE}/chat/conversations/{conversation_id}", headers=key.headers)
    shown = text(fragment(client, key, f"/conversations/{conversation_id}"))
    for message in conversation.json["messages"]:
        assert " ".join(message["content"].split()) in shown


def test_usage_per_meter_is_the_apis(client: FlaskClient, key: Key) -> None:
    shown = fragment(client, key, "/meters")
    page = shown.get_data(as_text=True)
    for meter_id in listed(client, key, "/meters"):
        usage = client.get(f"{BASE}/meters/{meter_id}/usage", headers=key.headers).json
        row = page[page.index(f'data-id="{meter_id}"') :]
        value = "—" if usage["value"] is None else str(usage["value"])
        assert f'class="num usage-value">{value}<' in row[: row.index("</tr>")]


def test_the_business_selector_scopes_the_lists(client: FlaskClient, key: Key) -> None:
    account = client.get(f"{BASE}/account", headers=key.headers).json
    assert len(account["businesses"]) == 2
    shown = fragment(client, key, "/account").get_data(as_text=True)
    for business in account["businesses"]:
        assert f'value="{business["id"]}"' in shown
    other = next(b for b in account["businesses"] if not b["primary"])
    chosen = fragment(client, key, "/account", business=other["id"]).get_data(as_text=True)
    assert f'value="{other["id"]}" selected' in " ".join(chosen.split())

    primary_orders = listed(client, key, "/orders?limit=50")
    other_orders = listed(client, key, "/orders?limit=50", business=other["id"])
    assert set(primary_orders).isdisjoint(other_orders)
    assert ids(fragment(client, key, "/orders", business=other["id"])) == other_orders


def test_the_clock_buttons_advance_the_clock(client: FlaskClient, key: Key) -> None:
    def clock() -> dict[str, str]:
        return client.get(f"{BASE}/sandbox/clock", headers=key.headers).json

    start = clock()
    hour = fragment(client, key, "/clock/advance", form={"step": "hour"})
    assert hour.status_code == 200
    assert hour.headers["HX-Trigger"] == "inspect:refresh"
    assert clock()["offset_seconds"] - start["offset_seconds"] == 3600

    day = fragment(client, key, "/clock/advance", form={"step": "day"})
    after_day = clock()
    assert after_day["offset_seconds"] - start["offset_seconds"] == 3600 + 86400
    assert after_day["now"][:16] in text(day)

    assert fragment(client, key, "/clock/advance", form={"step": "month"}).status_code == 200
    after_month = clock()
    before, after = at(after_day["now"]), at(after_month["now"])
    assert (after.year * 12 + after.month) - (before.year * 12 + before.month) == 1
    grown = after_month["offset_seconds"] - after_day["offset_seconds"]
    assert 28 * 86400 <= grown <= 31 * 86400

    unknown = fragment(client, key, "/clock/advance", form={"step": "fortnight"})
    assert unknown.status_code == 422
    assert "validation_error" in text(unknown)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-01-15T10:30:00", "2026-02-15T10:30:00"),
        ("2026-01-31T23:59:59", "2026-02-28T23:59:59"),
        ("2028-01-31T00:00:00", "2028-02-29T00:00:00"),
        ("2026-12-31T08:00:00", "2027-01-31T08:00:00"),
        ("2026-03-31T08:00:00", "2026-04-30T08:00:00"),
    ],
)
def test_a_month_is_a_calendar_month(moment: str, expected: str) -> None:
    start = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    assert month_after(start) == datetime.fromisoformat(expected).replace(tzinfo=UTC)
