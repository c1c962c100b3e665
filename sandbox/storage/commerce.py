"""Commerce tables: orders, the payments and refunds settling them, invoices and their numbers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.storage.base import Base, TenantOwned, UtcDateTime, iso


class Order(TenantOwned, Base):
    """An order: what is owed, what has been paid and refunded, and the status that follows."""

    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    amount_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "amount": self.amount,
            "amount_paid": self.amount_paid,
            "amount_refunded": self.amount_refunded,
            "currency": self.currency,
            "contact_id": self.contact_id,
            "description": self.description,
            "metadata": dict(self.metadata_ or {}),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


class Payment(TenantOwned, Base):
    """A simulated charge of an order; its outcome came from the test payment method."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    failure_code: Mapped[str | None] = mapped_column(String(40))
    failure_message: Mapped[str | None] = mapped_column(Text)
    payment_method: Mapped[str] = mapped_column(String(100))

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "order_id": self.order_id,
            "amount": self.amount,
            "amount_refunded": self.amount_refunded,
            "currency": self.currency,
            "status": self.status,
            "failure_code": self.failure_code,
            "failure_message": self.failure_message,
            "payment_method": self.payment_method,
            "created_at": iso(self.created_at),
        }


class Refund(TenantOwned, Base):
    """Money given back from a succeeded payment."""

    __tablename__ = "refunds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(String(40))

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "payment_id": self.payment_id,
            "order_id": self.order_id,
            "amount": self.amount,
            "currency": self.currency,
            "status": "succeeded",
            "reason": self.reason,
            "created_at": iso(self.created_at),
        }


class Invoice(TenantOwned, Base):
    """An invoice; line amounts and totals were computed by the server."""

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("business_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    line_items: Mapped[list[Any]] = mapped_column(JSON)
    subtotal: Mapped[int] = mapped_column(BigInteger)
    tax_rate_bps: Mapped[int] = mapped_column(Integer)
    tax: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date | None] = mapped_column(Date)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "status": self.status,
            "contact_id": self.contact_id,
            "order_id": self.order_id,
            "currency": self.currency,
            "line_items": [dict(item) for item in self.line_items],
            "subtotal": self.subtotal,
            "tax_rate_bps": self.tax_rate_bps,
            "tax": self.tax,
            "total": self.total,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "created_at": iso(self.created_at),
        }


class InvoiceCounter(Base):
    """The last invoice number used by a business; incremented in the creating transaction."""

    __tablename__ = "invoice_counters"

    business_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32), index=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
