"""The import rules of ARCHITECTURE.md, checked on the code: layers point one way, no cycles.

Every import counts, at module level or inside a function, `TYPE_CHECKING` ones too.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "ARCHITECTURE.md"
# Each group of modules, and the groups it may import (besides itself and the leaves).
MAY_IMPORT: dict[str, set[str]] = {
    "leaves": set(),
    "storage": set(),
    "domain": {"storage"},
    "fixtures": {"domain", "storage"},
    "conventions": {"domain", "storage"},
    "handlers": {"conventions", "domain", "storage", "fixtures"},
    "keys": {"storage"},
    "docs": {"storage", "fixtures"},
    # The inspector reaches data through the app's own operations only (in-process calls).
    "inspect": set(),
    "delivery": {"domain", "storage"},
    # The devtools drive a sandbox over HTTP; of the domain they sign deliveries only.
    "devtools": {"domain"},
    "http": {
        "conventions",
        "domain",
        "storage",
        "fixtures",
        "handlers",
        "docs",
        "inspect",
        "keys",
        "delivery",
    },
}
MAY_IMPORT["cli"] = MAY_IMPORT["http"] | {"http", "devtools"}
LEAVES = {"sandbox.config", "sandbox.spec", "sandbox.errors", "sandbox.ids"}
# The package's `create_app` builds the app (on call): it stands with the entry points.
SINGLE = {
    "sandbox": "cli",
    "sandbox.keys": "keys",
    "sandbox.delivery_process": "delivery",
    "sandbox.cli": "cli",
    "sandbox.tool_commands": "cli",
}
NO_FLASK = {"storage", "domain", "fixtures", "devtools"}
# What of the sandbox the devtools may import: they talk to a sandbox over HTTP only.
DEVTOOLS_MAY_IMPORT = LEAVES | {"sandbox.domain.signing"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def group(module: str) -> str:
    """The layer a `sandbox` module belongs to."""
    if module in LEAVES:
        return "leaves"
    if module in SINGLE:
        return SINGLE[module]
    return module.split(".")[1]


def imports(path: Path) -> Iterator[str]:
    """Every module `path` imports: for `from package import name`, the submodule if
    `name` is one, else the package (a package's own `__init__` runs for any of its
    submodules, and is not counted for them)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                yield name if _is_module(name) else node.module


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def graph(package: str) -> dict[str, set[str]]:
    """Each module of `package` and the names of the project's packages it imports."""
    return {
        module_name(path): {m for m in imports(path) if m.split(".")[0] in ("sandbox", "contracts")}
        for path in (ROOT / package).rglob("*.py")
    }


SANDBOX = graph("sandbox")
KNOWN = set(SANDBOX)


def test_every_group_of_the_rules_exists() -> None:
    assert {group(m) for m in KNOWN} == set(MAY_IMPORT)


def test_imports_point_down_the_layers() -> None:
    wrong = []
    for module, targets in sorted(SANDBOX.items()):
        mine = group(module)
        for target in sorted(targets & KNOWN):
            theirs = group(target)
            if theirs not in {mine, "leaves"} | MAY_IMPORT[mine]:
                wrong.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert wrong == []


def test_leaves_import_no_other_module_of_the_sandbox() -> None:
    wrong = [
        f"{m} imports {t}"
        for m in sorted(LEAVES & KNOWN)
        for t in sorted(SANDBOX[m] & KNOWN)
        if t != m
    ]
    assert wrong == []


def test_handlers_share_code_only_through_lookups() -> None:
    wrong = [
        f"{m} imports {t}"
        for m, targets in sorted(SANDBOX.items())
        if m.startswith("sandbox.handlers.")
        for t in sorted(targets & KNOWN)
        if t.startswith("sandbox.handlers") and t != "sandbox.handlers.lookups"
    ]
    assert wrong == []


@pytest.mark.parametrize("layer", sorted(NO_FLASK))
def test_layers_below_http_never_import_flask(layer: str) -> None:
    wrong = [
        f"{m} imports {t}"
        for m, path in sorted((module_name(p), p) for p in (ROOT / "sandbox" / layer).rglob("*.py"))
        for t in imports(path)
        if t.split(".")[0] in ("flask", "werkzeug")
    ]
    assert wrong == []


def test_no_module_imports_itself_through_others() -> None:
    """No cycle: Tarjan's strongly connected components are all single modules."""
    edges = {m: sorted(t for t in targets & KNOWN if t != m) for m, targets in SANDBOX.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (top := stack.pop()) != node:
                component.append(top)
            component.append(node)
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    # A package's __init__ that re-exports its submodules is one module with them.
    cycles = [c for c in cycles if not _package_and_its_own(c)]
    assert cycles == []


def _package_and_its_own(component: list[str]) -> bool:
    packages = [m for m in component if any(o.startswith(m + ".") for o in component)]
    return len(packages) == 1 and all(m.startswith(packages[0]) for m in component)


def test_devtools_import_only_the_leaves_and_signing() -> None:
    wrong = [
        f"{m} imports {t}"
        for m, targets in sorted(SANDBOX.items())
        if group(m) == "devtools"
        for t in sorted(targets & KNOWN)
        if group(t) != "devtools" and t not in DEVTOOLS_MAY_IMPORT
    ]
    assert wrong == []


def test_the_kit_never_imports_the_sandbox() -> None:
    wrong = [
        f"{m} imports {t}"
        for m, targets in sorted(graph("contracts").items())
        for t in sorted(targets)
        if t.split(".")[0] == "sandbox"
    ]
    assert wrong == []


def test_architecture_names_every_module_of_the_sandbox() -> None:
    """ARCHITECTURE.md's folder table names each module (`folder/module.py` or its package)."""
    text = ARCHITECTURE.read_text()
    named = set(re.findall(r"`(sandbox/[a-z_/]+(?:\.py)?)`", text))
    named_paths = {n.rstrip("/") for n in named}
    missing = []
    for module in sorted(KNOWN):
        path = module.replace(".", "/")
        if not ({path + ".py", path} & named_paths) and module.count(".") == 1:
            missing.append(path)
    assert missing == []
