"""SQLAlchemy models. Schema changes only through migrations."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from .extensions import db

TOKEN_BYTES = 32  # 256 random bits, URL-safe base64: 43 characters


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Tokens are stored hashed: a leaked database does not open assessments."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Assessment(db.Model):
    """One organisation's answers to one questionnaire version."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    questionnaire_id: Mapped[str] = mapped_column(sa.String(64))
    questionnaire_version: Mapped[int]
    language: Mapped[str] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    previous_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="SET NULL")
    )
    overall: Mapped[int | None]
    level: Mapped[str | None] = mapped_column(sa.String(64))

    answers: Mapped[list[Answer]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", passive_deletes=True
    )

    @classmethod
    def start(cls, questionnaire, language: str, previous: Assessment | None = None):
        """Return (assessment, token); the token is shown once and never stored."""
        token = new_token()
        assessment = cls(
            token_hash=hash_token(token),
            questionnaire_id=questionnaire.id,
            questionnaire_version=questionnaire.version,
            language=language,
            previous_id=previous.id if previous else None,
        )
        return assessment, token


class Answer(db.Model):
    """One answer, one row: two tabs saving different questions never collide."""

    __tablename__ = "answers"
    __table_args__ = (sa.UniqueConstraint("assessment_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[object] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    assessment: Mapped[Assessment] = relationship(back_populates="answers")


class SavedSection(db.Model):
    """A step the user has saved, so the link resumes at the first step not saved."""

    __tablename__ = "saved_sections"
    __table_args__ = (sa.UniqueConstraint("assessment_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(sa.ForeignKey("assessments.id", ondelete="CASCADE"))
    section_id: Mapped[str] = mapped_column(sa.String(64))
    saved_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
