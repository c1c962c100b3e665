"""The Platform API sandbox: every operation of openapi.yaml, served with real state."""

from sandbox.config import SandboxConfig

__all__ = ["SandboxConfig", "create_app"]


def create_app(config: SandboxConfig | None = None):  # noqa: ANN201 - re-export without importing Flask eagerly
    """Build the Flask app; see `sandbox.http.app.create_app`."""
    from sandbox.http.app import create_app as build

    return build(config or SandboxConfig())
