"""AI chat: deterministic replies, tokens charged against the plan, conversations kept."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from sandbox.spec import SPEC_PATH
from sandbox.storage.core import QuotaUsage

from ..conftest import BASE, Key, key_for
from ..module_app import shared_app  # noqa: F401

PLANS = {plan["plan"]: plan for plan in yaml.safe_load(SPEC_PATH.read_text())["x-plans"]}
PROMPT = "Draft a proposal for contact 42 based on their last call"


def _say(
    client: FlaskClient, key: Key, message: str, conversation_id: str | None = None, **headers: str
) -> Any:
    body = {"message": message} | ({"conversation_id": conversation_id} if conversation_id else {})
    return client.post(f"{BASE}/chat/message", json=body, headers=key.headers | headers)


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def test_reply_says_what_it_understood_and_counts_tokens(client: FlaskClient, key: Key) -> None:
    response = _say(client, key, PROMPT, "proposal_1")
    assert response.status_code == 201
    reply = response.json
    assert reply["conversation_id"] == "proposal_1"
    assert reply["reply"].startswith(
        "[sandbox] In conversation proposal_1 (message 1) you asked me to draft a proposal"
    )
    assert "contact 42" in reply["reply"].split("recognized:", 1)[1]
    usage = reply["usage"]
    assert usage["prompt_tokens"] == _tokens(PROMPT) == 14
    assert usage["completion_tokens"] == _tokens(reply["reply"])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["tokens_limit"] == PLANS["starter"]["ai_tokens_per_month"]


def test_tokens_add_up_over_the_month(client: FlaskClient, key: Key) -> None:
    first = _say(client, key, "What is due this week?").json["usage"]
    second = _say(client, key, "List invoices of con_ABC123").json["usage"]
    assert (
        second["tokens_used_this_month"] == first["tokens_used_this_month"] + second["total_tokens"]
    )


def test_same_history_and_message_give_the_same_reply(
    client: FlaskClient, key: Key, app: Flask
) -> None:
    businesses = client.get(f"{BASE}/account", headers=key.headers).json["businesses"]
    replies = []
    for business in businesses:
        header = {"X-Business-Id": business["id"]}
        _say(client, key, "Summarize deal_9 for me", "same_history", **header)
        replies.append(
            _say(client, key, "Now write it as an SMS?", "same_history", **header).json["reply"]
        )
    assert len(businesses) == 2 and replies[0] == replies[1]
    assert "(message 2)" in replies[0] and "Summarize deal_9" in replies[0]
    other = _say(client, key, "Now write it as an SMS?", "different_history").json["reply"]
    assert other != replies[0]


def test_conversation_keeps_its_messages_in_order(client: FlaskClient, key: Key) -> None:
    first = _say(client, key, "Hello there").json
    conversation_id = first["conversation_id"]
    assert conversation_id.startswith("conv_")
    second = _say(client, key, "Send $1,200 invoice to contact 7", conversation_id).json
    conversation = client.get(
        f"{BASE}/chat/conversations/{conversation_id}", headers=key.headers
    ).json
    assert [m["role"] for m in conversation["messages"]] == [
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    assert [m["content"] for m in conversation["messages"]] == [
        "Hello there",
        first["reply"],
        "Send $1,200 invoice to contact 7",
        second["reply"],
    ]
    assert conversation["messages"][3]["id"] == second["message_id"]
    assert conversation["message_count"] == 4
    assert (
        conversation["total_tokens"]
        == first["usage"]["total_tokens"] + second["usage"]["total_tokens"]
    )
    latest = client.get(f"{BASE}/chat/conversations?limit=1", headers=key.headers).json["items"][0]
    assert latest["id"] == conversation_id


def test_over_the_quota_is_429_naming_it_and_stores_nothing(
    client: FlaskClient, app: Flask
) -> None:
    builder = key_for(app, "builder")
    limit = PLANS["builder"]["ai_tokens_per_month"]
    period = client.get(f"{BASE}/sandbox/clock", headers=builder.headers).json["now"][:7]
    with app.extensions["sandbox"].database.session() as session:
        session.merge(
            QuotaUsage(
                company_id=builder.company_id,
                quota="ai_tokens_per_month",
                period=period,
                used=limit - 5,
            )
        )
    response = _say(client, builder, PROMPT, "over_quota")
    assert response.status_code == 429
    assert response.json["code"] == "rate_limit_exceeded"
    assert "ai_tokens_per_month" in response.json["message"]
    assert response.json["details"][0]["field"] == "ai_tokens_per_month"
    assert int(response.headers["Retry-After"]) > 0
    assert (
        client.get(f"{BASE}/chat/conversations/over_quota", headers=builder.headers).status_code
        == 404
    )
    with app.extensions["sandbox"].database.session() as session:
        used = session.get(QuotaUsage, (builder.company_id, "ai_tokens_per_month", period))
        assert used is not None and used.used == limit - 5


def test_unlimited_plan_has_no_token_limit(client: FlaskClient, app: Flask) -> None:
    assert PLANS["enterprise"]["ai_tokens_per_month"] is None
    usage = _say(client, key_for(app, "enterprise"), PROMPT).json["usage"]
    assert usage["tokens_limit"] is None


@pytest.mark.parametrize("conversation_id", ["never_started", "conv_doesNotExist"])
def test_unknown_conversation_is_not_found(
    client: FlaskClient, key: Key, conversation_id: str
) -> None:
    response = client.get(f"{BASE}/chat/conversations/{conversation_id}", headers=key.headers)
    assert response.status_code == 404


def test_another_companys_conversation_is_not_found(
    client: FlaskClient, key: Key, other_key: Key
) -> None:
    _say(client, other_key, "Private thoughts", "private_1")
    assert (
        client.get(f"{BASE}/chat/conversations/private_1", headers=key.headers).status_code == 404
    )
    assert (
        client.get(f"{BASE}/chat/conversations/private_1", headers=other_key.headers).status_code
        == 200
    )
