"""Keeping one key under its rate limit, from the headers the server sends back.

The kit must never make a server throttle it by accident: a 429 met outside the
rate-limit rule is waited out, not reported. `Throttle.wait` is called before each
request with a key and `Throttle.observe` after each response.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

MAX_WAIT = 65.0  # a window is one minute; never sleep longer than that on a header's word


class Throttle:
    """The last rate-limit window a server announced for one key."""

    def __init__(self, margin: int = 1, sleep: Callable[[float], None] = time.sleep) -> None:
        self.margin = margin
        self.enabled = True
        self._sleep = sleep
        self._lock = threading.Lock()
        self._remaining: int | None = None
        self._reset: float | None = None
        self.waited = 0.0

    def observe(self, headers: Mapping[str, str]) -> None:
        """Remember `X-RateLimit-Remaining` and `X-RateLimit-Reset` when both are integers."""
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            remaining = int(lowered["x-ratelimit-remaining"])
            reset = float(int(lowered["x-ratelimit-reset"]))
        except (KeyError, ValueError):
            return
        with self._lock:
            self._remaining, self._reset = remaining, reset

    def wait(self) -> None:
        """Sleep until the window resets when at most `margin` requests are left in it."""
        if not self.enabled:
            return
        with self._lock:
            if self._remaining is None or self._reset is None or self._remaining > self.margin:
                if self._remaining is not None:
                    self._remaining -= 1
                return
            delay = min(MAX_WAIT, max(0.0, self._reset - time.time()) + 0.25)
            self._remaining = None
        self.waited += delay
        self._sleep(delay)

    def wait_out(self, retry_after: str | None) -> float:
        """Sleep for a 429's `Retry-After` (seconds, capped); returns the delay."""
        try:
            delay = min(MAX_WAIT, max(0.5, float(retry_after or 1)))
        except ValueError:
            delay = 1.0
        self.waited += delay
        self._sleep(delay)
        return delay
