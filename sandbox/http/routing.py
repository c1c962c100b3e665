"""Binds every spec operation to a URL rule that runs it through the request pipeline.

One rule per spec path, answering every method: a method the path does not have is a
405 naming the ones it has; the others go to `pipeline.serve` (sandbox/http/pipeline.py).
The rules route Flask's requests, and the direct path's (sandbox/http/direct.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from flask import Flask, Response, g

from sandbox.conventions.validation import RequestValidator
from sandbox.http import pipeline as pipeline_
from sandbox.http.call import Handler, Pipeline, Route
from sandbox.spec import Operation, Spec, SpecMismatch

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
PATH_PARAM = re.compile(r"\{([^}]+)\}")


def check_handlers(spec: Spec, handlers: Mapping[str, Handler]) -> None:
    """SpecMismatch, naming them, if an operation has no handler or a handler no operation."""
    missing = sorted(set(spec.operations) - set(handlers))
    extra = sorted(set(handlers) - set(spec.operations))
    problems = []
    if missing:
        problems.append(f"operations without a handler: {', '.join(missing)}")
    if extra:
        problems.append(f"handlers without an operation: {', '.join(extra)}")
    if problems:
        raise SpecMismatch("; ".join(problems))


def flask_rule(base_path: str, spec_path: str) -> str:
    """`/crm/contacts/{contact_id}` as the Flask rule `/api/v1/crm/contacts/<contact_id>`."""
    return base_path + PATH_PARAM.sub(r"<\1>", spec_path)


def endpoint(spec_path: str) -> str:
    """The Flask endpoint name of a spec path's URL rule."""
    return f"api:{spec_path}"


def register(app: Flask, pipeline: Pipeline) -> None:
    """Add one URL rule per spec path, serving each of its operations."""
    check_handlers(pipeline.spec, pipeline.handlers)
    by_path: dict[str, dict[str, Operation]] = {}
    for op in pipeline.spec.operations.values():
        by_path.setdefault(op.path, {})[op.method] = op
        pipeline.validators[op.operation_id] = RequestValidator(pipeline.spec, op)
        if op.unmetered:
            pipeline.unmetered.add((endpoint(op.path), op.method))
    for spec_path, operations in by_path.items():
        route = Route(pipeline.spec.base_path + spec_path, operations, sorted(operations))
        pipeline.routes[endpoint(spec_path)] = route
        view = _view(pipeline, route)
        app.add_url_rule(
            flask_rule(pipeline.spec.base_path, spec_path),
            endpoint=endpoint(spec_path),
            view_func=view,
            methods=ALL_METHODS,
            provide_automatic_options=False,
            strict_slashes=False,
        )


def _view(pipeline: Pipeline, route: Route) -> Callable[..., Response]:
    def view(**path_args: str) -> Response:
        return pipeline_.serve_route(pipeline, g.call, route, path_args)

    return view
