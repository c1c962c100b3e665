"""Load generation with wrk: requests/s and latency percentiles of one request shape."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LUA = """
wrk.method = "{method}"
wrk.headers["Authorization"] = "Bearer {key}"
wrk.headers["Content-Type"] = "application/json"
{extra_headers}
{body}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "{path}")
end
done = function(summary, latency, requests)
  local e = summary.errors
  local errors = e.status + e.connect + e.read + e.write + e.timeout
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, errors,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), summary.duration))
end
"""


@dataclass(frozen=True)
class Measure:
    """One load run's outcome."""

    requests: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    seconds: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def require_wrk() -> str:
    """The wrk binary; installs Debian's package if missing."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed for the benchmark: apt-get install wrk")
    return found


def run(
    url: str,
    path: str,
    key: str,
    *,
    method: str = "GET",
    body: str | None = None,
    seconds: int = 5,
    connections: int = 8,
    headers: dict[str, str] | None = None,
) -> Measure:
    """Drive `method path` at `url` for `seconds` with wrk (one thread, several connections)."""
    wrk = require_wrk()
    body_line = f"wrk.body = [[{body}]]" if body else ""
    extra = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in (headers or {}).items())
    script = LUA.format(method=method, key=key, body=body_line, path=path, extra_headers=extra)
    with tempfile.TemporaryDirectory() as tmp:
        lua = Path(tmp) / "shape.lua"
        lua.write_text(script)
        out = subprocess.run(
            [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(lua), url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    n, errors, p50, p90, p99, micros = (int(x) for x in match.groups())
    return Measure(n, errors, p50 / 1000, p90 / 1000, p99 / 1000, micros / 1e6)
