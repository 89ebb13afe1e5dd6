"""Accounts, sessions, images and previews as the API returns them."""

from typing import Literal

from pydantic import create_model

from ..constants import ACCOUNT_EVENT_KINDS
from .analysis import ImageQuality
from .common import Model


class UserOut(Model):
    """An account, without its password hash."""

    id: str
    email: str
    created_at: str


class TokenOut(Model):
    """A freshly issued bearer token: the only moment its plain value exists."""

    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_at: str
    user: UserOut
    # From a sign-in: this browser's device token, to send with its next logins (they are then never refused by
    # the account's count of wrong passwords).
    device_token: str | None = None


class ChallengeOut(Model):
    """A right password of an account with a second factor: no token yet; send a code with the challenge."""

    second_factor_required: Literal[True] = True
    challenge: str


class AcceptedOut(Model):
    """Taken in; the same answer whatever the email (what follows goes by mail)."""

    status: Literal["accepted"] = "accepted"
    message: str


class SignInOut(Model):
    """One of her live sign-ins."""

    id: str
    created_at: str
    last_used_at: str
    agent_family: str
    address_prefix: str
    current: bool


class SignInsOut(Model):
    """Her live sign-ins, newest first."""

    sessions: list[SignInOut]


class SetupOut(Model):
    """A new TOTP secret for her authenticator app (in force once a code confirms it)."""

    secret: str
    otpauth_uri: str


class RecoveryCodesOut(Model):
    """Her recovery codes, shown this once (each works once)."""

    recovery_codes: list[str]


class ActivityEvent(Model):
    """One event of her account."""

    kind: Literal[ACCOUNT_EVENT_KINDS]
    at: str
    agent_family: str | None
    address_prefix: str | None


class ActivityOut(Model):
    """Her account's activity, newest first (kept a year)."""

    events: list[ActivityEvent]


# An image's stored quality: the measured fields, each null for an upload from before it was measured.
StoredQuality = create_model(
    "StoredQuality",
    __base__=Model,
    __doc__="An image's stored quality measures.",
    **{name: (field.annotation | None, ...) for name, field in ImageQuality.model_fields.items()},
)


class ImageOut(Model):
    """An image: id, angle, size and its measured quality."""

    id: str
    angle: str
    size_bytes: int
    width: int
    height: int
    format: str
    created_at: str
    quality: StoredQuality


class PoseOut(Model):
    """How the upload sits against the baseline's photo of its angle: the turn (degrees) and scale that map it
    back, where its centre lands (fractions of the frame from the centre), the share of the frame it covers,
    whether it could be matched, and a hint when the pose is beyond what the comparison handles well."""

    ok: bool
    rotation_deg: float
    scale: float
    shift: tuple[float, float]
    overlap: float
    hint: str | None


class UploadedImage(ImageOut):
    """An accepted upload, with retake hints, and its pose when the user has a baseline of this angle."""

    hints: list[str]
    pose: PoseOut | None = None


class CaptureGuide(Model):
    """A signed, expiring URL of the camera overlay for an angle (the baseline photo's outline), and whose photo
    it is drawn from."""

    angle: str
    guide_url: str
    expires_in: int
    baseline_session_id: str


class SessionOut(Model):
    """A capture session; `images` only where one session is read."""

    id: str
    session_type: str
    status: str
    notes: str | None
    is_baseline: bool
    created_at: str
    completed_at: str | None
    angles: list[str]
    image_count: int
    images: list[ImageOut] | None = None


class SessionPage(Model):
    """One page of the caller's sessions, newest first."""

    sessions: list[SessionOut]
    page: int
    per_page: int
    total: int


class SessionInfo(Model):
    """Where a session stands among the caller's sessions (bare, as the frontend reads it)."""

    session_id: str
    is_first_session: bool
    is_current: bool
    total_sessions: int
    created_at: str
    previous_session_id: str | None


