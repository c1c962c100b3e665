"""Prefixed opaque ids (`con_…`, `evt_…`) and request ids.

Ids need to be unique, not secret: they come from a per-process generator seeded from
the OS (again in every forked worker), which makes no system call per id. Secrets (keys,
signing secrets) use `secrets` elsewhere.
"""

from __future__ import annotations

import os
import random
import string
import time

ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 20
# Maps each byte to a letter or digit (byte % 62), so random bytes become an id in one step.
_TO_ALPHABET = bytes(ord(ALPHABET[byte % len(ALPHABET)]) for byte in range(256))
# Digits in ASCII order, so that ids compare as the numbers they spell; 10 of them count
# microseconds for some 26,000 years.
ALPHABET_SORTED = string.digits + string.ascii_uppercase + string.ascii_lowercase
TIME_DIGITS = 10
# Every pair of sorted digits, in order: a count is spelled two digits a step.
_PAIRS = [high + low for high in ALPHABET_SORTED for low in ALPHABET_SORTED]
_PAIR = len(_PAIRS)
_last_micros = 0
_random = random.Random()
os.register_at_fork(after_in_child=_random.seed)


def new_id(prefix: str, rng: random.Random | None = None) -> str:
    """A fresh id such as `con_4f9Kq…`: ordered by when it was made (`new_ordered_id`),
    so that every row the API creates is appended at the end of its primary key's index;
    random and deterministic when `rng` is given (fixtures)."""
    if rng is None:
        return new_ordered_id(prefix)
    return f"{prefix}_{''.join(rng.choice(ALPHABET) for _ in range(ID_LENGTH))}"


def new_ordered_id(prefix: str) -> str:
    """A fresh id whose first characters count microseconds (base 62, fixed width), so
    ids made one after another sort in that order: rows keyed by them are appended at
    the end of their index instead of all over it (the request log, webhook events and
    deliveries are written thousands a second)."""
    global _last_micros
    # Never the same count twice in a thread: ids made in one microsecond still sort.
    micros = _last_micros = max(time.time_ns() // 1000, _last_micros + 1)
    tail = _random.randbytes(ID_LENGTH - TIME_DIGITS).translate(_TO_ALPHABET).decode()
    return f"{prefix}_{spelled(micros)}{tail}"


def spelled(count: int) -> str:
    """`count` modulo 62**TIME_DIGITS as TIME_DIGITS sorted base-62 digits, most significant
    first (five pair lookups: ids are made on every request, some inside the write lock)."""
    pairs, pair = _PAIRS, _PAIR
    count, fifth = divmod(count, pair)
    count, fourth = divmod(count, pair)
    count, third = divmod(count, pair)
    count, second = divmod(count, pair)
    return pairs[count % pair] + pairs[second] + pairs[third] + pairs[fourth] + pairs[fifth]


def new_request_id() -> str:
    """A request id, `req_` and 24 hex digits."""
    return f"req_{_random.getrandbits(96):024x}"
