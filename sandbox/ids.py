"""Prefixed opaque ids (`con_…`, `evt_…`) and request ids."""

from __future__ import annotations

import random
import secrets
import string

ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 20


def new_id(prefix: str, rng: random.Random | None = None) -> str:
    """A fresh id such as `con_4f9Kq…`; deterministic when `rng` is given (fixtures)."""
    if rng is None:
        body = "".join(ALPHABET[byte % len(ALPHABET)] for byte in secrets.token_bytes(ID_LENGTH))
    else:
        body = "".join(rng.choice(ALPHABET) for _ in range(ID_LENGTH))
    return f"{prefix}_{body}"


def new_request_id() -> str:
    """A request id, `req_` and 24 characters."""
    return "req_" + secrets.token_hex(12)
