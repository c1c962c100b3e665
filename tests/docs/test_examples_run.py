"""Every operation's curl example, pasted as the reference shows it, answers its documented status.

Against a fresh `sandbox serve` (the real server, over a socket), with the key exported as
its banner says, each example is run by bash and curl: those of the page the sandbox serves
at /docs (its own ids), and those of `sandbox docs build` (the ids a fresh sandbox of the
default seed has). The company is reset after each example that writes, so each one meets
a fresh sandbox.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from sandbox.cli import main
from tests.docs.served_page import documented_status, fetch, reader_path, run_curl, samples
from tests.sandbox.served import banner_key, serving

pytestmark = pytest.mark.slow


def reset(base: str, key: str) -> None:
    """Put the key's company back to its seeded data."""
    request = urllib.request.Request(
        f"{base}/sandbox/reset",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def static_page(tmp_path: Path, base: str) -> str:
    """The page `sandbox docs build` writes, its examples calling `base`."""
    assert main(["docs", "build", "-o", str(tmp_path / "built"), "--base-url", base]) == 0
    return (tmp_path / "built" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", ["served", "static"])
def test_every_curl_example_answers_its_documented_status(
    tmp_path: Path, spec: dict[str, Any], page: str
) -> None:
    path = reader_path(tmp_path)
    with serving(f"sqlite:///{tmp_path}/fresh.db", "--rate-limit-scale", "0") as (port, lines):
        assert any(line.startswith("export SANDBOX_KEY=") for line in lines)
        key = banner_key(lines)
        base = f"http://127.0.0.1:{port}/api/v1"
        if page == "served":
            html = fetch(f"http://127.0.0.1:{port}/docs")
        else:
            html = static_page(tmp_path, base)
        assert "~id~" not in html
        found = samples(html)
        wrong = {}
        ids = [
            op["operationId"]
            for item in spec["paths"].values()
            for op in item.values()
            if isinstance(op, dict) and "operationId" in op
        ]
        assert set(ids) <= set(found)
        for operation_id in ids:
            command = found[operation_id].code["curl"]
            status, body = run_curl(command, key, path)
            expected = documented_status(spec, operation_id)
            if status != expected:
                wrong[operation_id] = (status, expected, body[:300])
            if not command.startswith('curl "'):  # a write: the next example meets fresh data
                reset(base, key)
    assert wrong == {}, json.dumps(wrong, indent=1)
