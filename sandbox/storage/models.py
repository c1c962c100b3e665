"""Imports every table module so that the metadata knows every table."""

from sandbox.storage import commerce, core, crm, messaging, webhooks  # noqa: F401
