"""The ceiling: a bare Flask app on the same server, answering a fixed JSON body."""

from __future__ import annotations

import json

from flask import Flask, Response

BODY = json.dumps(
    {
        "items": [{"id": "con_0000000000000000000", "first_name": "Ann"}],
        "total": 1,
        "limit": 1,
        "offset": 0,
        "has_more": False,
    }
).encode()

app = Flask(__name__)


@app.route("/api/v1/<path:anything>", methods=["GET", "POST"])
def fixed(anything: str) -> Response:
    return Response(BODY, status=200, mimetype="application/json")
