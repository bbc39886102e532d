"""SQLAlchemy models. Schema changes only through migrations."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC
from datetime import date
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from .extensions import db

# Assessment tokens (and campaign codes) are read aloud, copied from a printed card or
# flyer and typed on a phone, so they are written in Crockford's base32: digits and
# capitals without I, L, O and U. 28 symbols (140 random bits) shown in 7 groups of 4:
# "7KQ2-M9XD-...". Typed back in any case, with or without the dashes or with spaces,
# and with I or L for 1 and O for 0, they are the same token.
CROCKFORD_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOKEN_SYMBOLS = 28
TOKEN_GROUP = 4
_MISREAD = str.maketrans("ILO", "110")
_SEPARATORS = re.compile(r"[-\s]+")
_TOKEN = re.compile(f"[{CROCKFORD_BASE32}]{{{TOKEN_SYMBOLS}}}")
# Tokens made before: 43 characters of URL-safe base64 (256 bits). They are case-sensitive
# and may hold dashes, so they are looked up exactly as they are.
_OLD_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    return shown_token("".join(secrets.choice(CROCKFORD_BASE32) for _ in range(TOKEN_SYMBOLS)))


def canonical_token(token: str) -> str:
    """The one spelling of a token that is hashed: a new-style token as typed (any case,
    dashes or spaces, I/L for 1, O for 0) becomes its 28 capitals; anything else, old
    tokens included, stays exactly as it is."""
    if _OLD_TOKEN.fullmatch(token):
        return token
    compact = _SEPARATORS.sub("", token).upper().translate(_MISREAD)
    return compact if _TOKEN.fullmatch(compact) else token


def shown_token(token: str) -> str:
    """How a token is written in links: a new-style token in its groups of four
    capitals, whatever way it was typed; an old one as it is."""
    if not is_typable(token):
        return token
    compact = canonical_token(token)
    return "-".join(
        compact[start : start + TOKEN_GROUP] for start in range(0, TOKEN_SYMBOLS, TOKEN_GROUP)
    )


def is_typable(token: str) -> bool:
    """A new-style token: typed back in any case, with or without its dashes."""
    return _TOKEN.fullmatch(canonical_token(token)) is not None


def hash_token(token: str) -> str:
    """Tokens are stored hashed: a leaked database does not open assessments."""
    return hashlib.sha256(canonical_token(token).encode("utf-8", "surrogatepass")).hexdigest()


class Assessment(db.Model):
    """One organisation's answers to one questionnaire version."""

    __tablename__ = "assessments"
    __table_args__ = (
        sa.Index("ix_assessments_campaign_submitted", "campaign_id", "submitted_at"),
        # The dashboard's named members, read in name order without scanning the campaign.
        sa.Index("ix_assessments_campaign_named", "campaign_id", "share_named", "member_name"),
        # The dashboard's completed members (aggregates.counted) counted in the index alone.
        sa.Index("ix_assessments_campaign_counted", "campaign_id", "superseded", "submitted_at"),
        # Its started members, count(DISTINCT coalesce(member_id, id)), read in the
        # index's order instead of sorted; with member_id and id the index alone answers
        # (PostgreSQL reads an expression from an index only if it holds its columns).
        sa.Index(
            "ix_assessments_campaign_member",
            "campaign_id",
            sa.text("coalesce(member_id, id)"),
            "member_id",
            "id",
        ),
    )

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
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="SET NULL")
    )
    member_name: Mapped[str | None] = mapped_column(sa.String(200))
    # What the member shares with its association: only anonymous totals (the
    # default) or its named individual result.
    share_named: Mapped[bool] = mapped_column(default=False)
    # One organisation is one member: its assessments share a member id (the first
    # one's id; NULL on the first itself), and a newer submitted result supersedes
    # the older ones, which then count nowhere.
    member_id: Mapped[int | None] = mapped_column(index=True)
    superseded: Mapped[bool] = mapped_column(default=False)
    # Where a campaign member joined from: a keyed, truncated hash of the address,
    # so staff can see many completions from one place in minutes (never the address).
    join_origin: Mapped[str | None] = mapped_column(sa.String(16))
    # An offline submission's own id (ODK/Kobo `instanceID`): importing it twice adds nothing.
    submission_id: Mapped[str | None] = mapped_column(sa.String(128), unique=True)

    answers: Mapped[list[Answer]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", passive_deletes=True
    )

    @classmethod
    def start(cls, questionnaire, language: str, previous: Assessment | None = None, **extra):
        """Return (assessment, token); the token is shown once and never stored."""
        token = new_token()
        if previous is not None:  # a re-assessment stays in its campaign, with the same consent
            extra = {
                "campaign_id": previous.campaign_id,
                "member_name": previous.member_name,
                "share_named": previous.share_named,
                "member_id": previous.member_key,
            } | extra
        assessment = cls(
            token_hash=hash_token(token),
            questionnaire_id=questionnaire.id,
            questionnaire_version=questionnaire.version,
            language=language,
            previous_id=previous.id if previous else None,
            **extra,
        )
        return assessment, token

    @property
    def member_key(self) -> int:
        """The organisation this assessment belongs to, across re-assessments."""
        return self.member_id or self.id


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


