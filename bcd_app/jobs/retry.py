"""When a job that did not finish runs again: a pure rule of its attempts and what stopped it."""

from dataclasses import dataclass
from enum import Enum

from ..constants import WORKER_LOST

# Retry delay after a transient failure: base * 2^(attempt-1), capped.
BACKOFF_BASE_SECONDS = 2
BACKOFF_MAX_SECONDS = 120


class Cause(Enum):
    """What stopped a run: an error worth another try, or a worker that stopped renewing its lease."""

    TRANSIENT_ERROR = "transient_error"
    WORKER_LOST = WORKER_LOST


@dataclass(frozen=True)
class RetryDecision:
    """Run again (after `delay_seconds`), or give up."""

    retry: bool
    delay_seconds: float = 0.0


def get_retry_decision(attempts: int, max_attempts: int, cause: Cause) -> RetryDecision:
    """Give up after `max_attempts` runs; otherwise retry, at once for a lost worker (another worker takes the
    job), after an exponential back-off for an error (the database or storage may need a moment)."""
    if attempts >= max_attempts:
        return RetryDecision(retry=False)
    if cause is Cause.WORKER_LOST:
        return RetryDecision(retry=True)
    return RetryDecision(retry=True, delay_seconds=min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS))
