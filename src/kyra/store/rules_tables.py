"""Tables of custom healing rules (migration 0006): one row per applied rules document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kyra.store.tables import Base, new_id
from kyra.store.types import utcnow


class RulesVersionRow(Base):
    """Version N of a tenant's rules: the YAML as written (what a person reads and diffs)
    and the validated document as JSON (what the healer loads). The newest is current;
    older rows stay so every fix can be traced to the rules in force when it was made."""

    __tablename__ = "rules_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300), default="")
    """The file the rules were applied from."""
    text: Mapped[str] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column()
    digest: Mapped[str] = mapped_column(String(64))
    """SHA-256 of `text`: re-applying the same file does not add a version."""
    rule_count: Mapped[int] = mapped_column(Integer, default=0)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