class Association(db.Model):
    """A trade association (gremio) that invites its members to the assessment."""

    __tablename__ = "associations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # unconfirmed (registered, e-mail link not opened yet), pending (confirmed, waiting
    # for programme staff), approved. A String(16) without a constraint: no migration.
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    users: Mapped[list[User]] = relationship(back_populates="association")
    campaigns: Mapped[list[Campaign]] = relationship(back_populates="association")

    @property
    def approved(self) -> bool:
        return self.status == "approved"


class User(db.Model):
    """An account: an association's staff, or programme staff (role `admin`)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default="association")  # association, admin
    association_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("associations.id", ondelete="CASCADE")
    )
    # Bumped on logout and password change: every older session stops working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    association: Mapped[Association | None] = relationship(back_populates="users")

    # Flask-Login's interface
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.role == "admin" or bool(self.association and self.association.approved)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class ApiKey(db.Model):
    """An association's key to the JSON API: shown once, stored hashed, revocable."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(
        sa.ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    # The first characters of the key, shown on the page so people can tell keys apart.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class PasswordReset(db.Model):
    """A reset link waiting to be handed over by programme staff (when no SMTP is set)."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    link: Mapped[str] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()


class Campaign(db.Model):
    """An association's invitation to its members, with its own link."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(
        sa.ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    questionnaire_id: Mapped[str] = mapped_column(sa.String(64))
    questionnaire_version: Mapped[int]
    message: Mapped[str] = mapped_column(sa.Text, default="")
    closes_on: Mapped[date | None] = mapped_column(sa.Date)
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    association: Mapped[Association] = relationship(back_populates="campaigns")

    @staticmethod
    def new_code() -> str:
        """Typed from a flyer like a private link from its card: the same unmistakable
        groups (140 random bits), stored as shown. Older codes are 24 characters of
        URL-safe base64 (144 bits), matched exactly."""
        return new_token()

    @staticmethod
    def owned_by(association_id: int, campaign_id: int) -> Campaign | None:
        """The association's own campaign; another association's is None, exactly like
        one that does not exist (callers answer 404 for both)."""
        return db.session.scalar(
            sa.select(Campaign).where(
                Campaign.id == campaign_id, Campaign.association_id == association_id
            )
        )

    @property
    def is_open(self) -> bool:
        if self.closed_at is not None:
            return False
        return self.closes_on is None or self.closes_on >= utcnow().date()


class Release(db.Model):
    """Figures over a cohort of members, frozen when it was made: a campaign's (or, with
    no campaign, the national overview's). A new release is made only once at least
    five member results are new or changed, so comparing two releases never isolates
    fewer than five organisations."""

    __tablename__ = "releases"
    __table_args__ = (
        sa.Index("ix_releases_campaign_created", "campaign_id", "created_at"),
        # The release in force (the newest by id) without sorting the campaign's releases:
        # a campaign of 100,000 members can have made 20,000 of them.
        sa.Index("ix_releases_campaign_latest", "campaign_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    members: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    figures: Mapped[dict] = mapped_column(sa.JSON)


class ResultItem(db.Model):
    """A submitted result, one row per figure, so dashboards aggregate in SQL.

    kind: `overall` (key ""), `dimension` (key = dimension id, value = score),
    `commitment` (key = commitment id, status), `knockout` (key = question id),
    `action` (key = action id), `level` (key = level id)."""

    __tablename__ = "result_items"
    __table_args__ = (
        sa.Index("ix_result_items_kind_key", "kind", "key"),
        # A result's score in one area read from the index alone (the export's columns).
        sa.Index("ix_result_items_assessment_kind_key", "assessment_id", "kind", "key", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(16))
    key: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[int | None]
    status: Mapped[str | None] = mapped_column(sa.String(64))
