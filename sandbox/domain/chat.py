"""The sandbox assistant: a deterministic reply that says what it understood, and token counts.

No model is called. The reply is a pure function of the conversation id, the messages
already in it and the new message, so a test can assert it exactly; it names the
conversation and the message number, restates the request, and lists the references it
recognized (`contact 42`, `con_…`, `ord_…`, amounts such as `$1,200`).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

CHARACTERS_PER_TOKEN = 4
PREFIX = "[sandbox]"
REQUEST_VERBS = frozenset(
    "draft write summarize summarise create send list find show tell explain make give prepare "
    "schedule remind compose generate update check calculate suggest recommend translate "
    "plan".split()
)
PREFIXED_ID = re.compile(r"\b(con|deal|ord|pay|re|inv|sms|whk|dlv|wev|conv|msg)_[A-Za-z0-9]+\b")
NAMED_ID = re.compile(r"\b(contact|deal|order|invoice|payment|customer)\s+#?(\d+)\b", re.IGNORECASE)
AMOUNT = re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d{1,2})?")
EXCERPT_LENGTH = 60


@dataclass(frozen=True)
class Turn:
    """A message already in the conversation."""

    role: str
    content: str


def tokens(text: str) -> int:
    """Tokens a text counts for: about one per four characters, at least one."""
    return max(1, math.ceil(len(text) / CHARACTERS_PER_TOKEN))


def references(message: str) -> list[str]:
    """The ids, named records and amounts the message mentions, in order, without repeats."""
    found: list[tuple[int, str]] = []
    found += [(m.start(), m.group(0)) for m in PREFIXED_ID.finditer(message)]
    found += [(m.start(), f"{m.group(1).lower()} {m.group(2)}") for m in NAMED_ID.finditer(message)]
    found += [(m.start(), m.group(0)) for m in AMOUNT.finditer(message)]
    return list(dict.fromkeys(text for _, text in sorted(found)))


def understood(message: str) -> str:
    """The message restated: a request ("you asked me to …"), a question or a statement."""
    text = " ".join(message.split())
    first = text.split(" ", 1)[0].lower().strip(",.:!")
    if text.endswith("?"):
        return f'you asked: "{text}"'
    if first in REQUEST_VERBS or first == "please":
        request = text.split(" ", 1)[1] if first == "please" and " " in text else text
        return f"you asked me to {request[:1].lower()}{request[1:].rstrip('.!')}"
    return f'you said: "{text}"'


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_LENGTH else flat[: EXCERPT_LENGTH - 1] + "…"


def reply(conversation_id: str, history: Sequence[Turn], message: str) -> str:
    """The assistant's reply to `message` after `history` in conversation `conversation_id`."""
    number = sum(1 for turn in history if turn.role == "user") + 1
    parts = [
        f"{PREFIX} In conversation {conversation_id} (message {number}) {understood(message)}."
    ]
    if refs := references(message):
        parts.append(f"I recognized: {', '.join(refs)}.")
    earlier = [turn.content for turn in history if turn.role == "user"]
    if earlier:
        parts.append(f'Earlier you wrote: "{_excerpt(earlier[-1])}".')
    digest = hashlib.sha256(
        "\n".join([conversation_id, *(f"{t.role}:{t.content}" for t in history), message]).encode()
    ).hexdigest()[:12]
    parts.append(f"This is a simulated reply: no model was called (reply {digest}).")
    return " ".join(parts)
