"""Sandbox settings, fixed once the app is built; the only reader of the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///sandbox.db"
DEFAULT_SEED = 42
# The WSGI environ key that marks an in-process call (the inspector's) as a sandbox tool's:
# counted in the key's bucket for tools and not logged. No HTTP client can set it.
UNMETERED_CALL = "sandbox.unmetered"

# One request at a time per worker: a request's work is Python under its process's one
# GIL, so threads in a worker only take turns, and a writer that gives up the GIL inside
# a SQLite call, holding the write lock, waits for its siblings while every other writer
# waits for it. Processes run in parallel; more threads help only a server database.
DEFAULT_WORKERS, DEFAULT_THREADS = 2, 1

# An origin as a browser sends it: scheme://host[:port], no path.
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s]+", re.IGNORECASE)


def key_from_env() -> str | None:
    """`$SANDBOX_KEY` (the key `serve`'s banner exports), used by `sandbox listen` and
    `sandbox trigger` when no `--key` is given; None when unset or empty."""
    return os.environ.get("SANDBOX_KEY", "").strip() or None


def cors_origins(entries: Iterable[str]) -> tuple[str, ...]:
    """The origins of `--cors-origins` or SANDBOX_CORS_ORIGINS: `*` any, `none` CORS off.

    Raises ValueError for an entry that is no origin (`http://localhost:3000`) or `none`
    among origins.
    """
    origins = [e.strip().rstrip("/") for e in entries if e.strip()]
    if [o.lower() for o in origins] == ["none"]:
        return ()
    if "*" in origins:
        return ("*",)
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(
                f"{origin!r} is no origin: write scheme://host[:port] (http://localhost:3000), "
                "* for any origin, or none alone to turn CORS off"
            )
    return tuple(origins)


@dataclass(frozen=True, kw_only=True)
class SandboxConfig:
    """Settings for one sandbox.

    `rate_limit_scale` multiplies every plan's requests-per-minute limit; 0 lifts rate
    limits (for long contract runs). `strict_responses` validates every response against
    the spec with openapi-core and answers 500 when a handler goes off-spec.
    `body_timeout_seconds` is how long a served request's body may stop arriving before
    the request is answered 400 and its connection closed. `webhook_allow` restricts
    webhook targets on a shared host: CIDR networks and host names a target must be or
    resolve into (see sandbox/domain/targets.py); empty, a local sandbox delivers anywhere
    but link-local addresses. `cors_origins` are the origins a browser app may call the
    sandbox from: `("*",)`, the default, any (a sandbox holds test keys only); empty, CORS off.
    """

    database_url: str = DEFAULT_DATABASE_URL
    seed: int = DEFAULT_SEED
    strict_responses: bool = False
    rate_limit_scale: float = 1.0
    spec_path: Path | None = None
    webhook_worker: bool = True
    webhook_poll_seconds: float = 0.05  # how often the outbox is read for due deliveries
    body_timeout_seconds: float = 10.0
    webhook_allow: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ("*",)

    @classmethod
    def from_env(cls, **overrides: object) -> SandboxConfig:
        """Settings from `SANDBOX_*` variables, then `overrides` (None values ignored)."""
        env = os.environ
        values: dict[str, object] = {}
        if "SANDBOX_DB" in env:
            values["database_url"] = env["SANDBOX_DB"]
        if "SANDBOX_SEED" in env:
            values["seed"] = int(env["SANDBOX_SEED"])
        if "SANDBOX_STRICT" in env:
            values["strict_responses"] = env["SANDBOX_STRICT"] not in ("", "0", "false")
        if "SANDBOX_RATE_LIMIT_SCALE" in env:
            values["rate_limit_scale"] = float(env["SANDBOX_RATE_LIMIT_SCALE"])
        if "SANDBOX_WEBHOOK_WORKER" in env:  # 0: serve starts no delivery process
            values["webhook_worker"] = env["SANDBOX_WEBHOOK_WORKER"] not in ("", "0", "false")
        if "SANDBOX_BODY_TIMEOUT" in env:
            values["body_timeout_seconds"] = float(env["SANDBOX_BODY_TIMEOUT"])
        if "SANDBOX_WEBHOOK_ALLOW" in env:
            entries = env["SANDBOX_WEBHOOK_ALLOW"].split(",")
            values["webhook_allow"] = tuple(e.strip() for e in entries if e.strip())
        if "SANDBOX_CORS_ORIGINS" in env:
            try:
                values["cors_origins"] = cors_origins(env["SANDBOX_CORS_ORIGINS"].split(","))
            except ValueError as error:
                raise ValueError(f"SANDBOX_CORS_ORIGINS: {error}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]  # each value parsed for its field above
