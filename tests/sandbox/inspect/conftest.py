"""Fixtures and readers of the inspector tests: fragments fetched as the page's script
fetches them (the key as `Authorization`), read as the visitor reads them."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sandbox.domain.delivery import DeliveryWorker
from sandbox.domain.webhooks import RetryPolicy

from ..conftest import Key

TAG = re.compile(r"<[^>]+>")
DATA_ID = re.compile(r'data-id="([^"]+)"')


@pytest.fixture
def worker(app: Flask) -> DeliveryWorker:
    """A delivery worker on the app's database, run synchronously with `run_due`."""
    shared = app.extensions["sandbox"]
    return DeliveryWorker(shared.database, RetryPolicy.from_spec(shared.spec))


def fragment(
    client: FlaskClient,
    key: Key | str,
    path: str,
    *,
    business: str | None = None,
    form: dict[str, str] | None = None,
) -> Any:
    """GET (or, with `form`, POST) an inspector fragment as the page's script sends it."""
    secret = key if isinstance(key, str) else key.secret
    headers = {"Authorization": f"Bearer {secret}", "HX-Request": "true"}
    if business:
        headers["X-Business-Id"] = business
    if form is not None:
        return client.post(f"/inspect{path}", data=form, headers=headers)
    return client.get(f"/inspect{path}", headers=headers)


def text(response: Any) -> str:
    """The fragment's text as shown: tags dropped, entities decoded, spaces collapsed."""
    shown = html.unescape(TAG.sub(" ", response.get_data(as_text=True)))
    return " ".join(shown.split())


def ids(response: Any) -> list[str]:
    """The ids of the fragment's rows (`data-id`), in order."""
    return DATA_ID.findall(response.get_data(as_text=True))
