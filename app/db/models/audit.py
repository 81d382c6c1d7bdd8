"""The hash-chained audit log (SPEC §5); append-only, so no version column."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime


class AuditEntry(Base):
    """Entry ``seq`` of the chain ``chain_key`` (e.g. ``deal:12``).

    ``entity_id`` is a string (``"12"``) so any owning record can be named and the canonical
    JSON that is hashed has one type for it. ``recorded_at`` has no default: the writer sets it
    before computing ``hash``. UNIQUE (chain_key, seq) stops two writers appending the same seq
    and is also the index for reading a chain in order.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        sa.UniqueConstraint("chain_key", "seq"),
        sa.CheckConstraint("seq >= 1", name="seq_positive"),
        sa.Index("ix_audit_entries_entity", "entity_type", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_key: Mapped[str] = mapped_column(sa.String(80))
    seq: Mapped[int] = mapped_column(sa.Integer)
    event_type: Mapped[str] = mapped_column(sa.String(80))
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str] = mapped_column(sa.String(64))
    # RESTRICT: SET NULL would rewrite a hashed field of an append-only row.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    # JSON, not JSONB, on PostgreSQL too: the text is kept exactly as written, which is the
    # canonical JSON that was hashed (the engine's serializer), so verifying hashes it as read.
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON(none_as_null=True))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    prev_hash: Mapped[str] = mapped_column(sa.CHAR(64))
    hash: Mapped[str] = mapped_column(sa.CHAR(64))
