"""Domain constants and the states of sessions and jobs, shared by the API, the services and the migrations."""

from enum import StrEnum

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
