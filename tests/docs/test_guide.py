"""The guide speaks to client developers: it starts with getting started, states each
convention once, and operations link to it rather than repeat it."""

from __future__ import annotations

import re
from typing import Any

from tests.docs.test_content import visible_text


def section(page: str, anchor: str) -> str:
    return page.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


def test_getting_started_comes_first_and_walks_from_a_key_to_webhooks(built) -> None:
    anchors = re.findall(r'<section class="doc[^"]*" id="([^"]+)"', built.html)
    assert anchors[:2] == ["getting-started", "overview"]
    steps = section(built.html, "getting-started")
    assert "export SANDBOX_KEY=sk_test_…" in visible_text(steps)
    for anchor in ("idempotency", "pagination", "errors", "rate-limits", "webhooks", "test-mode"):
        assert f'href="#{anchor}"' in steps
    assert 'curl "http://127.0.0.1:8080/api/v1/account"' in visible_text(steps)
    assert "requests.get(" in visible_text(steps) and "await fetch(" in visible_text(steps)


def test_the_overview_does_not_speak_to_spec_authors(built, spec: dict[str, Any]) -> None:
    overview = visible_text(section(built.html, "overview"))
    assert "This file" not in overview and "single source of truth" not in overview
    assert spec["info"]["description"].split("\n\n", 1)[0] in overview


def test_a_convention_is_stated_in_full_once_and_linked_from_operations(
    built, spec: dict[str, Any]
) -> None:
    full = spec["components"]["parameters"]["IdempotencyKey"]["description"]
    assert visible_text(built.html).count(full.split("`", 1)[0]) == 1
    create = section(built.html, "createContact")
    assert 'See <a href="#idempotency">Idempotency</a>' in create
    assert 'See <a href="#tenancy">Tenancy</a>' in create
    assert '<a class="badge badge-idem" href="#idempotency"' in create
    assert '<a href="#error-validation_error"><code>validation_error</code></a>' in create
    assert built.markdown.count(full) == 1
