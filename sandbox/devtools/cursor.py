"""Where `sandbox listen` is in a company's events, and which it has already forwarded.

`listWebhookEvents?after=<id>` answers the events recorded after that one, in the
sandbox's order. On PostgreSQL two writes commit in either order: an event can become
visible *after* one that follows it in that order. Asking `after` the newest event seen
would skip it for good. So the cursor asks `after` an older event (the anchor): the last
one, in the sandbox's order, that was first seen at least `settle_seconds` before the
poll was sent. An event ordered before it then had that long to commit, and every
event after the anchor comes back on each poll until the anchor passes it: the ids seen
since the anchor are remembered, so each event is forwarded once.

Nothing here does I/O; `listen.py` polls, and tells the cursor what each poll saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The sandbox orders events by (created_at, id), created_at being the time its request
# began; the request's transaction commits well within this even when it queued for a
# lock, so an event ordered before one seen this long ago is visible by now. Each poll
# asks again for what this many seconds brought: cheap at a sandbox's volumes.
SETTLE_SECONDS = 10.0


class Cursor:
    """The anchor to poll `after` (None: from the newest events) and the ids seen past it."""

    def __init__(self, anchor: str | None, settle_seconds: float = SETTLE_SECONDS) -> None:
        self.anchor = anchor
        self.settle_seconds = settle_seconds
        self._first_seen: dict[str, float] = {}

    def restart(self, anchor: str | None) -> None:
        """Follow from `anchor` on, forgetting what was seen (the old anchor is gone)."""
        self.anchor = anchor
        self._first_seen = {}

    def take(
        self, events: Sequence[dict[str, Any]], *, asked_at: float, answered_at: float
    ) -> list[dict[str, Any]]:
        """The events not seen before, in order, out of one poll's answer.

        `events` are every event after the anchor, in the sandbox's order, as answered to
        a poll sent at `asked_at` and received by `answered_at` (one clock, monotonic).
        Moves the anchor to the last of them first seen at least `settle_seconds` before
        `asked_at`, and forgets the ids at or before it (no later poll returns them).
        """
        first_seen = {e["id"]: self._first_seen.get(e["id"], answered_at) for e in events}
        fresh = [e for e in events if e["id"] not in self._first_seen]
        # Several copies of one id in an answer (a page boundary moved): forward it once.
        fresh = list({e["id"]: e for e in fresh}.values())
        settled = [
            index
            for index, event in enumerate(events)
            if first_seen[event["id"]] + self.settle_seconds <= asked_at
        ]
        if settled:
            self.anchor = events[settled[-1]]["id"]
            events = events[settled[-1] + 1 :]
        self._first_seen = {e["id"]: first_seen[e["id"]] for e in events}
        return fresh

    @property
    def pending(self) -> int:
        """How many events past the anchor are remembered (bounded by what `settle_seconds`
        of traffic holds)."""
        return len(self._first_seen)
