"""The Bearer scheme as RFC 7235 has it: a 401 names it, and its name is case-insensitive."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from sandbox.conventions import auth
from sandbox.errors import Unauthorized

from ..conftest import BASE, Key
from ..helpers import assert_envelope


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic dXNlcjpwYXNz",
        "Bearer sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "Bearer pk_test_abc",
        "Bearer sk_test_doesnotexist0000000000000",
        "bearer sk_test_doesnotexist0000000000000",
    ],
)
def test_every_401_names_the_bearer_scheme(client: FlaskClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get(f"{BASE}/crm/contacts", headers=headers)
    assert_envelope(response, 401, "unauthorized")
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.split()[0] == "Bearer"


def test_an_unauthorized_error_carries_the_challenge_beside_other_headers() -> None:
    error = Unauthorized("no", headers={"X-Extra": "1"})
    assert error.headers["WWW-Authenticate"].startswith("Bearer")
    assert error.headers["X-Extra"] == "1"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer sk_test_abc", "sk_test_abc"),
        ("bearer sk_test_abc", "sk_test_abc"),
        ("BEARER  sk_test_abc ", "sk_test_abc"),
        ("BeArEr\tsk_test_abc", "sk_test_abc"),
        ("Basic sk_test_abc", ""),
        ("Bearer", ""),
        ("Bearersk_test_abc", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_token_of_reads_the_scheme_case_insensitively(header: str | None, token: str) -> None:
    assert auth.token_of(header) == token


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_bearer_token_accepts_the_scheme_in_any_case(scheme: str) -> None:
    assert auth.bearer_token(f"{scheme} sk_test_abc") == "sk_test_abc"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_a_key_works_whatever_the_case_of_its_scheme(
    client: FlaskClient, key: Key, scheme: str
) -> None:
    response = client.get(f"{BASE}/account", headers={"Authorization": f"{scheme} {key.secret}"})
    assert response.status_code == 200
