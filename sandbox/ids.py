"""Prefixed opaque ids (`con_…`, `evt_…`) and request ids.

Ids need to be unique, not secret: they come from a per-process generator seeded from
the OS (again in every forked worker), which makes no system call per id. Secrets (keys,
signing secrets) use `secrets` elsewhere.
"""

from __future__ import annotations

import os
import random
import string

ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 20
# Maps each byte to a letter or digit (byte % 62), so random bytes become an id in one step.
_TO_ALPHABET = bytes(ord(ALPHABET[byte % len(ALPHABET)]) for byte in range(256))
_random = random.Random()
os.register_at_fork(after_in_child=_random.seed)


def new_id(prefix: str, rng: random.Random | None = None) -> str:
    """A fresh id such as `con_4f9Kq…`; deterministic when `rng` is given (fixtures)."""
    if rng is None:
        body = _random.randbytes(ID_LENGTH).translate(_TO_ALPHABET).decode()
    else:
        body = "".join(rng.choice(ALPHABET) for _ in range(ID_LENGTH))
    return f"{prefix}_{body}"


def new_request_id() -> str:
    """A request id, `req_` and 24 hex digits."""
    return f"req_{_random.getrandbits(96):024x}"
