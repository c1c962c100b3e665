"""The API reference, generated from openapi.yaml: a static build and a Flask blueprint.

`build` writes `index.html` (self-contained: inline CSS and JavaScript, no network) and
`reference.md`, whose examples use the ids a fresh sandbox of the seed has; `blueprint`
serves the page at `/docs` with the serving sandbox's own ids and a Try-it panel per
operation, and the spec at `/openapi.yaml` and `/openapi.json`.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.config import DEFAULT_SEED
from sandbox.docs import render
from sandbox.docs.example_ids import lookup, seeded
from sandbox.docs.reference import reference
from sandbox.docs.web import blueprint
from sandbox.spec import load_spec, read_yaml

__all__ = ["DEFAULT_BASE_URL", "blueprint", "build"]

DEFAULT_BASE_URL = "http://127.0.0.1:8080/api/v1"


def build(
    spec_path: Path, out_dir: Path, base_url: str = DEFAULT_BASE_URL, seed: int = DEFAULT_SEED
) -> list[Path]:
    """Write `index.html` and `reference.md` for the spec into `out_dir` (created if missing).

    The examples use the ids `sandbox serve --seed seed` starts with. Returns the written
    paths. Raises OSError or yaml.YAMLError if the spec cannot be read.
    """
    ids = lookup(seeded(seed, load_spec(Path(spec_path))))
    model = reference(read_yaml(Path(spec_path)), base_url.rstrip("/"), ids=ids)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in (
        ("index.html", render.html(model)),
        ("reference.md", render.markdown(model)),
    ):
        path = out_dir / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