class Preview(Model):
    """Signed, expiring, absolute URLs of one photo, usable in an <img> on another site: `preview_url` a display
    copy (about 1600 px, or the thumbnail), `original_url` the photo as kept (for download)."""

    preview_url: str
    original_url: str
    expires_in: int
    image_type: str
    image_id: str


class Previews(Model):
    """A session's photos of one angle (bare)."""

    images: list[Preview]
    count: int


class Thumbnails(Model):
    """Every photo of a session as a small signed thumbnail (bare)."""

    session_id: str
    thumbnails: list[Preview]
    count: int


class Deleted(Model):
    """Something was removed."""

    deleted: Literal[True] = True


class Done(Model):
    """Done."""

    done: Literal[True] = True


class LoggedOut(Model):
    """The token is revoked."""

    logged_out: Literal[True] = True


class BareSuccess(Model):
    """The frontend's delete-session answer."""

    success: Literal[True] = True


class BaselineOut(Model):
    """The session later sessions are compared with."""

    baseline_session_id: str
    created_at: str


class Health(Model):
    """Liveness."""

    status: Literal["ok"]


class Readiness(Model):
    """Readiness and each check behind it; `reason` names the first failing one."""

    status: Literal["ready", "not_ready"]
    checks: dict[str, bool]
    reason: str | None = None


class ScheduleOut(Model):
    """A person's schedule and when her next check-ins are due (aware local times, ISO 8601)."""

    quick_every_days: int
    full_every_days: int
    cycle_day: int | None
    cycle_check_day: int | None
    timezone: str
    reminder_time: str
    next_quick_due: str
    next_full_due: str
    overdue: bool
    calendar_url: str


class CycleLogOut(Model):
    """One day of her cycle log."""

    date: str
    phase: str
    period_start: str | None
    cycle_length: int | None
    symptoms: list[str]
    other_symptom: str | None
    notes: str | None
    updated_at: str


class CycleLogsOut(Model):
    """Her cycle log's days in a range, oldest first."""

    entries: list[CycleLogOut]


class ConsentTextOut(Model):
    """The current version of one consent text, its SHA-256 and the text (Markdown)."""

    kind: str
    version: str
    sha256: str
    text: str


class ConsentRecordOut(Model):
    """One consent given or withdrawn."""

    kind: str
    version: str
    text_sha256: str
    accepted: bool
    recorded_at: str


class ConsentStateOut(Model):
    """Where one kind of consent stands: the last answer, and whether it was to the current text."""

    kind: str
    accepted: bool
    version: str | None
    current_version: str
    current: bool
    recorded_at: str | None


class ConsentsOut(Model):
    """Every kind's state and the whole ledger, oldest first."""

    consents: list[ConsentStateOut]
    history: list[ConsentRecordOut]


class ShareOut(Model):
    """A new share link: its URL is shown this once (only its hash is kept)."""

    id: str
    url: str
    expires_at: str
    session_id: str


class ShareOpening(Model):
    """One opening of a share link: when, what (the page or the PDF), and the browser's family."""

    accessed_at: str
    opened: str
    agent_family: str


class ShareItem(Model):
    """One of the caller's share links."""

    id: str
    session_id: str
    note: str | None
    include_cycle_notes: bool
    created_at: str
    expires_at: str
    expired: bool
    revoked: bool
    access_count: int
    last_accessed_at: str | None
    openings: list[ShareOpening]


class SharesOut(Model):
    """The caller's share links, newest first."""

    shares: list[ShareItem]


class ReportAngle(Model):
    """One view in the report's summary."""

    angle_type: str
    variation_level: str | None
    distance_to_baseline: float | None
    distance_to_previous: float | None


class ReportSummary(Model):
    """What the PDF report holds, as JSON, with a signed, expiring download link of the PDF."""

    session_id: str
    report_url: str
    expires_at: str
    reference: str
    taken_at: str
    session_type: str
    first_session: bool
    overall_level: str | None
    analysis_confidence_score: float
    confidence_label: str
    session_quality_score: float
    symmetry_score: float | None
    per_angle: list[ReportAngle]
    localized_insights: list[str]
    disclaimer: str
