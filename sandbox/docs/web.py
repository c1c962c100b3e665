"""The blueprint that serves the reference at `/docs` and the spec at `/openapi.{yaml,json}`.

The page is rendered once, when the blueprint is made, with a placeholder base URL and a
token for each example id; each request swaps in its own host and the serving sandbox's
ids (read from its database then, so they exist), so the examples call the sandbox that
served them, with its data. The page also has a Try-it panel per operation.
With `own_servers`, the served spec does the same: its first server is the base URL of
the request's host, so a client generated from it calls the sandbox it was fetched from.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from flask import Blueprint, Response, current_app, request
from markupsafe import escape

from sandbox.docs import render
from sandbox.docs.example_ids import picked
from sandbox.docs.reference import reference
from sandbox.spec import read_yaml

PLACEHOLDER = "http://sandbox-base-url.invalid"
DEFAULT_PREFIX = "/api/v1"
# A Host header this plain goes into YAML, JSON and HTML unquoted; any other keeps the
# spec's own server.
PLAIN_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
SERVERS_KEY = re.compile(rb"^servers:", re.MULTILINE)
# Where an example id goes in the rendered page: `~id~operationId.field~example~` (characters
# a URL path keeps as they are).
ID_TOKEN = re.compile(r"~id~([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)~([A-Za-z0-9_.-]+)~")


def id_token(operation_id: str, name: str, example: str) -> str:
    """The token the page holds for an example id until a request fills it in."""
    return f"~id~{operation_id}.{name}~{example}~"


@functools.lru_cache(maxsize=4)
def with_ids(page: str, found: tuple[tuple[str, str], ...]) -> str:
    """The page with each id token replaced by the picked id (else by the example id)."""
    ids = dict(found)

    def fill(match: re.Match[str]) -> str:
        operation_id, name, example = match.groups()
        return ids.get(f"{operation_id}.{name}", ids.get(name, example))

    return ID_TOKEN.sub(fill, page)


def live_ids() -> dict[str, str]:
    """The ids picked from the serving sandbox's database ({} in an app without one)."""
    pipeline = current_app.extensions.get("sandbox")
    return picked(pipeline.database) if pipeline is not None else {}


def blueprint(spec_path: Path, *, own_servers: bool = False) -> Blueprint:
    """A blueprint with `GET /docs`, `GET /openapi.yaml` and `GET /openapi.json` (no auth).

    Without `own_servers` the spec is served as its file says, byte for byte; with it, its
    first server (`servers[0].url`) names the request's host, in the spec and the page.
    Reads and renders the spec now; raises OSError or yaml.YAMLError if it cannot.
    """
    spec_path = Path(spec_path)
    raw = spec_path.read_bytes()
    spec = read_yaml(spec_path)
    servers = spec.get("servers") or [{"url": DEFAULT_PREFIX}]
    file_server = str(servers[0]["url"])
    prefix = urlsplit(file_server).path.rstrip("/")
    if own_servers:
        spec = _first_server(spec, PLACEHOLDER)
        raw = _yaml_with_server(raw, file_server, spec)
    page = render.html(reference(spec, PLACEHOLDER, ids=id_token, try_it=True))
    spec_json = json.dumps(spec, indent=2, ensure_ascii=False, default=str)

    def base_url() -> str:
        """This request's base URL; the spec's own for a Host header that is not plain."""
        if not PLAIN_HOST.fullmatch(request.host):
            return file_server
        return request.host_url.rstrip("/") + prefix

    @functools.lru_cache(maxsize=8)
    def served(template: str | bytes, base: str) -> str | bytes:
        if isinstance(template, bytes):
            return template.replace(PLACEHOLDER.encode(), base.encode())
        return template.replace(PLACEHOLDER, base)

    docs = Blueprint("docs", __name__)

    @docs.get("/docs")
    def show_docs() -> Response:
        """The HTML reference, its examples calling this request's host with its ids."""
        filled = with_ids(page, tuple(sorted(live_ids().items())))
        return Response(served(filled, str(escape(base_url()))), mimetype="text/html")

    @docs.get("/openapi.yaml")
    def show_spec_yaml() -> Response:
        """The spec file, byte for byte (but for its first server with `own_servers`)."""
        return Response(served(raw, base_url()), mimetype="application/yaml")

    @docs.get("/openapi.json")
    def show_spec_json() -> Response:
        """The spec as JSON."""
        return Response(served(spec_json, base_url()), mimetype="application/json")

    return docs


def _first_server(spec: dict[str, Any], url: str) -> dict[str, Any]:
    """A copy of `spec` whose first server is `url` (added if it has none)."""
    spec = copy.copy(spec)
    servers = [dict(server) for server in spec.get("servers") or []] or [{}]
    servers[0]["url"] = url
    spec["servers"] = servers
    return spec


def _yaml_with_server(raw: bytes, url: str, spec: dict[str, Any]) -> bytes:
    """The spec file with the placeholder for its first server's URL, the rest unchanged.

    If the URL is not where a plain `servers:` list puts it, the parsed spec is written
    out again (without the file's comments or layout).
    """
    key = SERVERS_KEY.search(raw)
    at = raw.find(url.encode(), key.end()) if key else -1
    if at < 0 or raw[at - 1 : at] in (b'"', b"'"):
        return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True).encode()
    return raw[:at] + PLACEHOLDER.encode() + raw[at + len(url) :]
