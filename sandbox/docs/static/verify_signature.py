"""Flask receiver: verify a delivery before trusting its body.

X-Signature-V2 is `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`;
checking `t` refuses replays. X-Signature is the hex HMAC-SHA256
of the raw body alone.
"""

import hashlib
import hmac
import os
import time
from collections.abc import Mapping

from flask import Flask, abort, request

TOLERANCE = 300  # seconds


def sign(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verify_signature(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    now: float | None = None,
) -> bool:
    """True when the signature matches; X-Signature-V2 first."""
    key = secret.encode()
    v2 = headers.get("X-Signature-V2")
    if v2:
        fields = dict(p.split("=", 1) for p in v2.split(",") if "=" in p)
        stamp, given = fields.get("t", ""), fields.get("v1", "")
        now = time.time() if now is None else now
        if not stamp.isdigit() or abs(now - int(stamp)) > TOLERANCE:
            return False
        expected = sign(key, stamp.encode() + b"." + body)
        return hmac.compare_digest(expected, given)
    given = headers.get("X-Signature", "")
    return hmac.compare_digest(sign(key, body), given)


app = Flask(__name__)


@app.post("/webhooks")
def receive():
    body = request.get_data()  # the raw bytes, before parsing
    secret = os.environ["WEBHOOK_SECRET"]
    if not verify_signature(body, request.headers, secret):
        abort(401)
    event = request.get_json()
    print("received", event["type"], event["id"])
    return "", 204  # any 2xx acknowledges the delivery
