"""AI chat: send a message to the sandbox assistant, list and read conversations.

Tokens (prompt and completion, about one per four characters) are charged against the
plan's monthly AI tokens before anything is stored; over the quota the request is a
429 naming the quota and leaves no trace.
"""

from __future__ import annotations

from sandbox.conventions import quotas
from sandbox.conventions.context import Reply, RequestContext
from sandbox.conventions.pagination import page
from sandbox.domain import chat
from sandbox.errors import NotFound
from sandbox.ids import new_id
from sandbox.storage.base import iso
from sandbox.storage.messaging import ChatMessage, Conversation


def _conversation(ctx: RequestContext, conversation_id: str) -> Conversation | None:
    return ctx.session.scalar(ctx.scoped(Conversation).where(Conversation.id == conversation_id))


def _messages(ctx: RequestContext, conversation_id: str) -> list[ChatMessage]:
    query = ctx.scoped(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
    return list(ctx.session.scalars(query.order_by(ChatMessage.position)))


def send_chat_message(ctx: RequestContext) -> Reply:
    """201 with the deterministic reply and the tokens used; 429 naming the quota when over it."""
    conversation_id = ctx.body.get("conversation_id") or new_id("conv")
    conversation = _conversation(ctx, conversation_id)
    history = _messages(ctx, conversation_id) if conversation is not None else []
    message = ctx.body["message"]
    answer = chat.reply(conversation_id, [chat.Turn(m.role, m.content) for m in history], message)
    prompt_tokens, completion_tokens = chat.tokens(message), chat.tokens(answer)
    used = quotas.consume(ctx, quotas.AI_TOKENS_PER_MONTH, prompt_tokens + completion_tokens)
    if conversation is None:
        conversation = Conversation(
            id=conversation_id, message_count=0, total_tokens=0, updated_at=ctx.now, **ctx.tenancy()
        )
        ctx.session.add(conversation)
    asked = conversation.append(new_id("msg"), "user", message, prompt_tokens, ctx.now)
    answered = conversation.append(new_id("msg"), "assistant", answer, completion_tokens, ctx.now)
    ctx.session.add_all([asked, answered])
    return 201, {
        "conversation_id": conversation_id,
        "message_id": answered.id,
        "reply": answer,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "tokens_used_this_month": used,
            "tokens_limit": quotas.limit(ctx, quotas.AI_TOKENS_PER_MONTH),
        },
        "created_at": iso(ctx.now),
    }


def list_conversations(ctx: RequestContext) -> Reply:
    """200 with a page of conversations, most recently active first."""
    query = ctx.scoped(Conversation).order_by(
        Conversation.updated_at.desc(), Conversation.id.desc()
    )
    return 200, page(ctx, query)


def get_conversation(ctx: RequestContext) -> Reply:
    """200 with the conversation and every message in order."""
    conversation = _conversation(ctx, ctx.path["conversation_id"])
    if conversation is None:
        raise NotFound(f"No conversation with id {ctx.path['conversation_id']}")
    messages = _messages(ctx, conversation.id)
    return 200, {**conversation.to_api(), "messages": [m.to_api() for m in messages]}
