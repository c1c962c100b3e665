"""Imports every table module so that the metadata knows every table."""

from sandbox.storage import analytics, commerce, core, crm, messaging, metering, webhooks  # noqa: F401
