"""Webhook signatures: what a receiver recomputes from the raw body and its secret.

`X-Signature` is the hex HMAC-SHA256 of the raw body (the seed's scheme: its Node.js
snippet verifies it as written). `X-Signature-V2` is `t=<unix>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`, so a receiver can also refuse replays by checking `t` against its own
clock: `t` is real time, never the test clock.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

SECRET_PREFIX = "whsec_"
SECRET_LENGTH = 32
ALPHABET = string.ascii_letters + string.digits


def new_secret() -> str:
    """A fresh signing secret, `whsec_` and 32 letters or digits."""
    return SECRET_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))


def signature(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body: the `X-Signature` header."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_v2(secret: str, body: bytes, timestamp: int) -> str:
    """`t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`: the `X-Signature-V2` header."""
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def delivery_headers(
    secret: str, body: bytes, timestamp: int, *, webhook_id: str, delivery_id: str, event_type: str
) -> dict[str, str]:
    """Every header of one delivery POST."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "PlatformSandbox-Webhooks/1.0",
        "X-Signature": signature(secret, body),
        "X-Signature-V2": signature_v2(secret, body, timestamp),
        "X-Webhook-Id": webhook_id,
        "X-Delivery-Id": delivery_id,
        "X-Event-Type": event_type,
    }
