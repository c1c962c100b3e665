"""Auth, scopes and tenancy: 401 for bad keys, 403 for missing scopes, 404 across companies."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from ..conftest import BASE, Key
from ..helpers import assert_envelope


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (None, "Missing API key"),
        ("Basic dXNlcjpwYXNz", "Malformed Authorization"),
        ("Bearer", "Malformed Authorization"),
        ("Bearer sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Live keys"),
        ("Bearer pk_test_abc", "Malformed API key"),
        ("Bearer sk_test_doesnotexist0000000000000", "Unknown API key"),
    ],
)
def test_bad_keys_are_401(client: FlaskClient, header: str | None, fragment: str) -> None:
    headers = {"Authorization": header} if header else {}
    body = assert_envelope(client.get(f"{BASE}/crm/contacts", headers=headers), 401, "unauthorized")
    assert fragment in body["message"]


def test_key_without_the_scope_is_403(client: FlaskClient, read_only_key: Key) -> None:
    assert client.get(f"{BASE}/crm/contacts", headers=read_only_key.headers).status_code == 200
    response = client.post(
        f"{BASE}/crm/contacts", json={"first_name": "A"}, headers=read_only_key.headers
    )
    body = assert_envelope(response, 403, "forbidden")
    assert "crm:write" in body["message"]


def test_another_companys_resource_is_404_on_every_verb(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    contact = client.post(
        f"{BASE}/crm/contacts", json={"first_name": "Mine"}, headers=key.headers
    ).json
    url = f"{BASE}/crm/contacts/{contact['id']}"
    assert_envelope(client.get(url, headers=other_key.headers), 404, "not_found")
    assert_envelope(
        client.patch(url, json={"first_name": "Theirs"}, headers=other_key.headers),
        404,
        "not_found",
    )
    assert_envelope(client.delete(url, headers=other_key.headers), 404, "not_found")
    assert client.get(url, headers=key.headers).json["first_name"] == "Mine"


def test_x_business_id_selects_the_business(client: FlaskClient, key: Key) -> None:
    account = client.get(f"{BASE}/account", headers=key.headers).json
    second = next(b["id"] for b in account["businesses"] if not b["primary"])
    headers = {**key.headers, "X-Business-Id": second}
    contact = client.post(
        f"{BASE}/crm/contacts", json={"first_name": "Second"}, headers=headers
    ).json
    assert client.get(f"{BASE}/crm/contacts/{contact['id']}", headers=headers).status_code == 200
    assert (
        client.get(f"{BASE}/crm/contacts/{contact['id']}", headers=key.headers).status_code == 404
    )
    assert client.get(f"{BASE}/account", headers=headers).json["business"]["id"] == second


def test_another_companys_business_is_404(client: FlaskClient, key: Key, other_key: Key) -> None:
    theirs = client.get(f"{BASE}/account", headers=other_key.headers).json["business"]["id"]
    response = client.get(f"{BASE}/crm/contacts", headers={**key.headers, "X-Business-Id": theirs})
    assert_envelope(response, 404, "not_found")


def test_deal_with_another_businesss_contact_is_422(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    theirs = client.post(
        f"{BASE}/crm/contacts", json={"first_name": "T"}, headers=other_key.headers
    ).json
    response = client.post(
        f"{BASE}/crm/deals", json={"title": "X", "contact_id": theirs["id"]}, headers=key.headers
    )
    body = assert_envelope(response, 422, "validation_error")
    assert body["details"][0]["field"] == "contact_id"
