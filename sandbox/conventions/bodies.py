"""A request's JSON body: parsed, and checked for what no schema states and no store takes.

JSON can carry values that neither the validator nor a database can hold: a lone UTF-16
surrogate (`"\\ud800"`), a number past a double's range (`1e400` reads as infinity), and
nesting deep enough to exhaust a recursive reader. `scan` finds them in one pass, before
anything else reads the body, and names each field. NUL is the schemas' rule (a `pattern`
on every string bound for a text column); free-form JSON values hold it escaped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sandbox.errors import BadRequest

# Only an escape puts a lone surrogate in parsed JSON (its raw bytes are not valid UTF-8
# text); only a long exponent or a long run of digits makes an infinity.
ESCAPE = b"\\u"
HUGE_NUMBER = re.compile(rb"[eE]\+?0*[0-9]{3}|[0-9]{300}")
SURROGATE = re.compile("[\ud800-\udfff]")
# What no text column takes: parameters, which reach the request log unchecked, hold neither.
NUL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")

INVALID_CHARACTERS, NOT_FINITE, TOO_DEEP = "invalid_characters", "not_finite", "too_deep"

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Body:
    """A parsed JSON body and the bytes it came from."""

    value: Any
    raw: bytes

    def may_hold_problems(self, shallowest_limit: int) -> bool:
        """False when the bytes show that `scan` would find nothing (the usual case)."""
        raw = self.raw
        return (
            ESCAPE in raw
            or raw.count(b"[") + raw.count(b"{") > shallowest_limit
            or HUGE_NUMBER.search(raw) is not None
        )


@dataclass(frozen=True)
class Problem:
    """One value that cannot be taken: where it is and why."""

    path: Path
    error: str
    # For TOO_DEEP, the levels the field may nest.
    limit: int | None = None


def parse_json(raw: bytes, max_depth: int) -> Body:
    """The body parsed; BadRequest if it is not JSON or nests past what the parser reads.

    NaN and Infinity are not JSON and are refused; `1e400` parses (to infinity) and is
    left to `scan`.
    """
    try:
        return Body(json.loads(raw, parse_constant=_reject_constant), raw)
    except RecursionError:
        raise too_deep(max_depth) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"Malformed JSON: {error}") from None


def too_deep(max_depth: int) -> BadRequest:
    return BadRequest(f"Request body nests deeper than {max_depth} levels")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def scan(
    value: Any, max_depth: int, bad_text: re.Pattern[str] = SURROGATE
) -> tuple[list[Problem], bool]:
    """(text matching `bad_text` and numbers that cannot be stored, whether `value` nests
    past `max_depth`).

    Depth counts containers: `{}` is 1 level, `{"a": []}` 2. Nothing below `max_depth`
    is read.
    """
    problems: list[Problem] = []
    too_deep_found = False
    stack: list[tuple[Any, Path, int]] = [(value, (), 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, str):
            if bad_text.search(node):
                problems.append(Problem(path, INVALID_CHARACTERS))
        elif isinstance(node, float):
            if not math.isfinite(node):
                problems.append(Problem(path, NOT_FINITE))
        elif isinstance(node, dict | list):
            if depth == max_depth:
                too_deep_found = True
                continue
            if isinstance(node, dict):
                for key, item in node.items():
                    if bad_text.search(key):
                        problems.append(Problem((*path, key), INVALID_CHARACTERS))
                    else:
                        stack.append((item, (*path, key), depth + 1))
            else:
                stack.extend((item, (*path, index), depth + 1) for index, item in enumerate(node))
    problems.sort(key=lambda p: [str(part) for part in p.path])
    return problems, too_deep_found


def depth_over(value: Any, limit: int) -> bool:
    """Whether `value` nests more than `limit` levels (reading no deeper than that)."""
    stack: list[tuple[Any, int]] = [(value, 0)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth == limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def too_deep_fields(value: Any, free_form: list[tuple[Path, int]]) -> list[Problem]:
    """A TOO_DEEP problem for each free-form field of `value` nested past its limit.

    `free_form` holds (path pattern, levels allowed) pairs, as `matches` reads patterns.
    """
    return [
        Problem(found, TOO_DEEP, limit)
        for pattern, limit in free_form
        for found, node in matches(value, pattern)
        if depth_over(node, limit)
    ]


def matches(value: Any, pattern: Path) -> Iterator[tuple[Path, Any]]:
    """Each (path, value) in `value` at `pattern`, whose `"*"` parts stand for any index."""
    if len(pattern) == 1 and pattern[0] != "*":  # the usual case: one field of an object
        if isinstance(value, dict) and pattern[0] in value:
            yield pattern, value[pattern[0]]
        return
    found: list[tuple[Path, Any]] = [((), value)]
    for part in pattern:
        step: list[tuple[Path, Any]] = []
        for path, node in found:
            if part == "*" and isinstance(node, list):
                step.extend(((*path, i), item) for i, item in enumerate(node))
            elif isinstance(node, dict) and part in node:
                step.append(((*path, part), node[part]))
        found = step
    yield from found
