"""Every operation's curl example, pasted as the reference shows it, answers its documented status.

Against a fresh `sandbox serve` (the real server, over a socket), with the key exported as
its banner says, each example is run by bash and curl: those of the page the sandbox serves
at /docs (its own ids), and those of `sandbox docs build` (the ids a fresh sandbox of the
default seed has). The company is reset after each example that writes, so each one meets
a fresh sandbox.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from sandbox.cli import main
from sandbox.conventions import requestlog
from tests.docs.served_page import (
    documented_status,
    fetch,
    reader_path,
    run_curl,
    run_program,
    samples,
)
from tests.sandbox.served import banner_key, serving

pytestmark = pytest.mark.slow
# Examples no fresh sandbox can answer as documented from a page built before it ran.
NEEDS_HISTORY = {"getRequestLogEntry": "a fresh sandbox has logged no request to name"}


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


def fetch_json(url: str, key: str) -> Any:
    """GET `url` with the key."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


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
            fetch_json(f"{base}/account", key)  # the served page names the newest logged request
            time.sleep(requestlog.FLUSH_SECONDS * 2)  # the log is written within FLUSH_SECONDS
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
            if page == "static" and operation_id in NEEDS_HISTORY:
                continue
            command = found[operation_id].code["curl"]
            status, body = run_curl(command, key, path)
            expected = documented_status(spec, operation_id)
            if status != expected:
                wrong[operation_id] = (status, expected, body[:300])
            if not command.startswith('curl "'):  # a write: the next example meets fresh data
                reset(base, key)
    assert wrong == {}, json.dumps(wrong, indent=1)


def one_per_tag(spec: dict[str, Any]) -> list[str]:
    """For each tag: its first operation and its first one that sends a body."""
    chosen: dict[str, list[str]] = {}
    for item in spec["paths"].values():
        for op in item.values():
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            picks = chosen.setdefault(op["tags"][0], [])
            if not picks or ("requestBody" in op and len(picks) == 1):
                picks.append(op["operationId"])
    return [operation_id for picks in chosen.values() for operation_id in picks]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_python_and_javascript_samples_answer_their_documented_status(
    tmp_path: Path, spec: dict[str, Any]
) -> None:
    chosen = one_per_tag(spec)
    assert len({tag["name"] for tag in spec["tags"]}) <= len(chosen)
    with serving(f"sqlite:///{tmp_path}/fresh.db", "--rate-limit-scale", "0") as (port, lines):
        key = banner_key(lines)
        found = samples(fetch(f"http://127.0.0.1:{port}/docs"))
        wrong = {}
        for operation_id in chosen:
            expected = documented_status(spec, operation_id)
            for language in ("python", "javascript"):
                status, body = run_program(
                    language, found[operation_id].code[language], key, tmp_path
                )
                if status != expected:
                    wrong[f"{operation_id} ({language})"] = (status, expected, body[:300])
                if not found[operation_id].code["curl"].startswith('curl "'):
                    reset(f"http://127.0.0.1:{port}/api/v1", key)
    assert wrong == {}, json.dumps(wrong, indent=1)
