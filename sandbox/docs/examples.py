"""Ready-to-run request samples, written from one `Call`: curl, Python (requests), JavaScript.

Each sample reads the key from `SANDBOX_KEY` (the variable `sandbox serve` exports),
sends a fresh `Idempotency-Key` on a create, and prints the status and the body.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.docs.calls import Call, call, parameter_example

__all__ = ["LANGUAGES", "curl", "javascript", "parameter_example", "python", "samples"]

KEY_HEADER = "Authorization: Bearer $SANDBOX_KEY"
# (language id, tab label, Pygments language) in the order the tabs show them.
LANGUAGES = (
    ("curl", "curl", "bash"),
    ("python", "Python", "python"),
    ("javascript", "JavaScript", "javascript"),
)


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
    return curl_of(call(method, url, parameters, body, idempotent))


def curl_of(request: Call) -> str:
    """The call as a curl command, one option a line."""
    method = request.method
    url = request.url
    lines = [f'curl -X {method.upper()} "{url}"' if method != "get" else f'curl "{url}"']
    lines.append(f'-H "{KEY_HEADER}"')
    if request.idempotent:
        lines.append('-H "Idempotency-Key: $(uuidgen)"')
    if request.body is not None:
        lines.append('-H "Content-Type: application/json"')
        payload = json.dumps(request.body, indent=2, ensure_ascii=False).replace("'", "'\\''")
        lines.append(f"-d '{payload}'")
    return " \\\n  ".join(lines)


def python(request: Call) -> str:
    """The call with `requests`; prints the status and the body."""
    imports = ["import os"] + (["import uuid"] if request.idempotent else [])
    headers = ['        "Authorization": f"Bearer {os.environ[\'SANDBOX_KEY\']}",']
    if request.idempotent:
        headers.append('        "Idempotency-Key": str(uuid.uuid4()),')
    arguments = [f"    {json.dumps(request.url)},", "    headers={", *headers, "    },"]
    if request.body is not None:
        arguments.append(f"    json={python_literal(request.body, 1)},")
    arguments.append("    timeout=30,")
    return "\n".join(
        [
            *imports,
            "",
            "import requests",
            "",
            f"response = requests.{request.method}(",
            *arguments,
            ")",
            "print(response.status_code, response.text)",
        ]
    )


def javascript(request: Call) -> str:
    """The call with `fetch` (Node.js 18+, as an ES module); prints the status and the body."""
    headers = ["    Authorization: `Bearer ${process.env.SANDBOX_KEY}`,"]
    if request.idempotent:
        headers.append('    "Idempotency-Key": crypto.randomUUID(),')
    if request.body is not None:
        headers.append('    "Content-Type": "application/json",')
    options = [f'  method: "{request.method.upper()}",', "  headers: {", *headers, "  },"]
    if request.body is not None:
        body = json.dumps(request.body, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        options.append(f"  body: JSON.stringify({body}),")
    return "\n".join(
        [
            f"const response = await fetch({json.dumps(request.url)}, {{",
            *options,
            "});",
            "console.log(response.status, await response.text());",
        ]
    )


def samples(request: Call) -> tuple[tuple[str, str], ...]:
    """(language id, code) for every language of `LANGUAGES`, in tab order."""
    writers = {"curl": curl_of, "python": python, "javascript": javascript}
    return tuple((language, writers[language](request)) for language, _, _ in LANGUAGES)


def python_literal(value: Any, level: int = 0) -> str:
    """A JSON value as Python source, indented like `json.dumps(indent=4)` from `level`."""
    pad, inner = "    " * level, "    " * (level + 1)
    if isinstance(value, dict) and value:
        items = [
            f"{inner}{json.dumps(k)}: {python_literal(v, level + 1)}," for k, v in value.items()
        ]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value:
        items = [f"{inner}{python_literal(v, level + 1)}," for v in value]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    if isinstance(value, bool) or value is None:
        return repr(value)
    return json.dumps(value, ensure_ascii=False)
