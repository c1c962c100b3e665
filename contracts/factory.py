"""Valid requests built from the spec's own examples, and the resources they refer to.

An example body names resources by example ids (`con_42bXk9`). The factory recognises
such a value by the `id` pattern of a create operation's response (`^con_[A-Za-z0-9]+$`
comes from `createContact`), creates one real resource per prefix with the same client,
and substitutes its id. Client-chosen identifiers (`event_id`, `conversation_id`, ...)
get a per-run suffix so that runs never collide.
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any
from urllib.parse import quote

from contracts.client import Client
from contracts.exchange import Exchange
from contracts.spec import Operation, Spec

UUID_LIKE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class SetupError(Exception):
    """A resource the kit needs could not be created from the spec's example."""

    def __init__(self, operation: Operation, exchange: Exchange) -> None:
        super().__init__(f"{operation.operation_id} answered {exchange.summary()}")
        self.operation = operation
        self.exchange = exchange


def id_patterns(spec: Spec) -> list[tuple[re.Pattern[str], Operation]]:
    """(pattern of the created `id`, create operation) for every create with a prefixed id."""
    found = []
    for op in spec.creates:
        schema = op.success_schema or {}
        pattern = spec.resolve(schema.get("properties", {}).get("id", {})).get("pattern")
        if pattern:
            found.append((re.compile(pattern), op))
    return found


class Factory:
    """Creates resources and fills requests for one client (one company)."""

    def __init__(self, spec: Spec, client: Client) -> None:
        self.spec = spec
        self.client = client
        self.patterns = id_patterns(spec)
        self.created: dict[str, str] = {}  # operationId of a create -> id of one resource

    def fresh(self) -> Factory:
        """A factory with the same client that creates its dependencies anew."""
        return Factory(self.spec, self.client)

    def creator_of(self, value: Any) -> Operation | None:
        """The create operation whose ids look like `value`, if any."""
        if not isinstance(value, str):
            return None
        return next((op for pattern, op in self.patterns if pattern.match(value)), None)

    def fill(self, value: Any, name: str = "") -> Any:
        """`value` with example ids replaced by real ones and client ids made unique."""
        if isinstance(value, dict):
            return {key: self.fill(item, key) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item, name) for item in value]
        creator = self.creator_of(value)
        if creator is not None:
            return self.resource(creator)
        if isinstance(value, str) and name.endswith("_id"):
            return unique(value)
        return value

    def resource(self, create: Operation) -> str:
        """The id of a resource made by `create` for this client, created once."""
        if create.operation_id not in self.created:
            exchange = self.send(create)
            body = exchange.json()
            if not exchange.ok or not isinstance(body, dict) or "id" not in body:
                raise SetupError(create, exchange)
            self.created[create.operation_id] = body["id"]
        return self.created[create.operation_id]

    def path_params(self, op: Operation) -> dict[str, Any]:
        """A value for each path parameter, from its example, real when it names a resource."""
        values = {}
        for param in op.parameters:
            if param["in"] == "path":
                example = param.get("example", param.get("schema", {}).get("example", "x"))
                values[param["name"]] = self.fill(example, param["name"])
        return values

    def query(self, op: Operation) -> dict[str, Any]:
        """A value for each required query parameter, from its example, filled."""
        return {
            param["name"]: self.fill(param.get("example", "x"), param["name"])
            for param in op.parameters
            if param["in"] == "query" and param.get("required")
        }

    def body(self, op: Operation) -> Any:
        """The example body of `op`, filled."""
        return self.fill(op.body_example)

    def send(
        self,
        op: Operation,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        client: Client | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
    ) -> Exchange:
        """Send `op` with the given (or example) parameters and body.

        `params` are path parameters; any of them the operation takes in its query (a
        link may name either) is sent there instead.
        """
        params = self.path_params(op) if params is None else params
        in_query = {p["name"] for p in op.parameters if p["in"] == "query"}
        if moved := {name: value for name, value in params.items() if name in in_query}:
            params = {name: value for name, value in params.items() if name not in moved}
            query = {**moved, **(query or {})}
        if body is None and op.body_schema is not None:
            body = self.body(op)
        sent_headers = dict(headers or {})
        if op.idempotent and "Idempotency-Key" not in sent_headers:
            sent_headers["Idempotency-Key"] = "contracts-" + secrets.token_hex(8)
        return (client or self.client).request(
            op.method,
            expand(op.path, params),
            json=body,
            params=query,
            headers=sent_headers,
            operation_id=op.operation_id,
        )


def expand(path: str, params: dict[str, Any]) -> str:
    """`path` with `{name}` templates replaced by the (URL-quoted) values."""
    for name, value in params.items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    return path


def unique(value: str) -> str:
    """A per-run variant of a client-chosen identifier."""
    if UUID_LIKE.match(value):
        return str(uuid.uuid4())
    return f"{value}_{secrets.token_hex(4)}"
