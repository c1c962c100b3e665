"""One delivery attempt: its target checked, its POST signed and sent, its outcome
described as it is recorded.

An attempt resolves the URL's host once and checks it against the target policy
(sandbox/domain/targets.py) before connecting, then connects to the addresses it checked,
naming the server after the URL (Host header, TLS SNI and certificate; see
sandbox/domain/pinned.py). A refused or unresolved target is a failed attempt with no
connection made; it follows the retry schedule like a receiver that is down, since DNS
may change again.
"""

from __future__ import annotations

import asyncio
import ssl
import time

import h11

from sandbox.domain import pinned, signing
from sandbox.domain.targets import Target, TargetPolicy, TargetRefused, Unresolved, resolve
from sandbox.domain.webhooks import RetryPolicy
from sandbox.storage.attempt_records import Attempt
from sandbox.storage.base import utcnow
from sandbox.storage.outbox import Job

ERROR_LENGTH = 300
NOT_DELIVERED = "Not delivered, no connection made: {reason}"


def describe(error: Exception, timeout: float) -> str:
    """A short, stable description of why no answer came."""
    if isinstance(error, pinned.DeadlinePassed):
        return pinned.DEADLINE_PASSED.format(seconds=timeout)
    kind = "SSLError" if isinstance(error, ssl.SSLError) else "ConnectionError"
    if isinstance(error, h11.ProtocolError):
        kind = f"ProtocolError: {type(error).__name__}"
    return f"{kind}: {error}"[:ERROR_LENGTH]


class Attempter:
    """Makes attempts under one target policy, retry policy (its deadline) and TLS context."""

    def __init__(self, targets: TargetPolicy, policy: RetryPolicy, tls: ssl.SSLContext) -> None:
        self.targets, self.policy, self.tls = targets, policy, tls

    async def attempt(self, job: Job) -> Attempt:
        """POST the delivery once, if its target passes; a 2xx within the timeout succeeds."""
        timeout = self.policy.timeout_seconds

        def headers() -> dict[str, str]:
            return signing.delivery_headers(
                job.secret,
                job.body,
                int(time.time()),
                webhook_id=job.webhook_id,
                delivery_id=job.delivery_id,
                event_type=job.event_type,
            )

        attempted_at = utcnow() + job.clock_offset
        started = time.perf_counter()
        status_code, error, excerpt = None, None, None
        try:
            target = await self._pin(job.url)
            status_code, excerpt = await pinned.post(target, job.body, headers, timeout, self.tls)
        except TargetRefused as refusal:
            error = NOT_DELIVERED.format(reason=refusal)[:ERROR_LENGTH]
        except Unresolved as failure:
            error = str(failure)[:ERROR_LENGTH]
        except (OSError, h11.ProtocolError) as failure:
            error = describe(failure, timeout)
        duration_ms = int((time.perf_counter() - started) * 1000)
        return Attempt(
            job.delivery_id,
            job.company_id,
            job.token,
            job.number,
            attempted_at,
            status_code,
            error,
            duration_ms,
            excerpt,
        )

    async def _pin(self, url: str) -> Target:
        """The URL's target, checked; a name is resolved off the loop (it may take time)."""
        pinned_now = self.targets.pin_at_once(url)
        if isinstance(pinned_now, Target):
            return pinned_now
        parsed, host, port = pinned_now
        seconds = self.targets.resolve_seconds
        loop = asyncio.get_running_loop()
        addresses = await loop.run_in_executor(None, resolve, host, port, seconds)
        return self.targets.checked(parsed, host, addresses)
