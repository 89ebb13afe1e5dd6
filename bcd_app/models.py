"""Database tables: accounts, capture sessions, images, analyses, vectors, jobs and logs."""

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time

from pgvector import Vector
from pgvector.sqlalchemy import VECTOR
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .constants import EMBEDDING_DIM, JobKind
from .db import db
from .schemas.analysis import QUALITY_FIELDS, ImageQuality


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the models use."""
    return datetime.now(UTC)


def _id() -> Mapped[uuid.UUID]:
    return mapped_column(db.Uuid, primary_key=True, default=uuid.uuid4)


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


def _user_fk() -> Mapped[uuid.UUID]:
    return mapped_column(db.Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)


def _session_fk() -> Mapped[uuid.UUID]:
    return mapped_column(db.Uuid, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, index=True)


class VectorColumn(VECTOR):
    """pgvector's column type, bound as pgvector's Vector rather than its text: the connection sends it in binary
    (db.py)."""

    cache_ok = True

    def bind_processor(self, _dialect: Dialect) -> Callable[[object], Vector | None]:
        """Each value as a Vector (a list or an array of floats; None stays NULL)."""
        return lambda value: None if value is None or isinstance(value, Vector) else Vector(value)


def _vector() -> Mapped[list[float]]:
    return mapped_column(VectorColumn(EMBEDDING_DIM), nullable=False)


class User(db.Model):
    """An account; its email is stored lower-cased."""

    __tablename__ = "users"
    id: Mapped[uuid.UUID] = _id()
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = _created()
    # Set when she opened the link of the verification mail (accounts from before verification count as verified).
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Her TOTP secret, sealed with her key; the second factor is on once she confirmed a code (enabled_at set).
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last TOTP time step accepted: a code is taken once (RFC 6238 section 5.2).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class AuthToken(db.Model):
    """A bearer token, kept only as its SHA-256."""

    __tablename__ = "auth_tokens"
    id: Mapped[uuid.UUID] = _id()
    user_id: Mapped[uuid.UUID] = _user_fk()
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When it was last used (to the minute: the idle limit), what signed in (a browser family and an address
    # prefix: enough for her to recognise a sign-in, not to identify anyone) and when its password or code was
    # last given (sudo mode).
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    agent_family: Mapped[str | None] = mapped_column(String(32))
    address_prefix: Mapped[str | None] = mapped_column(String(64))
    reauthenticated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccountToken(db.Model):
    """A single-use token sent or handed to a person (email verification, password reset, a sign-in waiting for
    its second factor), kept only as its SHA-256."""

    __tablename__ = "account_tokens"
    id: Mapped[uuid.UUID] = _id()
    user_id: Mapped[uuid.UUID] = _user_fk()
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RecoveryCode(db.Model):
    """One single-use recovery code of her second factor, kept only as its SHA-256."""

    __tablename__ = "recovery_codes"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[uuid.UUID] = _user_fk()
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeviceToken(db.Model):
    """A browser she signed in from, kept as its token's SHA-256: a sign-in that shows it is limited on its own,
    so someone guessing her password elsewhere cannot lock her out."""

    __tablename__ = "device_tokens"
    id: Mapped[uuid.UUID] = _id()
    user_id: Mapped[uuid.UUID] = _user_fk()
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = _created()
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class AccountEvent(db.Model):
    """One event of her account's activity (a sign-in, a password change, an export...), kept a year."""

    __tablename__ = "account_events"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[uuid.UUID] = _user_fk()
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    at: Mapped[datetime] = _created()
    agent_family: Mapped[str | None] = mapped_column(String(32))
    address_prefix: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_account_events_user_at", "user_id", "at"),)


class OutgoingMail(db.Model):
    """A mail waiting to be sent (sealed with its person's key: it holds her address and a link), retried with a
    growing pause until it goes; removed once sent."""

    __tablename__ = "outgoing_mail"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[uuid.UUID] = _user_fk()
    sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    created_at: Mapped[datetime] = _created()
    last_error: Mapped[str | None] = mapped_column(String(200))


