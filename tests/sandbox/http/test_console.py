"""`sandbox serve`'s console: a line per request as it is served, none with --quiet."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..served import banner_key, serving

LINE = re.compile(r"^\d\d:\d\d:\d\d (GET|POST) (/\S+) (\d{3}) (\d+)ms (req_[0-9a-f]{24})$")


def get(url: str, key: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["X-Request-Id"]
    except urllib.error.HTTPError as error:
        return error.code, error.headers["X-Request-Id"]


def console_lines(lines: list[str], count: int, wait: float = 10) -> list[re.Match[str]]:
    """The console's lines once `count` are in (or `wait` s have passed)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = [m for m in map(LINE.match, (line.strip() for line in lines)) if m]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    return [m for m in map(LINE.match, (line.strip() for line in lines)) if m]


def test_each_request_prints_one_line(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path}/c.db", "--rate-limit-scale", "0") as (port, lines):
        key = banner_key(lines)
        base = f"http://127.0.0.1:{port}/api/v1"
        answers = [get(f"{base}/account", key), get(f"{base}/crm/contacts/con_nope", key)]
        found = console_lines(lines, 3)  # the health check too
    shown = {m.group(5): (m.group(1), m.group(2), int(m.group(3))) for m in found}
    assert shown[answers[0][1]] == ("GET", "/api/v1/account", 200)
    assert shown[answers[1][1]] == ("GET", "/api/v1/crm/contacts/con_nope", 404)


def test_quiet_prints_none(tmp_path: Path) -> None:
    with serving(f"sqlite:///{tmp_path}/q.db", "--quiet") as (port, lines):
        key = banner_key(lines)
        status, _ = get(f"http://127.0.0.1:{port}/api/v1/account", key)
        assert status == 200
        assert console_lines(lines, 1, wait=1) == []
