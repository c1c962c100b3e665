"""One HTTP request and the response it got, as the kit records and reports it."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Exchange:
    """A request the kit sent and what came back (`status` 0: no response, `error` why)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    operation_id: str | None = None
    error: str | None = None  # what happened instead of an answer ("no answer in 10 s")

    @property
    def answered(self) -> bool:
        return self.status != 0

    def header(self, name: str) -> str | None:
        """A response header, case-insensitively."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def json(self) -> Any:
        """The response body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def summary(self) -> str:
        """`status` and a body excerpt, for a report line; what happened when no answer."""
        if not self.answered:
            return self.error or "no answer"
        text = self.body.decode("utf-8", "replace")
        if len(text) > 300:
            text = text[:300] + "…"
        return f"{self.status} {text}".strip()

    def curl(self, keys: dict[str, str] | None = None) -> str:
        """A copy-pasteable curl command that sends this request again."""
        parts = ["curl", "-i", "-X", self.method.upper(), shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            if name.lower() in ("content-length", "accept-encoding", "connection", "user-agent"):
                continue
            parts += ["-H", _quote_header(name, value, keys or {})]
        if self.request_body is not None:
            parts += ["--data-binary", shlex.quote(self.request_body.decode("utf-8", "replace"))]
        return " ".join(parts)


def _quote_header(name: str, value: str, keys: dict[str, str]) -> str:
    """Quote one `-H` argument, naming a known key by its variable instead of its value."""
    for variable, key in keys.items():
        if key and key in value:
            # Double quotes so the shell expands the variable.
            return '"' + f"{name}: {value.replace(key, '$' + variable)}".replace('"', '\\"') + '"'
    return shlex.quote(f"{name}: {value}")