class LoginFailure(db.Model):
    """One failed login of an account or an address, under a keyed hash (no email, no IP): pending from the moment
    it is reserved (before the password is checked) until the check settles it; a pending one whose login never
    settled it (the database went away, the process died) stops counting after a short lease."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    pending: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))

    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)


class CaptureSession(db.Model):
    """One capture session: a few angles photographed on one occasion."""

    __tablename__ = "sessions"
    id: Mapped[uuid.UUID] = _id()
    user_id: Mapped[uuid.UUID] = _user_fk()
    session_type: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    is_baseline: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = _created()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    images: Mapped[list["Photo"]] = relationship(
        back_populates="session", order_by="Photo.created_at", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_sessions_user_created", "user_id", "created_at"),
        # At most one picked baseline per user.
        Index("uq_sessions_one_baseline", "user_id", unique=True, postgresql_where=text("is_baseline")),
    )


# Column types of the measured quality's JSON Schema types.
_QUALITY_COLUMN_TYPES = {"number": Float, "boolean": Boolean, "array": JSON}


def _quality_columns() -> type:
    """A mixin with one nullable column per measured quality field (schemas.analysis.ImageQuality), so the
    row and the result cannot disagree on a name; null for an upload from before the field was measured."""
    properties = ImageQuality.model_json_schema()["properties"]
    return type(
        "QualityColumns",
        (),
        {name: mapped_column(_QUALITY_COLUMN_TYPES[properties[name]["type"]]) for name in QUALITY_FIELDS},
    )


class Photo(_quality_columns(), db.Model):
    """One uploaded photo of one angle, with its measured quality (the analysis reads it instead of measuring
    again)."""

    __tablename__ = "images"
    id: Mapped[uuid.UUID] = _id()
    session_id: Mapped[uuid.UUID] = _session_fk()
    angle: Mapped[str] = mapped_column(String(16), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    format: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = _created()
    # The background step that raised on this photo ("features", "comparison", "display"), for an operator to look
    # at; the analysis (or the first preview) computes that part itself.
    background_failure: Mapped[str | None] = mapped_column(String(32))

    session: Mapped[CaptureSession] = relationship(back_populates="images")


class StoredAnalysis(db.Model):
    """The stored result of one session's analysis: its JSON, and the scores history, trend and confidence query."""

    __tablename__ = "session_analysis"
    id: Mapped[uuid.UUID] = _id()
    session_id: Mapped[uuid.UUID] = mapped_column(
        db.Uuid, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    user_id: Mapped[uuid.UUID] = _user_fk()
    change_score: Mapped[float | None] = mapped_column(Float)
    analysis_confidence_score: Mapped[float] = mapped_column(Float, nullable=False)
    session_quality_score: Mapped[float] = mapped_column(Float, nullable=False)
    model_version: Mapped[str] = mapped_column(String(64), nullable=False)
    # The result's one rendering (schemas/analysis.py), so a re-read returns exactly what was computed.
    result: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = _created()


class AngleAnalysis(db.Model):
    """Per-angle scores of a session's analysis, which compare-sessions queries."""

    __tablename__ = "angle_analysis"
    id: Mapped[uuid.UUID] = _id()
    session_id: Mapped[uuid.UUID] = _session_fk()
    angle: Mapped[str] = mapped_column(String(16), nullable=False)
    change_score: Mapped[float | None] = mapped_column(Float)
    angle_quality_score: Mapped[float] = mapped_column(Float, nullable=False)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (UniqueConstraint("session_id", "angle", name="uq_angle_analysis_session_angle"),)


class ImageEmbedding(db.Model):
    """The model's output for one image as taken, under one model version, where the symmetry score reads it
    (services/features.py): a left view's vector, a right view's mirrored vector; other angles keep none."""

    __tablename__ = "image_embeddings"
    id: Mapped[uuid.UUID] = _id()
    image_id: Mapped[uuid.UUID] = mapped_column(
        db.Uuid, ForeignKey("images.id", ondelete="CASCADE"), nullable=False, index=True
    )
    model_version: Mapped[str] = mapped_column(String(64), nullable=False)
    # A left view's vector; null for a right view (the symmetry score reads only its mirrored vector).
    embedding: Mapped[list[float] | None] = mapped_column(VectorColumn(EMBEDDING_DIM))
    # A right view's vector mirrored (the symmetry score compares it with the left view's); null for a left view.
    mirrored_embedding: Mapped[list[float] | None] = mapped_column(VectorColumn(EMBEDDING_DIM))
    created_at: Mapped[datetime] = _created()

    __table_args__ = (UniqueConstraint("image_id", "model_version", name="uq_image_embeddings_image_model"),)


class PhotoComparison(db.Model):
    """A photo compared with the baseline's photo of its angle as it arrived (services/regions.py): the alignment,
    the cells and the model's output of the photo brought onto the baseline, so the analysis finds them ready."""

    __tablename__ = "photo_comparisons"
    id: Mapped[uuid.UUID] = _id()
    image_id: Mapped[uuid.UUID] = mapped_column(
        db.Uuid, ForeignKey("images.id", ondelete="CASCADE"), nullable=False, index=True
    )
    reference_image_id: Mapped[uuid.UUID] = mapped_column(
        db.Uuid, ForeignKey("images.id", ondelete="CASCADE"), nullable=False, index=True
    )
    model_version: Mapped[str] = mapped_column(String(64), nullable=False)
    # The comparison's own version (vision/regions.COMPARISON_VERSION): another version's outcome is not used.
    method: Mapped[str] = mapped_column(String(32), nullable=False)
    alignment: Mapped[dict] = mapped_column(JSON, nullable=False)
    cells: Mapped[list] = mapped_column(JSON, nullable=False)
    # The photo brought onto the baseline: its vector and (sealed) cell vectors; null when it could not be registered.
    embedding: Mapped[list[float] | None] = mapped_column(VectorColumn(EMBEDDING_DIM))
    cell_vectors: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        UniqueConstraint("image_id", "reference_image_id", "model_version", "method", name="uq_photo_comparisons_key"),
    )


