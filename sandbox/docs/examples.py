"""Ready-to-run request examples: a curl command per operation, against a local sandbox."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

KEY_HEADER = "Authorization: Bearer $SANDBOX_KEY"


def parameter_example(parameter: dict[str, Any]) -> Any:
    """The example value of a parameter: its `example`, its schema's, or a default; else None."""
    schema = parameter.get("schema", {})
    for source in (parameter, schema):
        if "example" in source:
            return source["example"]
        if source.get("examples"):
            examples = source["examples"]
            return examples[0] if isinstance(examples, list) else None
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    return None


def curl(
    method: str,
    url: str,
    parameters: list[dict[str, Any]],
    body: Any = None,
    idempotent: bool = False,
) -> str:
    """A curl command: path parameters filled in, required query parameters set, body as JSON.

    `url` is the base URL joined with the operation's path template; the API key is read
    from `$SANDBOX_KEY` and a create gets a fresh `Idempotency-Key`.
    """
    query: dict[str, str] = {}
    for parameter in parameters:
        value = parameter_example(parameter)
        name = parameter["name"]
        if parameter["in"] == "path":
            filled = name.upper() if value is None else quote(str(value), safe="")
            url = url.replace("{" + name + "}", filled)
        elif parameter["in"] == "query" and parameter.get("required") and value is not None:
            query[name] = str(value)
    if query:
        url += "?" + urlencode(query)
    lines = [f'curl -X {method.upper()} "{url}"' if method != "get" else f'curl "{url}"']
    lines.append(f'-H "{KEY_HEADER}"')
    if idempotent:
        lines.append('-H "Idempotency-Key: $(uuidgen)"')
    if body is not None:
        lines.append('-H "Content-Type: application/json"')
        payload = json.dumps(body, indent=2, ensure_ascii=False).replace("'", "'\\''")
        lines.append(f"-d '{payload}'")
    return " \\\n  ".join(lines)
