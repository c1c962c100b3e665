"""Imports every table module so that the metadata knows every table."""

from sandbox.storage import core, crm  # noqa: F401
