"""The contract suite inside pytest: options, and nothing else until they are given.

Loaded in every pytest run of an environment where the kit is installed (entry point
`pytest11`), so it stays inert: it only adds its options. With `--contracts-url` the
suite module `contracts.test_platform` runs one test per rule against that server:

    pytest --pyargs contracts --contracts-url http://127.0.0.1:8080/api/v1 \\
        --contracts-key sk_test_... --contracts-other-key sk_test_...
"""

from __future__ import annotations

import pytest

from contracts.client import DEFAULT_TIMEOUT


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contracts", "contract kit (checks a server against openapi.yaml)")
    group.addoption("--contracts-url", help="base URL of the server under test (…/api/v1)")
    group.addoption("--contracts-key", help="API key of the main company (full scopes)")
    group.addoption("--contracts-other-key", help="API key of another company (isolation)")
    group.addoption(
        "--contracts-extra-key",
        action="append",
        default=[],
        help="more keys, e.g. a read-only key for the scope rule (repeatable)",
    )
    group.addoption("--contracts-spec", help="the OpenAPI file (default: the kit's openapi.yaml)")
    group.addoption("--contracts-profile", default="quick", choices=("quick", "full"))
    group.addoption("--contracts-seed", type=int, default=0, help="seed of the run")
    group.addoption(
        "--contracts-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds one request may take before it fails its check",
    )
    group.addoption(
        "--contracts-only",
        action="append",
        default=[],
        help="rule ids or families, comma-separated (repeatable)",
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    url = config.getoption("--contracts-url", default=None)
    if not url:
        return None
    profile = config.getoption("--contracts-profile")
    return f"contracts: {url} (profile {profile})"
