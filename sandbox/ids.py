"""Prefixed opaque ids (`con_…`, `evt_…`) and request ids."""

from __future__ import annotations

import random
import secrets
import string

ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 20
# Maps each byte to a letter or digit (byte % 62), so random bytes become an id in one step.
_TO_ALPHABET = bytes(ord(ALPHABET[byte % len(ALPHABET)]) for byte in range(256))


def new_id(prefix: str, rng: random.Random | None = None) -> str:
    """A fresh id such as `con_4f9Kq…`; deterministic when `rng` is given (fixtures)."""
    if rng is None:
        body = secrets.token_bytes(ID_LENGTH).translate(_TO_ALPHABET).decode()
    else:
        body = "".join(rng.choice(ALPHABET) for _ in range(ID_LENGTH))
    return f"{prefix}_{body}"


def new_request_id() -> str:
    """A request id, `req_` and 24 characters."""
    return "req_" + secrets.token_hex(12)
