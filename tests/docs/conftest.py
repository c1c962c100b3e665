"""Fixtures of the docs tests: the spec, the reference built from it once per session, and
a sandbox served over HTTP for the browser."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox import docs

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"


@dataclass(frozen=True)
class Built:
    """The outputs of one `docs.build`."""

    paths: list[Path]
    html: str
    markdown: str


@pytest.fixture(scope="session")
def spec_path() -> Path:
    return SPEC_PATH


@pytest.fixture(scope="session")
def spec(spec_path: Path) -> dict[str, Any]:
    return yaml.safe_load(spec_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def built(spec_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    out_dir = tmp_path_factory.mktemp("docs")
    paths = docs.build(spec_path, out_dir)
    return Built(
        paths=paths,
        html=(out_dir / "index.html").read_text(encoding="utf-8"),
        markdown=(out_dir / "reference.md").read_text(encoding="utf-8"),
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A sandbox served over HTTP on a free loopback port; yields its root URL."""
    from sandbox.config import SandboxConfig
    from sandbox.http.app import create_app
    from tests.contracts.serving import served

    config = SandboxConfig(database_url=f"sqlite:///{tmp_path}/s.db", webhook_worker=False)
    with served(create_app(config)) as origin:
        yield origin
