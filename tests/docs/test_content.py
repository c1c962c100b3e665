"""Everything the spec names appears in both the HTML and the Markdown reference.

What to look for is read from the spec itself, never listed here, so that a new
operation, parameter, property, error code or magic value is checked as soon as it exists.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from flask import Flask

from sandbox import docs
from sandbox.docs.web import PLACEHOLDER

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def follow(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The node a local `$ref` points at (or the node itself)."""
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations(spec: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(path item, operation) for every operation under `paths` and `webhooks`."""
    for section in ("paths", "webhooks"):
        for item in spec.get(section, {}).values():
            for method in METHODS:
                if method in item:
                    yield item, item[method]


def parameter_names(spec: dict[str, Any]) -> set[str]:
    names = {p["name"] for p in spec.get("components", {}).get("parameters", {}).values()}
    for item, op in operations(spec):
        for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
            names.add(follow(spec, raw)["name"])
    return names


def schema_roots(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every schema the spec declares: components, parameters, bodies, responses, headers."""
    components = spec.get("components", {})
    yield from components.get("schemas", {}).values()
    for parameter in components.get("parameters", {}).values():
        yield parameter.get("schema", {})
    for header in components.get("headers", {}).values():
        yield header.get("schema", {})
    for item, op in operations(spec):
        for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
            yield follow(spec, raw).get("schema", {})
        bodies = [follow(spec, op["requestBody"])] if "requestBody" in op else []
        bodies += [follow(spec, r) for r in op.get("responses", {}).values()]
        for body in bodies:
            for media in body.get("content", {}).values():
                yield media.get("schema", {})


def property_names(schema: Any) -> Iterator[str]:
    """The names of every property declared in a schema, however deeply nested."""
    if not isinstance(schema, dict):
        return
    for name, sub in schema.get("properties", {}).items():
        yield name
        yield from property_names(sub)
    for key in ("items", "additionalProperties", "not"):
        yield from property_names(schema.get(key))
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, []):
            yield from property_names(sub)


def magic_values(spec: Any) -> set[str]:
    """Every `value` of `x-test-values` anywhere, and every value listed in `x-test-mode`."""
    found: set[str] = set()
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "x-test-values":
                found |= {str(record["value"]) for record in value}
            elif key == "x-test-mode":
                for entry in value.values():
                    if isinstance(entry, dict):
                        found |= {str(v) for v in entry.values()}
                    elif isinstance(entry, list):
                        found |= {str(r["value"]) for r in entry if isinstance(r, dict)}
            else:
                found |= magic_values(value)
    elif isinstance(spec, list):
        for value in spec:
            found |= magic_values(value)
    return found


def error_codes(spec: dict[str, Any]) -> list[str]:
    return spec["components"]["schemas"]["Error"]["properties"]["code"]["enum"]


def visible_text(page: str) -> str:
    """The text of an HTML page as a reader sees it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def missing(names: set[str] | list[str], page: str, pattern: str) -> list[str]:
    """The names that `pattern` (a format with `{}` for the escaped name) does not find."""
    return sorted(n for n in names if not re.search(pattern.format(re.escape(n)), page))


def test_build_writes_both_files(built):
    assert [path.name for path in built.paths] == ["index.html", "reference.md"]
    assert all(path.stat().st_size > 0 for path in built.paths)


def test_every_operation_has_an_anchor(spec, built):
    ids = {op["operationId"] for _, op in operations(spec)}
    assert len(ids) > 70
    assert missing(ids, built.html, r'id="{}"') == []
    assert missing(ids, built.markdown, r'<a id="{}"></a>') == []


def test_every_parameter_appears(spec, built):
    names = parameter_names(spec)
    assert missing({html.escape(n) for n in names}, built.html, r"<strong>{}</strong>") == []
    assert missing(names, built.markdown, r"`{}`") == []


def test_every_schema_property_appears(spec, built):
    names = {name for root in schema_roots(spec) for name in property_names(root)}
    assert len(names) > 100
    assert missing(names, built.html, r"<strong>{}</strong>") == []
    assert missing(names, built.markdown, r"`[^`\n|]*\b{}`") == []


def test_every_error_code_appears_with_its_status(spec, built):
    codes = error_codes(spec)
    assert missing(codes, built.html, r"<td>\d{{3}}</td><td><code>{}</code></td>") == []
    assert missing(codes, built.markdown, r"\| \d{{3}} \| `{}` \|") == []


def test_every_magic_value_appears(spec, built):
    values = magic_values(spec)
    assert {"pm_card_visa", "+15005550001", "sk_test_"} <= values
    assert missing({html.escape(v) for v in values}, built.html, r"<code>{}") == []
    assert missing(values, built.markdown, r"`{}") == []


def test_every_plan_appears_in_the_plan_table(spec, built):
    plans = [plan["plan"] for plan in spec["x-plans"]]
    assert missing(plans, built.html, r"<td><code>{}</code></td>") == []
    assert missing(plans, built.markdown, r"\| `{}` \|") == []


def test_sandbox_only_and_deprecated_operations_are_marked(spec, built):
    for _, op in operations(spec):
        section = built.html.split(f'id="{op["operationId"]}"', 1)[1].split("</section>", 1)[0]
        assert ("Sandbox only" in section) == bool(op.get("x-sandbox-only")), op["operationId"]
        if op.get("deprecated"):
            assert f"sunset {op['x-sunset']}" in section


def test_html_loads_nothing_from_the_network(built):
    assert not re.search(
        r"""<(script|img|iframe)[^>]+src=|<link[^>]+stylesheet|@import|url\(""", built.html
    )
    assert 'curl "http://127.0.0.1:8080/api/v1/account"' in visible_text(built.html)


@pytest.fixture(scope="module")
def client(spec_path):
    app = Flask(__name__)
    app.register_blueprint(docs.blueprint(spec_path))
    return app.test_client()


def test_blueprint_serves_docs_pointing_at_the_request_host(client):
    response = client.get("/docs", base_url="http://sandbox.test:9000")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = visible_text(response.get_data(as_text=True))
    assert 'curl "http://sandbox.test:9000/api/v1/account"' in page
    assert '-H "Authorization: Bearer $SANDBOX_KEY"' in page
    assert PLACEHOLDER not in page


def test_blueprint_serves_the_raw_spec(client, spec_path, spec):
    raw = client.get("/openapi.yaml")
    assert raw.status_code == 200
    assert raw.mimetype == "application/yaml"
    assert raw.data == spec_path.read_bytes()
    as_json = client.get("/openapi.json")
    assert as_json.mimetype == "application/json"
    assert json.loads(as_json.data) == json.loads(json.dumps(spec, default=str))
    assert yaml.safe_load(raw.data) == spec


def test_anchors_are_unique_and_every_link_lands(built):
    ids = re.findall(r'\sid="([^"]+)"', built.html)
    assert len(ids) == len(set(ids))
    assert set(re.findall(r'href="#([^"]*)"', built.html)) <= set(ids)
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', built.markdown))
    assert set(re.findall(r"\]\(#([^)]+)\)", built.markdown)) <= anchors