class AngleEmbedding(db.Model):
    """Mean of an angle's image vectors, re-normalised: what the comparisons use."""

    __tablename__ = "angle_embeddings"
    id: Mapped[uuid.UUID] = _id()
    session_id: Mapped[uuid.UUID] = _session_fk()
    user_id: Mapped[uuid.UUID] = _user_fk()
    angle: Mapped[str] = mapped_column(String(16), nullable=False)
    model_name: Mapped[str] = mapped_column(String(64), nullable=False)
    model_version: Mapped[str] = mapped_column(String(64), nullable=False)
    dim: Mapped[int] = mapped_column(Integer, nullable=False)
    embedding: Mapped[list[float]] = _vector()
    # The session's time, copied here so the rolling and monthly layers read their window through an index.
    session_created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # What later sessions' region comparison reads of this angle's best photo: its cell vectors (cells x dim,
    # float16 bytes; null for a model without feature maps) and its copy as shot at the comparison's size (.npy).
    cells: Mapped[bytes | None] = mapped_column(LargeBinary)
    region_copy: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        UniqueConstraint("session_id", "angle", "model_version", name="uq_angle_embeddings_session_angle_model"),
        Index(
            "ix_angle_embeddings_user_angle_time",
            "user_id",
            "angle",
            "model_version",
            "session_created_at",
            "session_id",
        ),
    )


class SessionEmbedding(db.Model):
    """Mean of a session's angle vectors, re-normalised."""

    __tablename__ = "session_embeddings"
    id: Mapped[uuid.UUID] = _id()
    session_id: Mapped[uuid.UUID] = _session_fk()
    user_id: Mapped[uuid.UUID] = _user_fk()
    model_name: Mapped[str] = mapped_column(String(64), nullable=False)
    model_version: Mapped[str] = mapped_column(String(64), nullable=False)
    dim: Mapped[int] = mapped_column(Integer, nullable=False)
    embedding: Mapped[list[float]] = _vector()
    created_at: Mapped[datetime] = _created()

    __table_args__ = (UniqueConstraint("session_id", "model_version", name="uq_session_embeddings_session_model"),)


