"""The inspector's request log and webhook events: filters, a request opened to its
headers and bodies, an event's deliveries with every attempt, and Resend."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from sandbox.domain.delivery import DeliveryWorker

from ..conftest import BASE, Key
from ..helpers import create_webhook
from ..receivers import Receiver
from .conftest import fragment, ids, text


def test_the_list_is_newest_first_and_filters_as_asked(client: FlaskClient, key: Key) -> None:
    ok = client.get(f"{BASE}/crm/contacts?limit=1", headers=key.headers)
    missing = client.get(f"{BASE}/crm/contacts/con_nope", headers=key.headers)
    created = client.post(f"{BASE}/crm/contacts", json={"first_name": "Ann"}, headers=key.headers)
    assert (ok.status_code, missing.status_code, created.status_code) == (200, 404, 201)
    order = [r.headers["X-Request-Id"] for r in (created, missing, ok)]

    def shown(query: str = "") -> list[str]:
        page = fragment(client, key, f"/requests{query}")
        assert page.status_code == 200, text(page)
        return re.findall(r'data-request-id="([^"]+)"', page.get_data(as_text=True))

    assert shown() == order
    assert shown("?status_class=4xx") == [order[1]]
    assert shown("?status_class=2xx") == [order[0], order[2]]
    assert shown("?operation_id=createContact") == [order[0]]
    assert shown(f"?request_id={order[2]}") == [order[2]]
    assert shown("?status_class=5xx") == []
    assert "No request matches" in text(fragment(client, key, "/requests?status_class=5xx"))


def test_a_request_opens_to_its_headers_and_bodies(client: FlaskClient, key: Key) -> None:
    created = client.post(
        f"{BASE}/crm/contacts",
        json={"first_name": "Bea", "last_name": "Okafor"},
        headers={**key.headers, "X-Trace": "inspector-test"},
    )
    assert created.status_code == 201
    listing = fragment(client, key, "/requests")
    entry_id = ids(listing)[0]
    assert entry_id.startswith("rlg_")

    detail = fragment(client, key, f"/requests/{entry_id}")
    assert detail.status_code == 200
    shown = text(detail)
    assert "POST /api/v1/crm/contacts" in shown
    assert created.headers["X-Request-Id"] in shown
    assert "inspector-test" in shown  # a request header
    assert '"last_name": "Okafor"' in shown  # the request body, indented
    assert created.json["id"] in shown  # the response body
    assert "application/json" in shown  # a response header
    assert key.secret not in detail.get_data(as_text=True)  # Authorization is masked


def delivery_to(event: Any, webhook_id: str) -> tuple[str, str]:
    """(delivery id, its section's HTML) of the event fragment's delivery to `webhook_id`."""
    page = event.get_data(as_text=True)
    for section in page.split('<section class="delivery"')[1:]:
        if f'data-webhook-id="{webhook_id}"' in section:
            found = re.search(r'data-id="(dlv_[^"]+)"', section)
            assert found
            return found.group(1), section[: section.index("</section>")]
    raise AssertionError(f"no delivery to {webhook_id} in {text(event)}")


def test_resend_queues_an_attempt_the_worker_makes(
    client: FlaskClient, key: Key, worker: DeliveryWorker
) -> None:
    with Receiver(statuses=(500, 200)) as receiver:
        webhook = create_webhook(client, key, ["contact.created"], url=receiver.url)
        receiver.secret = webhook["secret"]
        contact = client.post(
            f"{BASE}/crm/contacts", json={"first_name": "Cy"}, headers=key.headers
        )
        assert contact.status_code == 201
        worker.run_due()
        assert len(receiver.received) == 1

        events = fragment(client, key, "/events")
        assert events.status_code == 200
        event_id = ids(events)[0]
        assert "contact.created" in text(events)
        assert event_id in ids(fragment(client, key, "/events?type=contact.created"))
        assert event_id not in ids(fragment(client, key, "/events?type=order.created"))
        event = fragment(client, key, f"/events/{event_id}")
        assert contact.json["id"] in text(event)  # the payload
        delivery_id, section = delivery_to(event, webhook["id"])
        assert section.count('class="attempt"') == 1
        assert "500" in section

        resent = fragment(client, key, f"/deliveries/{delivery_id}/resend", form={})
        assert resent.status_code == 200
        assert "pending" in delivery_to(resent, webhook["id"])[1]
        worker.run_due()
        assert len(receiver.received) == 2
        assert receiver.received[1].signature_ok

    _, section = delivery_to(fragment(client, key, f"/events/{event_id}"), webhook["id"])
    assert section.count('class="attempt"') == 2
    assert "succeeded" in section
    assert re.search(r">200<", section)


def test_resend_of_an_unknown_delivery_is_the_apis_404(client: FlaskClient, key: Key) -> None:
    answer = fragment(client, key, "/deliveries/dlv_nothing/resend", form={})
    assert answer.status_code == 404
    assert "404 not_found" in text(answer)
