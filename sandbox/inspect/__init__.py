"""The web inspector at `/inspect`: a company's traffic and records, through the API only."""

from sandbox.inspect.web import blueprint

__all__ = ["blueprint"]
