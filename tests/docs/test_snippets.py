"""The webhook verification snippets of the reference verify real signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

STATIC = Path(__file__).resolve().parents[2] / "sandbox" / "docs" / "static"
SECRET = "whsec_test_4eC39HqLyjWDarjtT1zdp7dc"
BODY = b'{"id":"wev_1","type":"contact.created"}'
NOW = 1_790_000_000


def hex_hmac(message: bytes) -> str:
    return hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def verify() -> Any:
    namespace: dict[str, Any] = {"__name__": "snippet"}
    exec((STATIC / "verify_signature.py").read_text(encoding="utf-8"), namespace)
    return namespace["verify_signature"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Signature": hex_hmac(BODY)}, True),
        ({"X-Signature": hex_hmac(BODY + b" ")}, False),
        ({"X-Signature-V2": f"t={NOW},v1={hex_hmac(f'{NOW}.'.encode() + BODY)}"}, True),
        ({"X-Signature-V2": f"t={NOW},v1={hex_hmac(BODY)}"}, False),
        (
            {"X-Signature-V2": f"t={NOW - 3600},v1={hex_hmac(f'{NOW - 3600}.'.encode() + BODY)}"},
            False,
        ),
        ({}, False),
    ],
)
def test_python_snippet(verify, headers, expected):
    assert verify(BODY, headers, SECRET, now=NOW) is expected


# Runs the Node snippet with a stand-in for express that hands us the route handler.
NODE_HARNESS = """
const Module = require('module')
const load = Module._load
let handler
const express = () => ({ post: (path, raw, h) => { handler = h }, listen: () => {} })
express.raw = () => null
Module._load = (name, ...rest) => name === 'express' ? express : load(name, ...rest)
process.env.WEBHOOK_SECRET = %(secret)s
require(%(snippet)s)
const results = []
for (const sig of %(signatures)s) {
  let status = 0
  const res = {
    status: (code) => { status = code; return res },
    send: () => res,
    sendStatus: (code) => { status = code },
  }
  handler({ headers: { 'x-signature': sig }, body: Buffer.from(%(body)s) }, res)
  results.push(status)
}
process.stdout.write('\\n' + JSON.stringify(results))
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_snippet_accepts_only_the_right_signature(tmp_path):
    harness = NODE_HARNESS % {
        "secret": json.dumps(SECRET),
        "snippet": json.dumps(str(STATIC / "verify_signature.js")),
        "signatures": json.dumps([hex_hmac(BODY), hex_hmac(b"other"), ""]),
        "body": json.dumps(BODY.decode()),
    }
    script = tmp_path / "harness.js"
    script.write_text(harness, encoding="utf-8")
    result = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("received contact.created wev_1\n")
    assert json.loads(result.stdout.splitlines()[-1]) == [204, 401, 401]
