"""The fixtures above give a working, strict sandbox on every configured database."""

from __future__ import annotations

from flask.testing import FlaskClient

from ..conftest import BASE, Key


def test_account_answers_on_spec(client: FlaskClient, key: Key) -> None:
    response = client.get(f"{BASE}/account", headers=key.headers)
    assert response.status_code == 200
    assert response.json["plan"] == "starter"
    assert len(response.json["businesses"]) == 2
