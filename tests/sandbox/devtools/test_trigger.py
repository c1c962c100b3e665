"""`sandbox trigger`: every event type of the spec has a recipe, and each makes its event
happen on a real sandbox; `--set` reaches the requests, and what cannot be set is refused."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.cli import main
from sandbox.devtools.recipes import RECIPES
from sandbox.devtools.trigger import TriggerFailed, parse_setting
from sandbox.spec import load_spec
from tests.sandbox.receivers import Receiver

from .conftest import Served, events_after, eventually

SPEC = load_spec()
EXPECT = re.compile(r"^Expect (?P<event>\S+)(?: about (?P<subject>\S+)|: event (?P<id>\S+))$")


def test_every_event_type_of_the_spec_has_a_recipe() -> None:
    assert sorted(RECIPES) == sorted(SPEC.raw["webhooks"])


def test_every_step_is_an_operation_of_the_spec() -> None:
    named = [
        (recipe.event, operation)
        for recipe in RECIPES.values()
        for step in recipe.steps
        for operation in (step.operation, *(step.reuse[:1] if step.reuse else ()))
    ]
    assert [(event, op) for event, op in named if op not in SPEC.operations] == []


def test_list_describes_each_recipe_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trigger", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(RECIPES)
    assert all(len(line.split()) > 2 for line in lines)


@pytest.mark.parametrize(
    ("text", "step", "name", "value"),
    [
        ("amount=4200", None, "amount", 4200),
        ("order.amount=4200", "order", "amount", 4200),
        ("currency=EUR", None, "currency", "EUR"),
        ('tags=["vip","new"]', None, "tags", ["vip", "new"]),
        ("phone=+15005550006", None, "phone", "+15005550006"),
        ("description=", None, "description", ""),
        ('metadata={"a": 1}', None, "metadata", {"a": 1}),
    ],
)
def test_values_are_json_when_they_parse_else_text(
    text: str, step: str | None, name: str, value: Any
) -> None:
    setting = parse_setting(text, RECIPES["payment.failed"])
    assert (setting.step, setting.name, setting.value) == (step, name, value)


@pytest.mark.parametrize("text", ["amount", "=4200", "order.=1"])
def test_a_setting_without_field_and_value_is_refused(text: str) -> None:
    with pytest.raises(TriggerFailed, match="write field=value"):
        parse_setting(text, RECIPES["payment.failed"])


def test_an_unknown_field_is_refused_before_any_request_with_the_fields_to_set() -> None:
    # Port 1 refuses connections: had a request been sent, the error would say so.
    with pytest.raises(SystemExit) as refused:
        main(["trigger", "payment.failed", "--set", "colour=red", *nowhere()])
    message = str(refused.value)
    assert "no request of payment.failed has a field 'colour'" in message
    assert "amount" in message and "order.amount" in message and "payment_method" in message


def test_an_unknown_step_is_refused_with_the_recipe_steps() -> None:
    with pytest.raises(SystemExit, match="has no step 'invoice'; its steps: contact, order"):
        main(["trigger", "payment.failed", "--set", "invoice.amount=1", *nowhere()])


def test_an_unknown_event_is_refused_with_the_known_ones() -> None:
    with pytest.raises(SystemExit, match="No recipe for 'payment.lost'.*payment.failed"):
        main(["trigger", "payment.lost", *nowhere()])


def test_an_unreachable_sandbox_is_one_line() -> None:
    with pytest.raises(SystemExit, match=r"Cannot reach the sandbox at .*: Connection refused$"):
        main(["trigger", "contact.created", *nowhere()])


def nowhere() -> list[str]:
    return ["--base-url", "http://127.0.0.1:1/api/v1", "--key", "sk_test_unused"]


@pytest.fixture(scope="module")
def receiver(served: Served) -> Iterator[Receiver]:
    """A receiver subscribed to every event type of the served sandbox's business."""
    with Receiver() as receiving:
        types = list(SPEC.raw["webhooks"])
        webhook = served.request("POST", "/webhooks", json={"url": receiving.url, "events": types})
        receiving.secret = webhook["secret"]
        yield receiving


def trigger(served: Served, capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    """`sandbox trigger` against the served sandbox; the lines it printed."""
    assert main(["trigger", *args, "--base-url", served.base_url, "--key", served.key]) == 0
    return capsys.readouterr().out.splitlines()


def delivered(receiver: Receiver, event_type: str, expect: re.Match[str]) -> dict[str, Any]:
    """The event of `event_type` the `Expect …` line names, once the receiver has it."""

    def find() -> dict[str, Any] | None:
        for received in receiver.received:
            event = json.loads(received.body)
            if about(event, expect):
                assert received.signature_ok and received.signature_v2_ok
                return event
        return None

    return eventually(find)


def about(event: dict[str, Any], expect: re.Match[str]) -> bool:
    """Whether `event` is the one an `Expect …` line names."""
    if event["type"] != expect["event"]:
        return False
    return bool(event["id"] == expect["id"] or event["data"].get("id") == expect["subject"])


@pytest.mark.slow
@pytest.mark.parametrize("event_type", list(RECIPES))
def test_each_recipe_makes_its_event_happen(
    served: Served, receiver: Receiver, capsys: pytest.CaptureFixture[str], event_type: str
) -> None:
    (newest,) = events_after(served.base_url, served.key, None)
    lines = trigger(served, capsys, event_type)
    assert lines[0].startswith(f"Triggering {event_type}: ")
    calls = lines[1:-1]
    assert len(calls) == len(RECIPES[event_type].steps)
    assert all(re.match(r"^  (GET|POST|PATCH|DELETE) +/\S+ +2\d\d\b", call) for call in calls)
    expect = EXPECT.match(lines[-1])
    assert expect and expect["event"] == event_type, lines[-1]
    recorded = events_after(served.base_url, served.key, newest["id"])
    assert [e for e in recorded if about(e, expect)], recorded  # the sandbox recorded it
    delivered(receiver, event_type, expect)  # and delivered it to the subscription


@pytest.mark.slow
def test_set_amount_reaches_the_event(
    served: Served, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = trigger(served, capsys, "payment.failed", "--set", "amount=4200")
    event = delivered(receiver, "payment.failed", EXPECT.match(lines[-1]))  # type: ignore[arg-type]
    assert event["data"]["amount"] == 4200
    assert event["data"]["status"] == "failed"


@pytest.mark.slow
def test_set_aimed_at_one_step_changes_that_request_only(
    served: Served, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = trigger(
        served, capsys, "refund.created", "--set", "order.amount=4200", "--set", "refund.amount=700"
    )
    event = delivered(receiver, "refund.created", EXPECT.match(lines[-1]))  # type: ignore[arg-type]
    assert event["data"]["amount"] == 700
    payment = served.request("GET", f"/payments/{event['data']['payment_id']}")
    assert payment["amount"] == 4200  # paid in full: the order's amount


@pytest.mark.slow
def test_a_step_the_sandbox_refuses_exits_with_its_envelope_message(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as failed:
        main(
            ["trigger", "payment.failed", "--set", "order.amount=-5"]
            + ["--base-url", served.base_url, "--key", served.key]
        )
    assert re.match(
        r"sandbox trigger: createOrder answered 422 validation_error: .*amount", str(failed.value)
    )
    out = capsys.readouterr().out
    assert re.search(r"^  POST +/orders +422  validation_error: ", out, re.MULTILINE)
    assert "/payments" not in out  # it stopped at the refused step
