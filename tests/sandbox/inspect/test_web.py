"""The inspector's page and its promises: one company per key, its own calls unmetered,
every refusal a readable message, everything escaped."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

import sandbox.inspect
from sandbox.http.app import shutdown
from sandbox.inspect.web import HTMX_VERSION

from ..conftest import BASE, Key, build_app, key_for
from .conftest import fragment, text

STATIC = Path(sandbox.inspect.__file__).parent / "static"
FRAGMENTS = (
    "/account",
    "/clock",
    "/requests",
    "/events",
    "/sms",
    "/conversations",
    "/orders",
    "/meters",
)


def test_the_page_holds_no_data_and_its_assets_are_served(client: FlaskClient, key: Key) -> None:
    page = client.get("/inspect", headers=key.headers)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    body = page.get_data(as_text=True)
    assert key.secret not in body
    assert 'id="key-form"' in body
    assets = re.findall(r'(?:src|href)="(/inspect/static/[^"?]+)', body)
    assert sorted(assets) == [
        "/inspect/static/htmx.min.js",
        "/inspect/static/inspect.css",
        "/inspect/static/inspect.js",
    ]
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.data) > 500
        response.close()
    # The vendored htmx is the pinned version, with its licence beside it.
    assert f'version:"{HTMX_VERSION}"' in (STATIC / "htmx.min.js").read_text()
    assert "Permission to use, copy, modify" in (STATIC / "htmx.LICENSE").read_text()
    # No cookie: the key lives in the tab's sessionStorage, and the server sets nothing.
    assert "Set-Cookie" not in page.headers
    assert "sessionStorage" in (STATIC / "inspect.js").read_text()


def test_a_key_sees_only_its_own_company(client: FlaskClient, key: Key, other_key: Key) -> None:
    mine = client.get(f"{BASE}/crm/contacts?limit=2", headers=key.headers)
    theirs = client.get(f"{BASE}/crm/contacts?limit=3", headers=other_key.headers)
    assert mine.status_code == theirs.status_code == 200

    shown = fragment(client, key, "/requests")
    assert shown.status_code == 200
    assert mine.headers["X-Request-Id"] in text(shown)
    assert theirs.headers["X-Request-Id"] not in text(shown)
    their_view = fragment(client, other_key, "/requests")
    assert theirs.headers["X-Request-Id"] in text(their_view)
    assert mine.headers["X-Request-Id"] not in text(their_view)

    # Another company's logged request, opened by id, is the API's 404.
    their_log = client.get(f"{BASE}/sandbox/requests", headers=other_key.headers).json
    entry = next(e for e in their_log["items"] if e["request_id"] == theirs.headers["X-Request-Id"])
    opened = fragment(client, key, f"/requests/{entry['id']}")
    assert opened.status_code == 404
    assert "not_found" in text(opened)
    assert theirs.headers["X-Request-Id"] not in text(opened)

    names = {
        k.secret: client.get(f"{BASE}/account", headers=k.headers).json["company_name"]
        for k in (key, other_key)
    }
    account = text(fragment(client, key, "/account"))
    assert names[key.secret] in account
    assert names[other_key.secret] not in account


def test_the_inspectors_own_calls_are_neither_logged_nor_counted(
    client: FlaskClient, key: Key
) -> None:
    before = client.get(f"{BASE}/crm/contacts", headers=key.headers)
    for path in FRAGMENTS * 2:
        assert fragment(client, key, path).status_code == 200, path
    after = client.get(f"{BASE}/crm/contacts", headers=key.headers)
    remaining = int(before.headers["X-RateLimit-Remaining"])
    assert int(after.headers["X-RateLimit-Remaining"]) == remaining - 1

    log = client.get(f"{BASE}/sandbox/requests?limit=200", headers=key.headers).json
    assert [e["request_id"] for e in log["items"]] == [
        after.headers["X-Request-Id"],
        before.headers["X-Request-Id"],
    ]


def test_refusals_are_readable_messages(client: FlaskClient, key: Key, app: Flask) -> None:
    unknown = fragment(client, "sk_test_nothing_like_a_key", "/requests")
    assert unknown.status_code == 401
    assert unknown.mimetype == "text/html"
    assert "401 unauthorized" in text(unknown)

    read_only = key_for(app, label="Read only")
    clock = client.get(f"{BASE}/sandbox/clock", headers=key.headers).json
    refused = fragment(client, read_only, "/clock/advance", form={"step": "day"})
    assert refused.status_code == 403
    assert "403 forbidden" in text(refused)
    assert clock["now"][:16] in text(refused)  # the clock as it stands, unmoved

    for path in ("/requests/rlg_%3Cnope%3E", "/events/..%3F", "/conversations/%00"):
        answer = fragment(client, key, path)
        assert answer.mimetype == "text/html", path
        assert answer.status_code in (404, 422), path
        assert re.search(r"\b(404 not_found|422 validation_error)\b", text(answer)), path

    bad_filter = fragment(client, key, "/requests?offset=-1")
    assert bad_filter.status_code == 422
    assert "validation_error" in text(bad_filter)
    assert "offset" in text(bad_filter)

    elsewhere = fragment(client, key, "/orders", business="biz_nowhere")
    assert elsewhere.status_code == 404
    assert "not_found" in text(elsewhere)


def test_paths_that_are_not_fragments_answer_as_the_app_does(client: FlaskClient) -> None:
    missing = client.get("/inspect/nothing-here")
    assert missing.status_code == 404
    assert missing.json["code"] == "not_found"
    wrong_method = client.delete("/inspect/requests")
    assert wrong_method.status_code == 405
    assert wrong_method.json["code"] == "method_not_allowed"


def test_a_flooded_key_is_told_so(sqlite_url: str) -> None:
    """An unknown key counts against its address's bucket; its 429 is a message too."""
    app = build_app(sqlite_url, rate_limit_scale=0.01)
    try:
        client = app.test_client()
        statuses = [fragment(client, "sk_test_unknown", "/clock").status_code for _ in range(4)]
        assert statuses[-1] == 429
        assert "429 rate_limit_exceeded" in text(fragment(client, "sk_test_unknown", "/clock"))
    finally:
        shutdown(app)


def test_everything_shown_is_escaped(client: FlaskClient, key: Key) -> None:
    name = "<script>alert(1)</script>"
    created = client.post(
        f"{BASE}/crm/contacts", json={"first_name": name, "last_name": "Q"}, headers=key.headers
    )
    assert created.status_code == 201
    listing = fragment(client, key, "/requests?operation_id=createContact")
    entry_id = re.search(r'data-id="(rlg_[^"]+)"', listing.get_data(as_text=True))
    assert entry_id
    detail = fragment(client, key, f"/requests/{entry_id.group(1)}")
    raw = detail.get_data(as_text=True)
    assert "<script>" not in raw
    assert "&lt;script&gt;" in raw
    assert name in text(detail)
