"""The blueprint that serves the reference at `/docs` and the spec at `/openapi.{yaml,json}`.

The page is rendered once, when the blueprint is made, with a placeholder base URL; each
request only swaps in its own host, so curl examples call the sandbox that served them.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, request
from markupsafe import escape

from sandbox.docs import render
from sandbox.docs.reference import reference
from sandbox.spec import read_yaml

PLACEHOLDER = "http://sandbox-base-url.invalid"
DEFAULT_PREFIX = "/api/v1"


def blueprint(spec_path: Path) -> Blueprint:
    """A blueprint with `GET /docs`, `GET /openapi.yaml` and `GET /openapi.json` (no auth).

    Reads and renders the spec now; raises OSError or yaml.YAMLError if it cannot.
    """
    spec_path = Path(spec_path)
    raw = spec_path.read_bytes()
    spec = read_yaml(spec_path)
    page = render.html(reference(spec, PLACEHOLDER))
    spec_json = json.dumps(spec, indent=2, ensure_ascii=False, default=str)
    servers = spec.get("servers") or [{"url": DEFAULT_PREFIX}]
    prefix = urlsplit(servers[0]["url"]).path.rstrip("/")

    docs = Blueprint("docs", __name__)

    @docs.get("/docs")
    def show_docs() -> Response:
        """The HTML reference, its curl examples pointing at this request's host."""
        base = escape(request.host_url.rstrip("/") + prefix)
        return Response(page.replace(PLACEHOLDER, base), mimetype="text/html")

    @docs.get("/openapi.yaml")
    def show_spec_yaml() -> Response:
        """The spec file, byte for byte."""
        return Response(raw, mimetype="application/yaml")

    @docs.get("/openapi.json")
    def show_spec_json() -> Response:
        """The spec as JSON."""
        return Response(spec_json, mimetype="application/json")

    return docs
