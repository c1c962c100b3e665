"""CRM tables: contacts and deals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.storage.base import Base, TenantOwned, UtcDateTime, iso


class Contact(TenantOwned, Base):
    """A CRM contact."""

    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    company_name: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "company_name": self.company_name,
            "tags": list(self.tags or []),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


class Deal(TenantOwned, Base):
    """A deal in the pipeline, for one contact."""

    __tablename__ = "deals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "stage": self.stage,
            "amount": self.amount,
            "currency": self.currency,
            "contact_id": self.contact_id,
            "expected_close_date": self.expected_close_date.isoformat()
            if self.expected_close_date
            else None,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }
