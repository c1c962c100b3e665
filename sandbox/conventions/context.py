"""RequestContext: everything a handler receives, and nothing else."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, select
from sqlalchemy.orm import Session

from sandbox.conventions import clock
from sandbox.conventions.auth import UNKNOWN, BusinessInfo, KeyInfo
from sandbox.domain import webhooks
from sandbox.errors import ApiError, NotFound, Unauthorized
from sandbox.spec import Operation, Spec
from sandbox.storage import outbox
from sandbox.storage.base import owner_of
from sandbox.storage.core import Company
from sandbox.storage.database import Transaction

Reply = tuple[int, Any]
# A row lock that lets others read and update the row but not delete it or change its key
# (PostgreSQL's FOR KEY SHARE, which a foreign key's check takes too); SQLite ignores it.
KEY_SHARE: dict[str, bool] = {"read": True, "key_share": True}
# A model with company_id and business_id columns.
Model = TypeVar("Model")


def clock_now(connection: Connection, company_id: str) -> datetime:
    """The company's test-clock time; Unauthorized if the company no longer exists."""
    now = clock.now_of(connection, company_id)
    if now is None:
        raise Unauthorized(UNKNOWN)
    return now


@dataclass
class RequestContext:
    """One authenticated, validated request inside its database transaction.

    The company row and its test-clock time are read on first use, in the request's
    transaction (another worker may have moved the clock): a handler that needs neither
    costs no query for them.
    """

    operation: Operation
    spec: Spec
    transaction: Transaction
    company_id: str
    business: BusinessInfo
    key: KeyInfo
    path: dict[str, str]
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    request_id: str
    settings: dict[str, Any] = field(default_factory=dict)
    # The business's enabled webhooks (id, event types), when read before the transaction.
    subscribers: list[tuple[str, list[str]]] | None = None
    # Per item of a batch body (`x-per-item-errors`), why that item cannot be stored.
    item_errors: Mapping[int, ApiError] = field(default_factory=dict)
    _company: Company | None = field(default=None, repr=False)
    _now: datetime | None = field(default=None, repr=False)

    @property
    def session(self) -> Session:
        """The ORM session of the request's transaction (opened on first use)."""
        return self.transaction.session

    @property
    def connection(self) -> Connection:
        """The connection of the request's transaction, for Core statements."""
        return self.transaction.connection

    @property
    def company(self) -> Company:
        """The caller's company row; Unauthorized if it no longer exists."""
        if self._company is None:
            self._company = self.session.get(Company, self.company_id)
            if self._company is None:
                raise Unauthorized(UNKNOWN)
        return self._company

    @property
    def now(self) -> datetime:
        """The company's test-clock time, fixed for the rest of the request once read."""
        if self._now is None:
            if self._company is not None:
                self._now = clock.now_for(self._company)
            else:
                self._now = clock_now(self.connection, self.company_id)
        return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        self._now = value

    def scoped(self, model: type[Model]) -> Select[Model]:
        """A SELECT of `model` restricted to the caller's company and business."""
        return select(model).where(
            # Every model scoped has these columns; a TypeVar cannot say so.
            model.company_id == self.company_id,  # type: ignore[attr-defined]
            model.business_id == self.business.id,  # type: ignore[attr-defined]
        )

    def get(
        self,
        model: type[Model],
        resource_id: str,
        what: str,
        *,
        lock: bool = False,
        company_wide: bool = False,
    ) -> Model:
        """The `model` row with that id in the caller's business (with `company_wide`, in
        any business of the caller's company, or of no business); NotFound otherwise.

        `lock` takes the row lock (FOR UPDATE) until the transaction ends: a state change
        decided from the row must lock it, so that concurrent changes queue behind it.
        """
        row = self.session.get(model, resource_id, with_for_update=lock or None)
        if row is None or not self._owns(row, company_wide):
            raise NotFound(f"No {what} with id {resource_id}")
        return row

    def _owns(self, row: Any, company_wide: bool) -> bool:
        if company_wide:
            return bool(row.company_id == self.company_id)
        return owner_of(row) == (self.company_id, self.business.id)

    def insert(self, model: type, **values: Any) -> Any:
        """Write one new `model` row with a single prepared INSERT (no ORM unit of work).

        Returns the row as stored (a named tuple), defaults applied, for `model.to_api`.
        Use it where the handler does not change the resource again in the same request.
        """
        return self.transaction.insert(model, values)

    def given(self, names: Iterable[str]) -> dict[str, Any]:
        """The body's values of those fields of `names` that it holds."""
        return {name: self.body[name] for name in names if name in self.body}

    def update_from_body(self, row: Any, names: Iterable[str]) -> None:
        """Set on `row` each field of `names` that the body holds."""
        for name, value in self.given(names).items():
            setattr(row, name, value)

    def tenancy(self) -> dict[str, Any]:
        """Column values that place a new resource in the caller's business."""
        return {
            "company_id": self.company_id,
            "business_id": self.business.id,
            "created_at": self.now,
        }

    def emit(self, event_type: str, data: dict[str, Any]) -> None:
        """Record a webhook event in this transaction (delivered after it commits)."""
        subscribers = self.subscribers
        if subscribers is None:
            found = outbox.clock_and_subscribers(
                self.transaction, self.company_id, self.business.id
            )
            subscribers = [] if found is None else found[1]
        origin = webhooks.Origin(self.company_id, self.business.id, self.now)
        webhooks.record_event(self.transaction, origin, subscribers, event_type, data)
