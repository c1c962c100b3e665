"""`sandbox trigger EVENT`: make an event happen through the API, by running its recipe.

`--set field=value` overrides `field` in every request body of the recipe whose schema
has it; `--set step.field=value` in that step's only. Values are JSON when they parse
(`4200`, `true`, `["a"]`), text otherwise. A field no request of the recipe has is refused
before anything is sent, with the fields that could be set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from sandbox.devtools.client import ApiFailure, Client, Response, Unreachable
from sandbox.devtools.recipes import RECIPES, Made, Recipe, Step
from sandbox.spec import Spec

UNKNOWN_EVENT = "No recipe for {event!r}. Events sandbox trigger knows: {known}"
BAD_SETTING = "--set {text!r}: write field=value or step.field=value (a step of {event}: {steps})"
UNKNOWN_STEP = "--set {text!r}: {event} has no step {step!r}; its steps: {steps}"
UNKNOWN_FIELD = (
    "--set {text!r}: no request of {event} has a field {name!r}. Fields you can set: {fields}"
)


class TriggerFailed(Exception):
    """A trigger could not run: an unknown event or field, an unreachable sandbox, or a
    step the sandbox refused (the message is then its envelope's)."""


@dataclass(frozen=True)
class Setting:
    """One `--set`: `step` None aims at every step whose request has the field."""

    text: str
    step: str | None
    name: str
    value: Any


def recipe_for(event: str) -> Recipe:
    """The recipe of `event`; TriggerFailed naming the known events if there is none."""
    if event not in RECIPES:
        raise TriggerFailed(UNKNOWN_EVENT.format(event=event, known=", ".join(sorted(RECIPES))))
    return RECIPES[event]


def parse_setting(text: str, recipe: Recipe) -> Setting:
    """`amount=4200` or `order.amount=4200`; the value as JSON when it parses, else text."""
    key, equals, raw = text.partition("=")
    step, _, name = key.strip().rpartition(".")
    if not equals or not name:
        steps = ", ".join(s.name for s in recipe.steps)
        raise TriggerFailed(BAD_SETTING.format(text=text, event=recipe.event, steps=steps))
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return Setting(text, step or None, name, value)


def fields(spec: Spec, step: Step) -> tuple[str, ...]:
    """The fields of the request body of `step`'s operation (none if it takes no body)."""
    schema = spec.operations[step.operation].request_schema
    if schema is None:
        return ()
    return tuple(spec.resolve(schema).get("properties", {}))


def settable(spec: Spec, recipe: Recipe) -> list[str]:
    """Every `field` and `step.field` a `--set` may name for `recipe`."""
    plain = {name for step in recipe.steps for name in fields(spec, step)}
    aimed = [f"{step.name}.{name}" for step in recipe.steps for name in fields(spec, step)]
    return sorted(plain) + aimed


def overrides(spec: Spec, recipe: Recipe, settings: Sequence[Setting]) -> dict[str, dict[str, Any]]:
    """Step name → the fields `settings` set in its body. TriggerFailed for a setting that
    names no step or no field of the recipe's requests."""
    changes: dict[str, dict[str, Any]] = {step.name: {} for step in recipe.steps}
    for setting in settings:
        targets = [s for s in recipe.steps if setting.step in (None, s.name)]
        if not targets:
            steps = ", ".join(dict.fromkeys(s.name for s in recipe.steps))
            raise TriggerFailed(
                UNKNOWN_STEP.format(
                    text=setting.text, event=recipe.event, step=setting.step, steps=steps
                )
            )
        hit = [s for s in targets if setting.name in fields(spec, s)]
        if not hit:
            raise TriggerFailed(
                UNKNOWN_FIELD.format(
                    text=setting.text,
                    event=recipe.event,
                    name=setting.name,
                    fields=", ".join(settable(spec, recipe)) or "none",
                )
            )
        for step in hit:
            changes[step.name][setting.name] = setting.value
    return changes


class Trigger:
    """Runs recipes against one sandbox, printing each call as it is answered."""

    def __init__(self, client: Client, spec: Spec, out: TextIO) -> None:
        self.client, self.spec, self.out = client, spec, out

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def run(self, recipe: Recipe, settings: Sequence[Setting] = ()) -> Made:
        """Every step of `recipe` in order; what they created. TriggerFailed on the first
        step the sandbox refuses (or when it cannot be reached)."""
        changes = overrides(self.spec, recipe, settings)
        made = Made(self.spec)
        self.say(f"Triggering {recipe.event}: {recipe.description}")
        for step in recipe.steps:
            try:
                response = self._reuse(step, made) if not changes[step.name] else None
                if response is None:
                    response = self._send(step, made, changes[step.name])
            except Unreachable as error:
                raise TriggerFailed(
                    f"Cannot reach the sandbox at {self.client.base_url}: {error}"
                ) from None
            except ApiFailure as failure:
                self.say(self._line(failure.response, f"{failure.code}: {failure.message}"))
                raise TriggerFailed(
                    f"{step.operation} answered {failure.status} {failure.code}: {failure.message}"
                ) from None
        self.say(self._expectation(recipe, made))
        return made

    def _reuse(self, step: Step, made: Made) -> Response | None:
        """The listing that found a resource `step` can use instead of creating one."""
        if step.reuse is None:
            return None
        operation, usable = step.reuse
        listing = self.client.call(self.spec.operations[operation])
        found = next((item for item in listing.body["items"] if usable(item)), None)
        if found is None:
            return None
        made.resources[step.name] = found
        self.say(self._line(listing, f"{found['id']} (reused)"))
        return listing

    def _send(self, step: Step, made: Made, changes: dict[str, Any]) -> Response:
        operation = self.spec.operations[step.operation]
        body = None
        if operation.request_schema is not None:
            body = {**(step.body(made) if step.body else {}), **changes}
        path = step.path(made) if step.path else {}
        response = self.client.call(operation, path, body=body)
        made.resources[step.name] = response.body if isinstance(response.body, dict) else {}
        self.say(self._line(response, made.resources[step.name].get("id", "")))
        return response

    @staticmethod
    def _line(response: Response, outcome: str) -> str:
        return f"  {response.method:<6} {response.path:<38} {response.status}  {outcome}".rstrip()

    @staticmethod
    def _expectation(recipe: Recipe, made: Made) -> str:
        """`Expect payment.failed about pay_…`: the event, and what its `data` is about."""
        last = made.resources[recipe.steps[-1].name]
        if "event_id" in last:  # a queued test delivery names its event
            return f"Expect {recipe.event}: event {last['event_id']}"
        subject = made.resources[recipe.subject or recipe.steps[-1].name]
        return f"Expect {recipe.event} about {subject.get('id', '?')}"
