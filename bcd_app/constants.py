"""Domain constants and the states of sessions and jobs: each fact written once, imported by every layer."""

from enum import StrEnum

# The analysis's version, reported in every result and in the API description.
ANALYSIS_VERSION = "3.0"

# Capture angles, in the order the frontend shows them.
ANGLES = ("front", "left", "right", "up", "down", "raised")
# Distinct angles a session needs before it can be completed.
MIN_ANGLES = {"full": 3, "quick": 1}
# The two views whose mirror images are compared for symmetry.
MIRROR_PAIR = ("left", "right")

# Size of the default embedder's vector (EfficientNet-Lite0 pooled features).
EMBEDDING_DIM = 1280
# Region comparison grid: rows and columns of cells over a photo (3 x 3 fits the client's wording).
REGION_GRID = 3
REGION_CELLS = REGION_GRID * REGION_GRID

# Comparison layers, in the order a result lists them, and the windows of the two bounded ones.
LAYERS = ("baseline", "previous", "rolling", "monthly", "lifetime")
ROLLING_SESSIONS = 5
MONTHLY_DAYS = 30
# The layer that compares with her latest earlier session taken in the same phase of her cycle (computed beside
# the SQL layers, from her cycle log), and every layer a result can name.
SAME_PHASE = "same_phase"
RESULT_LAYERS = (*LAYERS, SAME_PHASE)
# Layers a summary speaks of, in order of preference.
SUMMARY_LAYERS = ("baseline", "previous")

# Lower bounds of each band of cosine distance, highest first; a boundary value belongs to the higher band.
VARIATION_BANDS = (
    (0.70, "Strong Variation"),
    (0.45, "Higher Variation"),
    (0.25, "Moderate Variation"),
    (0.10, "Mild Variation"),
    (0.0, "Stable"),
)
VARIATION_LEVELS = tuple(label for _, label in reversed(VARIATION_BANDS))
# The lowest band, and the one a local change above the noise floor lifts a whole view to at least.
STABLE, MILD_VARIATION = VARIATION_LEVELS[:2]
# |delta| of a score between two sessions: below the first bound stable, below the second a mild
# variation, beyond it a significant shift (the Mild and Moderate bands' lower bounds).
TREND_BANDS = ((0.25, "significant_shift"), (0.10, "mild_variation"), (0.0, "stable"))


class SessionStatus(StrEnum):
    """Where a capture session stands."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class JobStatus(StrEnum):
    """The states of an analysis job row (the queue's truth)."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


# A job in one of these states is still to finish.
ACTIVE_JOB_STATES = (JobStatus.QUEUED, JobStatus.RUNNING)
# The error code of a job whose worker stopped renewing its lease too often.
WORKER_LOST = "worker_lost"


class AnalysisStage(StrEnum):
    """The stages an analysis reports as it goes (analyze-status's `stage`, the stage-duration metric)."""

    PREPROCESSING = "preprocessing"
    EMBEDDING = "embedding"
    COMPARING = "comparing"
    REGIONS = "regions"


class JobKind(StrEnum):
    """Who asked for a job: a user (first in line) or an operator's re-embedding after a model change."""

    ANALYSIS = "analysis"
    REEMBED = "reembed"


# Every state and kind as a bind parameter, so the job table's SQL spells none of them.
SQL_STATES = {
    "queued": JobStatus.QUEUED,
    "running": JobStatus.RUNNING,
    "completed": JobStatus.COMPLETED,
    "failed": JobStatus.FAILED,
    "analysis_kind": JobKind.ANALYSIS,
    "reembed_kind": JobKind.REEMBED,
}

# The consents a person gives: the awareness notice, the processing of her health data (analysis needs it when
# CONSENT_REQUIRED is on) and the optional research use; their texts are bcd_app/consent_texts/<kind>/<n>.md.
CONSENT_KINDS = ("awareness_notice", "health_data_processing", "research")
ANALYSIS_CONSENT = "health_data_processing"

# The cycle log: a day's phase (as the original app's Cycle Tracker names them), the symptoms she can tick, the
# range of a cycle length she can log (days) and the length assumed when she has logged none.
CYCLE_PHASES = ("menstrual", "follicular", "ovulation", "luteal", "unknown")
UNKNOWN_PHASE = "unknown"
CYCLE_SYMPTOMS = ("none", "cramping", "tenderness", "bloating", "headache", "mood_changes", "other")
CYCLE_LENGTH_RANGE = (21, 35)
DEFAULT_CYCLE_LENGTH = 28
# The day of her cycle a full check-in goes to when she logs her periods and sets none (day 1 = a period's first
# day: a couple of days after a five-day period ends, the usual advice for looking).
DEFAULT_CYCLE_CHECK_DAY = 7

# What her account's activity lists (GET /api/account/activity), each kept a year. An erasure is none: it takes
# the account and its activity at once.
ACCOUNT_EVENT_KINDS = (
    "sign_in",
    "sign_in_failures",
    "password_changed",
    "password_reset",
    "second_factor_enabled",
    "second_factor_disabled",
    "sessions_revoked",
    "export",
    "share_created",
    "share_opened",
    "report_downloaded",
)
