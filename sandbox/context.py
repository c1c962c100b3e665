"""RequestContext: everything a handler receives, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from sandbox.auth import BusinessInfo, KeyInfo
from sandbox.errors import NotFound
from sandbox.spec import Operation, Spec
from sandbox.storage.core import Company

Reply = tuple[int, Any]
Model = TypeVar("Model")
EventSink = Callable[["RequestContext", str, dict[str, Any]], None]


@dataclass
class RequestContext:
    """One authenticated, validated request inside its database transaction."""

    operation: Operation
    spec: Spec
    session: Session
    company: Company
    business: BusinessInfo
    key: KeyInfo
    path: dict[str, str]
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    now: datetime
    request_id: str
    settings: dict[str, Any] = field(default_factory=dict)
    event_sink: EventSink | None = None

    def scoped(self, model: type[Model]) -> Select[tuple[Model]]:
        """A SELECT of `model` restricted to the caller's company and business."""
        return select(model).where(
            model.company_id == self.company.id,  # type: ignore[attr-defined]
            model.business_id == self.business.id,  # type: ignore[attr-defined]
        )

    def get(self, model: type[Model], resource_id: str, what: str) -> Model:
        """The `model` row with that id in the caller's business; NotFound otherwise."""
        row = self.session.get(model, resource_id)
        if (
            row is None
            or row.company_id != self.company.id  # type: ignore[attr-defined]
            or row.business_id != self.business.id  # type: ignore[attr-defined]
        ):
            raise NotFound(f"No {what} with id {resource_id}")
        return row

    def tenancy(self) -> dict[str, Any]:
        """Column values that place a new resource in the caller's business."""
        return {
            "company_id": self.company.id,
            "business_id": self.business.id,
            "created_at": self.now,
        }

    def emit(self, event_type: str, data: dict[str, Any]) -> None:
        """Record a webhook event in this transaction (delivered after it commits)."""
        if self.event_sink is not None:
            self.event_sink(self, event_type, data)
