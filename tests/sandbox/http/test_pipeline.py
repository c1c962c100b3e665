"""The request pipeline's stages, one at a time, on a request context of a real app."""

from __future__ import annotations

import fcntl
import re
import time
from collections.abc import Iterator

import pytest
from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from sandbox.conventions.ratelimit import RateState
from sandbox.errors import Forbidden, PayloadTooLarge, RateLimited, Unauthorized, ValidationFailed
from sandbox.http import arrival, pipeline
from sandbox.http.call import Call, Pipeline
from sandbox.http.responses import json_response, refusal

from ..conftest import BASE, Key, build_app, key_for


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from sandbox.http.app import shutdown

    built = build_app(
        f"sqlite:///{tmp_path_factory.mktemp('pipeline') / 'p.db'}", rate_limit_scale=1
    )
    yield built
    shutdown(built)


@pytest.fixture
def shared(app: Flask) -> Pipeline:
    return app.extensions["sandbox"]


def _call(shared: Pipeline, operation_id: str, key: Key | None = None) -> Call:
    """A call of the request of the current request context."""
    http = request._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    call = Call(
        "req_test", time.perf_counter(), http, operation=shared.spec.operations[operation_id]
    )
    if key is not None:
        call.identity = shared.directory.key(shared.database, key.secret)
    return call


def test_the_stages_run_in_the_order_the_module_states() -> None:
    doc = pipeline.__doc__ or ""

    def stated(name: str) -> list[str]:
        line = re.search(rf"^\s+{name}\s+.*?\s{{2,}}(.+(?:\n\s{{30,}}.+)*)", doc, re.M)
        assert line is not None, name
        names = re.sub(r"\(.*?\)|,", " ", line.group(1)).split()
        return [n for n in names if hasattr(pipeline, n)]

    assert stated("OPERATION") == [s.__name__ for s in pipeline.OPERATION]
    assert stated("TRANSACTION")[-2:] == [s.__name__ for s in pipeline.TRANSACTION]
    assert stated("DEPARTURE") == [s.__name__ for s in pipeline.DEPARTURE]


def test_authenticate_refuses_a_request_without_a_known_key(app: Flask, shared: Pipeline) -> None:
    with app.test_request_context(BASE + "/account"):
        with pytest.raises(Unauthorized):
            pipeline.authenticate(shared, _call(shared, "getAccount"))
    with app.test_request_context(
        BASE + "/account", headers={"Authorization": "Bearer sk_test_unknown000000000000000"}
    ):
        with pytest.raises(Unauthorized):
            pipeline.authenticate(shared, _call(shared, "getAccount"))


def test_authenticate_then_authorize_pass_a_key_with_the_scope(
    app: Flask, shared: Pipeline
) -> None:
    key = key_for(app, "builder")
    with app.test_request_context(BASE + "/crm/contacts", headers=key.headers):
        call = _call(shared, "createContact", key)
        pipeline.authenticate(shared, call)
        pipeline.authorize(shared, call)


def test_authorize_refuses_a_key_without_the_scope(app: Flask, shared: Pipeline) -> None:
    key = key_for(app, "builder", "Read only")
    with app.test_request_context(BASE + "/crm/contacts", headers=key.headers):
        with pytest.raises(Forbidden):
            pipeline.authorize(shared, _call(shared, "createContact", key))


def test_read_body_then_validate_apply_the_schema(app: Flask, shared: Pipeline) -> None:
    key = key_for(app, "builder")
    with app.test_request_context(
        BASE + "/crm/contacts", method="POST", json={"first_name": "Ada"}, headers=key.headers
    ):
        call = _call(shared, "createContact", key)
        pipeline.read_body(shared, call)
        pipeline.validate(shared, call)
        assert call.request.body == {"first_name": "Ada"}
    with app.test_request_context(
        BASE + "/crm/contacts", method="POST", json={"first_name": 7}, headers=key.headers
    ):
        call = _call(shared, "createContact", key)
        pipeline.read_body(shared, call)
        with pytest.raises(ValidationFailed) as refused:
            pipeline.validate(shared, call)
        assert refused.value.details[0]["field"] == "first_name"


def test_a_body_past_the_limit_is_refused_and_answered_413(app: Flask, shared: Pipeline) -> None:
    big = b'{"first_name": "' + b"a" * shared.spec.max_request_bytes + b'"}'
    with app.test_request_context(
        BASE + "/crm/contacts", method="POST", data=big, content_type="application/json"
    ):
        with pytest.raises(RequestEntityTooLarge) as refused:
            pipeline.read_body(shared, _call(shared, "createContact"))
        answer = refusal(refused.value, request, shared.spec.max_request_bytes)
    assert isinstance(answer, PayloadTooLarge) and answer.status == 413


def test_count_rate_refuses_past_the_limit_and_counts_unknown_keys_by_address(
    app: Flask, shared: Pipeline
) -> None:
    with app.test_request_context(BASE + "/account", environ_base={"REMOTE_ADDR": "10.9.8.7"}):
        call = _call(shared, "getAccount")
        arrival.count_rate(shared, call)
        assert call.identity is None and call.rate is not None
        assert call.rate.headers()["X-RateLimit-Limit"] == str(
            shared.spec.plans[arrival.ANONYMOUS_PLAN].requests_per_minute
        )
        limit = int(call.rate.headers()["X-RateLimit-Limit"])
        with pytest.raises(RateLimited):
            for _ in range(limit + 1):
                arrival.count_rate(shared, _call(shared, "getAccount"))


def test_convention_headers_stamp_every_response(app: Flask, shared: Pipeline) -> None:
    ops = shared.spec.operations.values()
    deprecated = next(op for op in ops if op.deprecated and op.sunset)
    with app.test_request_context("/"):
        call = Call("req_stamped", time.perf_counter(), operation=deprecated)
        call.rate = RateState(limit=60, remaining=59, reset=int(time.time()) + 60, exceeded=False)
        response = pipeline.convention_headers(shared, call, json_response(200, b"{}"))
    assert response.headers["X-Request-Id"] == "req_stamped"
    assert response.headers["X-RateLimit-Remaining"] == "59"
    assert response.headers["Deprecation"].startswith("@")
    assert response.headers["Sunset"] == deprecated.sunset_header


def test_an_answer_is_written_off_the_write_lock_unless_its_key_keeps_it(
    app: Flask, shared: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create's answer is serialized once its transaction committed (the SQLite writer
    lock let go); one claiming an Idempotency-Key stores the answer's bytes with the key,
    so it is written inside."""
    lock = shared.database.writer_lock
    assert lock is not None, "a SQLite file is written under the writer lock"
    held: list[bool] = []
    real = pipeline.json_response

    def watched(status: int, body: bytes | None) -> Response:
        with open(lock.path, "rb") as probe:  # a description of its own: flock sees others
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held.append(True)
            else:
                fcntl.flock(probe, fcntl.LOCK_UN)
                held.append(False)
        return real(status, body)

    monkeypatch.setattr(pipeline, "json_response", watched)
    client, key = app.test_client(), key_for(app)
    contact = {"first_name": "Ada"}
    plain = client.post(f"{BASE}/crm/contacts", json=contact, headers=key.headers)
    keyed = client.post(
        f"{BASE}/crm/contacts", json=contact, headers={**key.headers, "Idempotency-Key": "k-1"}
    )
    assert (plain.status_code, keyed.status_code) == (201, 201)
    assert held == [False, True]
    replay = client.post(
        f"{BASE}/crm/contacts", json=contact, headers={**key.headers, "Idempotency-Key": "k-1"}
    )
    assert replay.get_data() == keyed.get_data()
