"""ARRIVAL, the pipeline's first stage (sandbox/http/pipeline.py): every request gets
its call; one under the base path is identified by its key and counted against its rate
limit, before all else.
"""

from __future__ import annotations

import time

from flask import Request

from sandbox.config import UNMETERED_CALL
from sandbox.conventions import auth
from sandbox.conventions.ratelimit import RateState
from sandbox.http.call import Call, Pipeline
from sandbox.ids import new_request_id

ANONYMOUS_PLAN = "starter"


def new_call(http: Request) -> Call:
    """The call of a request just arrived: its id and its clock."""
    return Call(new_request_id(), time.perf_counter(), http)


def start(pipeline: Pipeline, call: Call) -> None:
    """Count the request if it is under the base path."""
    base, path = pipeline.spec.base_path, call.req.path
    if path == base or path.startswith(base + "/"):
        count_rate(pipeline, call)


def count_rate(pipeline: Pipeline, call: Call) -> None:
    """Identify the caller and count the request against its rate limit (before all else).

    An unknown or absent key counts in a bucket of the caller's address, at the lowest plan.
    A known key's unmetered request counts in the key's bucket for sandbox tools instead,
    and is not logged.
    """
    key = None
    http = call.req
    token = auth.token_of(http.headers.get("Authorization", ""))
    if token.startswith(auth.TEST_PREFIX):
        key = pipeline.directory.key(pipeline.database, token)
    if key is not None and unmetered(pipeline, http):
        call.logged = False
        rate = pipeline.limiter.hit(f"tools:{key.id}", pipeline.spec.tool_requests_per_minute)
    elif key is not None:
        plan = pipeline.spec.plans[key.plan]
        rate = pipeline.limiter.hit(f"key:{key.id}", plan.requests_per_minute)
    else:
        rate = count_anonymous(pipeline, http.remote_addr or "")
    call.rate, call.identity = rate, key
    if rate.exceeded:
        raise rate.error()


def unmetered(pipeline: Pipeline, http: Request) -> bool:
    """Whether this request is a sandbox tool's: an `x-unmetered` operation, or an
    in-process call of the inspector (WSGI environ `sandbox.unmetered`, which no client
    can set)."""
    if http.environ.get(UNMETERED_CALL):
        return True
    rule = http.url_rule
    return rule is not None and (rule.endpoint, http.method) in pipeline.unmetered


def count_anonymous(pipeline: Pipeline, address: str) -> RateState:
    """Count a request without a known key in its address's bucket, at the lowest plan."""
    plan = pipeline.spec.plans[ANONYMOUS_PLAN]
    return pipeline.limiter.hit(f"anon:{address}", plan.requests_per_minute)
