"""`sandbox listen` end to end: a real sandbox, the listener as a child process, a local
receiver, events made with `sandbox trigger`."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import signal
from collections import Counter
from typing import Any

import pytest

from sandbox.devtools.listen import listen_secret
from tests.sandbox.receivers import Receiver
from tests.sandbox.served import banner_key, free_port, serving

from .conftest import Listening, Served, events_after, eventually, run_sandbox

pytestmark = pytest.mark.slow


def trigger(base_url: str, key: str, *args: str) -> str:
    """`sandbox trigger …` as a child process; its output (asserting it succeeded)."""
    done = run_sandbox("trigger", *args, "--base-url", base_url, "--key", key)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def listen(served_url: str, key: str, receiver: Receiver, *args: str) -> Listening:
    return Listening("--forward-to", receiver.url, "--base-url", served_url, "--key", key, *args)


def forwarded_ids(receiver: Receiver) -> list[str]:
    return [json.loads(r.body)["id"] for r in receiver.received]


def test_a_triggered_event_is_forwarded_signed_with_the_printed_secret(served: Served) -> None:
    with Receiver() as receiver, listen(served.base_url, served.key, receiver) as listener:
        secret = listener.secret
        assert secret == listen_secret(served.key)
        anchor = listener.ready()
        receiver.secret = secret
        output = trigger(served.base_url, served.key, "payment.failed")
        payment_id = re.search(r"Expect payment\.failed about (pay_\w+)", output)[1]  # type: ignore[index]
        wanted = eventually(
            lambda: [r for r in receiver.received if json.loads(r.body)["type"] == "payment.failed"]
        )
        assert len(wanted) == 1
        post = wanted[0]
        assert post.signature_ok and post.signature_v2_ok
        expected = hmac.new(secret.encode(), post.body, hashlib.sha256).hexdigest()
        assert post.headers["X-Signature"] == expected
        event = json.loads(post.body)
        assert event["data"]["id"] == payment_id and event["data"]["status"] == "failed"
        recorded = {e["id"]: e for e in events_after(served.base_url, served.key, anchor)}
        assert event == recorded[event["id"]]  # the body is the event as the sandbox lists it
        assert post.headers["X-Event-Type"] == "payment.failed"
        assert post.headers["X-Webhook-Id"] == "whk_listen"
        assert post.headers["X-Delivery-Id"].startswith("dlv_")
        line = listener.line(rf"payment\.failed\s+{event['id']}\s+→ 200 in \d+ ms")
        assert re.match(r"^\d\d:\d\d:\d\d  ", line.string)
        # Every event the trigger made (contact, order, payment) is forwarded, each once.
        ids = [e["id"] for e in recorded.values()]
        eventually(lambda: sorted(forwarded_ids(receiver)) == sorted(ids))
        assert len({p.headers["X-Delivery-Id"] for p in receiver.received}) == len(ids)
        assert listener.stop() == 0


@pytest.mark.parametrize("types", ["payment.succeeded", "payment.succeeded,order.canceled"])
def test_events_filters_what_is_forwarded(served: Served, types: str) -> None:
    with (
        Receiver() as receiver,
        listen(served.base_url, served.key, receiver, "--events", types) as listener,
    ):
        listener.ready()
        trigger(served.base_url, served.key, "payment.failed")
        trigger(served.base_url, served.key, "order.canceled")
        trigger(served.base_url, served.key, "payment.succeeded")
        eventually(lambda: any(b"payment.succeeded" in r.body for r in receiver.received))
        trigger(served.base_url, served.key, "contact.created")  # a later event, filtered out
        listener.line(r"^\d\d:\d\d:\d\d  payment\.succeeded ")
        sent = Counter(json.loads(r.body)["type"] for r in receiver.received)
        assert sent == Counter(types.split(","))
        assert listener.stop() == 0


def test_a_failed_forward_is_reported_and_listening_goes_on(served: Served) -> None:
    down = f"http://127.0.0.1:{free_port()}/hooks"  # nothing listens there
    with Listening(
        "--forward-to", down, "--base-url", served.base_url, "--key", served.key,
        "--events", "contact.created",
    ) as listener:  # fmt: skip
        listener.ready()
        trigger(served.base_url, served.key, "contact.created")
        listener.line(r"contact\.created\s+wev_\w+\s+→ failed: Connection refused")
        trigger(served.base_url, served.key, "contact.created")
        eventually(lambda: len([x for x in listener.lines if "→ failed" in x]) == 2)
        assert listener.stop() == 0


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_it_cleanly(served: Served, signal_number: int) -> None:
    with Receiver() as receiver, listen(served.base_url, served.key, receiver) as listener:
        listener.ready()
        assert listener.stop(signal_number) == 0
        assert listener.lines[-1] == "Stopped."
        assert listener.errors == []  # no traceback


def test_it_waits_for_a_sandbox_that_is_not_up_yet(tmp_path: Any) -> None:
    port = free_port()
    with (
        Receiver() as receiver,
        listen(f"http://127.0.0.1:{port}/api/v1", "sk_test_nothing_yet", receiver) as listener,
    ):
        listener.line(r"^Sandbox unavailable \(Connection refused\); retrying")
        assert listener.process.poll() is None
        assert listener.stop() == 0


def test_a_refused_key_ends_it_with_the_envelope_message(served: Served) -> None:
    with Receiver() as receiver, listen(served.base_url, "sk_test_unknown", receiver) as listener:
        assert listener.process.wait(timeout=30) == 1
        listener.stop()
        assert any(re.match(r"sandbox listen: 401 \w+: ", line) for line in listener.errors)


def test_it_survives_a_restart_and_forwards_what_happened_meanwhile_once(
    database_url: str,
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/api/v1"
    with contextlib.ExitStack() as stack:
        receiver = stack.enter_context(Receiver())
        with serving(database_url, port=port) as (_, lines):
            key = banner_key(lines)
            listener = stack.enter_context(listen(base_url, key, receiver))
            anchor = listener.ready()
            trigger(base_url, key, "contact.created")
            eventually(lambda: receiver.received)
        listener.line(r"^Sandbox unavailable \(")
        # Frozen while it is reconnecting, so the events below are all made before it is
        # back (without this, it could reconnect between two of them).
        listener.process.send_signal(signal.SIGSTOP)
        with serving(database_url, port=port):
            for event_type in ("payment.failed", "order.canceled", "deal.stage_changed"):
                trigger(base_url, key, event_type)
            assert not any(line.startswith("Sandbox back") for line in listener.lines)
            listener.process.send_signal(signal.SIGCONT)
            listener.line(r"^Sandbox back: resuming after ")
            recorded = [e["id"] for e in events_after(base_url, key, anchor)]
            assert len(recorded) >= 9
            eventually(lambda: sorted(forwarded_ids(receiver)) == sorted(recorded), timeout=30)
            assert Counter(forwarded_ids(receiver)).most_common(1)[0][1] == 1
            assert listener.stop() == 0