class AngleAggregate(db.Model):
    """Running sum of a user's angle vectors under one model version: the lifetime layer without a scan.

    Kept in the transaction that writes or deletes the vectors; the sum in float64 (bytes), so adding and
    removing thousands of vectors stays equal to a full recomputation.
    """

    __tablename__ = "angle_aggregates"
    user_id: Mapped[uuid.UUID] = mapped_column(db.Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    angle: Mapped[str] = mapped_column(String(16), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer, nullable=False)
    total: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # The newest session counted: the aggregate is "every earlier session" for any session after it.
    latest_session_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class RegionChange(db.Model):
    """One cell's change in one session: against the baseline, or between two photos of the same angle of
    the session ("within"); the rows the per-user noise floor learns from."""

    __tablename__ = "region_changes"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    session_id: Mapped[uuid.UUID] = _session_fk()
    user_id: Mapped[uuid.UUID] = _user_fk()
    angle: Mapped[str] = mapped_column(String(16), nullable=False)
    reference: Mapped[str] = mapped_column(String(16), nullable=False)
    row: Mapped[int] = mapped_column(Integer, nullable=False)
    col: Mapped[int] = mapped_column(Integer, nullable=False)
    change: Mapped[float] = mapped_column(Float, nullable=False)
    exceeds: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (Index("ix_region_changes_user_angle_created", "user_id", "angle", "created_at"),)


class AnalysisJob(db.Model):
    """The queue: one row per session, the truth about its analysis."""

    __tablename__ = "analysis_jobs"
    id: Mapped[uuid.UUID] = _id()
    session_id: Mapped[uuid.UUID] = mapped_column(
        db.Uuid, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    user_id: Mapped[uuid.UUID] = _user_fk()
    # constants.JobKind: a user's request, or an operator's re-computation (after them in line).
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default=JobKind.ANALYSIS, server_default="analysis")
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    progress_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    stage: Mapped[str] = mapped_column(String(32), nullable=False, default="queued")
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_analysis_jobs_status_run_after", "status", "run_after"),)


class AnalysisRequest(db.Model):
    """One accepted analysis request: the rows the exact daily quota counts."""

    __tablename__ = "analysis_requests"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = _user_fk()
    session_id: Mapped[uuid.UUID] = mapped_column(db.Uuid, nullable=False)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (Index("ix_analysis_requests_user_created", "user_id", "created_at"),)


class AnalysisLog(db.Model):
    """One line per analysis run: time, status and error, never personal data."""

    __tablename__ = "analysis_logs"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    session_id: Mapped[uuid.UUID] = _session_fk()
    user_id: Mapped[uuid.UUID] = _user_fk()
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    processing_time: Mapped[float] = mapped_column(Float, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class Schedule(db.Model):
    """When a person means to take her photos, in her own time zone, and her calendar feed's secret (a nonce the
    feed's token is derived from with the app's key, and the token's hash the feed is found by)."""

    __tablename__ = "schedules"
    user_id: Mapped[uuid.UUID] = mapped_column(db.Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    quick_every_days: Mapped[int] = mapped_column(Integer, nullable=False)
    full_every_days: Mapped[int] = mapped_column(Integer, nullable=False)
    cycle_day: Mapped[int | None] = mapped_column(Integer)
    cycle_check_day: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    reminder_time: Mapped[time] = mapped_column(Time, nullable=False)
    calendar_nonce: Mapped[str | None] = mapped_column(String(64))
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class CycleLog(db.Model):
    """One day of a person's cycle log (the day in her time zone): phase, the last period's first day, cycle
    length, symptoms; her free text (notes, the other symptom) sealed with her key like her photos."""

    __tablename__ = "cycle_logs"
    user_id: Mapped[uuid.UUID] = mapped_column(db.Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    phase: Mapped[str] = mapped_column(String(16), nullable=False)
    period_start: Mapped[date | None] = mapped_column(Date)
    cycle_length: Mapped[int | None] = mapped_column(Integer)
    symptoms: Mapped[list[str]] = mapped_column(ARRAY(String(16)), nullable=False)
    sealed_text: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class ConsentRecord(db.Model):
    """One consent given or withdrawn: which text (kind, version and its hash), yes or no, and when. Appended,
    never changed: the ledger is the history."""

    __tablename__ = "consent_records"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = _user_fk()
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    version: Mapped[str] = mapped_column(String(16), nullable=False)
    text_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    accepted: Mapped[bool] = mapped_column(Boolean, nullable=False)
    recorded_at: Mapped[datetime] = _created()

    __table_args__ = (Index("ix_consent_records_user_kind", "user_id", "kind", "id"),)


class ShareLink(db.Model):
    """A link that shows one session's report to someone without an account (a clinician), until it expires or is
    revoked. Only the token's SHA-256 is kept: the link is shown once, when it is made."""

    __tablename__ = "share_links"
    id: Mapped[uuid.UUID] = _id()
    user_id: Mapped[uuid.UUID] = _user_fk()
    session_id: Mapped[uuid.UUID] = _session_fk()
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    include_cycle_notes: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    access_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_accessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ShareAccess(db.Model):
    """One opening of a share link: when, what was opened, and the browser's family (nothing that identifies the
    viewer)."""

    __tablename__ = "share_accesses"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    share_id: Mapped[uuid.UUID] = mapped_column(
        db.Uuid, ForeignKey("share_links.id", ondelete="CASCADE"), nullable=False, index=True
    )
    opened: Mapped[str] = mapped_column(String(16), nullable=False)
    agent_family: Mapped[str] = mapped_column(String(32), nullable=False)
    accessed_at: Mapped[datetime] = _created()


class UserKey(db.Model):
    """A user's data key, wrapped (AES-GCM) by the master key of `master_version`: every sealed photo, copy and
    feature map of the user opens with it. Deleting the row makes all of them unreadable, in every backup too."""

    __tablename__ = "user_keys"
    user_id: Mapped[uuid.UUID] = mapped_column(db.Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    master_version: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    created_at: Mapped[datetime] = _created()
