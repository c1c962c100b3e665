"""Reading the served reference as a reader does: each operation's samples and its answer.

Helpers shared by the docs tests that run the reference's examples against `sandbox serve`.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import stat
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OPERATION = re.compile(r'<section class="op[^"]*" id="([^"]+)"[^>]*>(.*?)</section>', re.DOTALL)
SAMPLE = re.compile(r'<code class="language-(\w+)"[^>]*>(.*?)</code>', re.DOTALL)
LANGUAGES = {"bash": "curl", "python": "python", "javascript": "javascript", "js": "javascript"}


@dataclass(frozen=True)
class Samples:
    """One operation's request samples as a reader copies them, by language."""

    operation_id: str
    code: dict[str, str]


def fetch(url: str) -> str:
    """The body of a GET as text."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode("utf-8")


def text_of(fragment: str) -> str:
    """Highlighted HTML code as the text a reader copies."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def samples(page: str) -> dict[str, Samples]:
    """Every operation's request samples (first of each language), by operationId."""
    found = {}
    for operation_id, body in OPERATION.findall(page):
        code: dict[str, str] = {}
        for language, fragment in SAMPLE.findall(body):
            name = LANGUAGES.get(language)
            if name and name not in code:
                code[name] = text_of(fragment)
        found[operation_id] = Samples(operation_id, code)
    return found


def documented_status(spec: dict[str, Any], operation_id: str) -> int:
    """The first success status the spec documents for an operation."""
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return int(next(s for s in op["responses"] if str(s).startswith("2")))
    raise KeyError(operation_id)


def reader_path(tmp_path: Path) -> str:
    """A PATH with what a reader's shell has: `uuidgen` (macOS and util-linux ship it)."""
    if shutil.which("uuidgen"):
        return os.environ["PATH"]
    bin_dir = tmp_path / "reader-bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "uuidgen"
    script.write_text(f"#!{sys.executable}\nimport uuid\nprint(uuid.uuid4())\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def run_curl(command: str, key: str, path: str) -> tuple[int, str]:
    """Paste `command` into bash after `export SANDBOX_KEY=key`: (status, body)."""
    script = f"export SANDBOX_KEY={key}\n{command.rstrip()} -s -w '\\n%{{http_code}}'"
    result = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": path, "HOME": os.environ.get("HOME", "/tmp")},
    )
    body, _, status = result.stdout.rpartition("\n")
    return int(status or 0), body


def run_program(language: str, code: str, key: str, folder: Path) -> tuple[int, str]:
    """Run a Python or JavaScript sample as a file, with SANDBOX_KEY set: (status, body)."""
    suffix, command = {"python": (".py", [sys.executable]), "javascript": (".mjs", ["node"])}[
        language
    ]
    script = folder / f"sample{suffix}"
    script.write_text(code, encoding="utf-8")
    result = subprocess.run(
        [*command, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SANDBOX_KEY": key},
    )
    status, _, body = result.stdout.partition(" ")
    return (int(status) if status.isdigit() else 0), body or result.stderr[-500:]
