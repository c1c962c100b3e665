"""Fixtures of the domain tests."""

from __future__ import annotations

import pytest
from flask import Flask

from sandbox.domain.delivery import DeliveryWorker

from .hooks import POLICY


@pytest.fixture
def worker(app: Flask) -> DeliveryWorker:
    """A worker on the app's database, run synchronously with `run_due`."""
    return DeliveryWorker(app.extensions["sandbox"].database, POLICY)
