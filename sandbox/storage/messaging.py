"""Messaging tables: the SMS log and AI chat conversations with their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.storage.base import Base, TenantOwned, UtcDateTime, iso


class SmsMessage(TenantOwned, Base):
    """A logged SMS: test mode records it with its outcome and never dispatches it.

    `contact_id` is kept as given (no foreign key): a log entry outlives its contact.
    """

    __tablename__ = "sms_messages"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    to_phone: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(40))
    segments: Mapped[int] = mapped_column(Integer)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "to_phone": self.to_phone,
            "message": self.message,
            "contact_id": self.contact_id,
            "status": self.status,
            "error_code": self.error_code,
            "segments": self.segments,
            "simulated": True,
            "created_at": iso(self.created_at),
        }


class Conversation(TenantOwned, Base):
    """A chat conversation; its id is chosen by the client, so it is unique per business."""

    __tablename__ = "conversations"

    business_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    total_tokens: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def append(
        self, message_id: str, role: str, content: str, tokens: int, at: datetime
    ) -> ChatMessage:
        """The conversation's next message; its count, tokens and last activity follow."""
        self.message_count = (self.message_count or 0) + 1
        self.total_tokens = (self.total_tokens or 0) + tokens
        self.updated_at = at
        return ChatMessage(
            id=message_id,
            company_id=self.company_id,
            business_id=self.business_id,
            created_at=at,
            conversation_id=self.id,
            position=self.message_count,
            role=role,
            content=content,
            tokens=tokens,
        )

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_count": self.message_count,
            "total_tokens": self.total_tokens,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


class ChatMessage(TenantOwned, Base):
    """One message of a conversation, user or assistant, at its position (1, 2, …)."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        Index("ix_chat_messages_conversation", "business_id", "conversation_id", "position"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(10))
    content: Mapped[str] = mapped_column(Text)
    tokens: Mapped[int] = mapped_column(Integer)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "content": self.content,
            "tokens": self.tokens,
            "created_at": iso(self.created_at),
        }
