"""The per-process worker pool: claims jobs with SKIP LOCKED, renews leases, recovers stalled jobs."""

import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from flask import Flask
from prometheus_client import Histogram
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from ..constants import JobStatus
from ..db import contended, db
from ..errors import ApiError
from ..services import accounts, features, mail, previews, regions
from ..services.analysis import analyze_session
from ..services.regions import Registered
from ..services.settings import analysis_settings
from ..store import images, locks
from ..store import jobs as queue
from ..store.files import storage
from ..vision.embeddings import embedder
from ..web import busy, metrics, outage
from .retry import Cause, get_retry_decision

log = logging.getLogger(__name__)
TRANSIENT_ERRORS = (OperationalError, DBAPIError, OSError)
# The database cannot be reached: the job table waits for it, nothing is lost (leases expire, jobs re-run).
DATABASE_DOWN = (OperationalError, InterfaceError, SQLAlchemyTimeoutError)
OUTAGE_MAX_PAUSE_SECONDS = 30.0
# How long shutdown waits for the dispatcher and heartbeat to stop (a connect attempt times out in 5 s).
THREAD_STOP_SECONDS = 6.0
# How often each worker drops dead sign-ins, spent single-use tokens and year-old activity.
TIDY_SECONDS = 3600.0


def lower_thread_priority(nice: int) -> None:
    """Raise this thread's nice value (Linux: per thread; JOB_NICE: 0 by default, since a thread holding the
    interpreter's lock at a low priority stalls its whole worker)."""
    if nice <= 0:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):
        log.warning("could not lower the analysis threads' priority")


# The background tasks of one uploaded photo: its model output then its comparison with the baseline, and its display
# copy (PRECOMPUTE_QUEUE counts photos).
BACKGROUND_TASKS = 2


@dataclass(frozen=True)
class Outcome:
    """How a run ended: the job's next status, its error, and the delay before a retry."""

    status: JobStatus
    error_code: str | None = None
    message: str | None = None
    delay_seconds: float = 0.0


class JobRunner:
    """Bounded ThreadPoolExecutor fed from the job table; started after gunicorn forks."""

    def __init__(self) -> None:
        self.app: Flask | None = None
        self.worker_id = ""
        self._executor: ThreadPoolExecutor | None = None
        # One thread that computes just-uploaded photos' model output (services/features.py).
        self._features: ThreadPoolExecutor | None = None
        self._displays: ThreadPoolExecutor | None = None
        self._features_waiting = 0
        self._running: set[uuid.UUID] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        # Signalled whenever a job of this process finishes, with how many have: waiting requests look at once.
        self._finished = threading.Condition()
        self._finished_jobs = 0
        self._stop = threading.Event()
        # Set from a signal handler when the server begins to stop: claim nothing new.
        self._draining = False
        self._threads: list[threading.Thread] = []

    def init_app(self, app: Flask) -> None:
        """Bind to the app; nothing starts here (see start)."""
        self.app = app
        app.extensions["job_runner"] = self
        if app.config["JOBS_AUTOSTART"]:
            self.start()

    @property
    def alive(self) -> bool:
        """Whether the pool is running in this process."""
        return bool(self._threads) and all(t.is_alive() for t in self._threads) and not self._stop.is_set()

    def start(self) -> None:
        """Start the pool, the dispatcher and the heartbeat in this process (idempotent)."""
        if self._threads and not self._stop.is_set():
            return
        config = self.app.config
        # Load the model now, before this process serves: loading it (and exporting it, the first time) holds
        # the GIL for a second or more, which would stall every request of the worker mid-traffic.
        embedder.info()
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop.clear()
        self._draining = False
        self._executor = ThreadPoolExecutor(
            max_workers=config["JOB_WORKERS"],
            thread_name_prefix="analysis",
            initializer=lower_thread_priority,
            initargs=(config["JOB_NICE"],),
        )
        self._features = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix="features",
            initializer=lower_thread_priority,
            initargs=(config["JOB_NICE"],),
        )
        # Display copies: made as photos arrive, after each photo's quiet moment (a preview asked for first makes
        # its own).
        self._displays = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix="displays",
            initializer=lower_thread_priority,
            initargs=(config["JOB_NICE"],),
        )
        self._features_waiting = 0
        self._threads = [
            threading.Thread(target=self._dispatch_loop, name="job-dispatch", daemon=True),
            threading.Thread(target=self._heartbeat_loop, name="job-heartbeat", daemon=True),
            threading.Thread(target=self._mail_loop, name="mail", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._displays.submit(self._sweep, config["TEMPORARY_FILE_MAX_AGE_SECONDS"])
        log.info("job pool started", extra={"worker": self.worker_id, "threads": config["JOB_WORKERS"]})

    def notify(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def pauser(self) -> Callable[[float], None]:
        """A pause for a request waiting on its job: it returns after `seconds`, or as soon as a job of this
        process has finished since the last pause (or since this call: a finish between two looks is not
        missed). A job another process runs is seen at the next look."""
        with self._finished:
            seen = self._finished_jobs

        def pause(seconds: float) -> None:
            nonlocal seen
            with self._finished:
                self._finished.wait_for(lambda: self._finished_jobs != seen, seconds)
                seen = self._finished_jobs

        return pause

    def precompute(self, image_id: uuid.UUID, registered: Registered | None = None) -> None:
        """A photo was uploaded: compute its model output, its comparison with the baseline (registered as it was for
        its pose at upload, `registered`) and its display copy in the background now, so the analysis and the
        previews find them ready. Best effort: skipped when the pool is not running here or too many wait (the
        analysis, or the first preview, then makes what is missing)."""
        if not self.alive or self._draining:
            return
        with self._lock:
            if self._features_waiting >= BACKGROUND_TASKS * self.app.config["PRECOMPUTE_QUEUE"]:
                return
            self._features_waiting += BACKGROUND_TASKS
        self._features.submit(self._background, functools.partial(self._features_of, registered=registered), image_id)
        self._displays.submit(self._background, self._display_of, image_id)

    @property
    def precomputing(self) -> int:
        """Background tasks of uploaded photos waiting or running in this process."""
        with self._lock:
            return self._features_waiting

    def _sweep(self, older_than_seconds: float) -> None:
        """Remove the temporary files of writes a killed process never finished (on the display thread, once per
        start)."""
        try:
            with self.app.app_context():
                removed = storage().sweep_temporary(older_than_seconds)
        except OSError:
            log.exception("sweeping unfinished writes failed")
            return
        if removed:
            log.info("unfinished writes removed", extra={"files": removed})

    def _features_of(self, image_id: uuid.UUID, registered: Registered | None) -> None:
        busy.gate.wait_quiet(self.app.config["BACKGROUND_YIELD_SECONDS"])
        # Under the photo's work lock: an analysis of its session that begins meanwhile waits for this work instead
        # of doing it again (services/analysis.py); a photo another process works on is left to it.
        with locks.photo_work(image_id) as mine:
            if not mine:
                return
            self._step("features", features.precompute, metrics.PHOTO_FEATURES, image_id)
            if self.app.config["REGION_ANALYSIS"]:
                compare = functools.partial(regions.precompare, registered=registered)
                self._step("comparison", compare, metrics.PHOTO_COMPARISON, image_id)

    def _display_of(self, image_id: uuid.UUID) -> None:
        busy.gate.wait_quiet(self.app.config["BACKGROUND_YIELD_SECONDS"])
        self._step("display", previews.make_display, None, image_id)

    def _step(
        self, step: str, work: Callable[[uuid.UUID], bool], timing: Histogram | None, image_id: uuid.UUID
    ) -> None:
        """One background step on a photo (in an app context; the caller has waited for a quiet moment of this
        worker's requests, at most BACKGROUND_YIELD_SECONDS). One that raises is contained: logged once with
        its reason and the photo's id (no pixels), the photo marked, and the analysis (or the first preview)
        computes that part itself."""
        started = time.perf_counter()
        try:
            done = work(image_id)
        except DATABASE_DOWN:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed step on one photo must not stop the others
            log.warning(
                "background step failed",
                extra={"step": step, "image_id": str(image_id), "error_type": type(exc).__name__},
            )
            images.mark_background_failure(image_id, step)
            return
        if done and timing is not None:
            timing.observe(time.perf_counter() - started)

    def _background(self, work: Callable[[uuid.UUID], None], image_id: uuid.UUID) -> None:
        try:
            with self.app.app_context():
                work(image_id)
        except DATABASE_DOWN:
            pass  # the analysis or the preview makes what is missing; the dispatcher reports the outage
        except Exception:
            log.exception("background work on an uploaded photo failed")
        finally:
            with self._lock:
                self._features_waiting -= 1

    def drain(self) -> None:
        """Stop claiming jobs at once (safe from a signal handler); running jobs go on, leases are renewed."""
        self._draining = True
        self._wake.set()

    def shutdown(self, timeout: float = 20.0) -> None:
        """Stop claiming, let running jobs finish for `timeout` seconds, then release their leases."""
        if not self._threads:
            return
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        while self._running and time.monotonic() < deadline:
            time.sleep(0.1)
        with self._lock:
            leftover = list(self._running)
        if leftover:
            with self.app.app_context(), db.engine.begin() as connection:
                queue.release(connection, leftover, self.worker_id)
        self._executor.shutdown(wait=False, cancel_futures=True)
        # A photo's model output being computed is let finish (well under a second): its transaction would
        # otherwise outlive the pool, holding locks the next user of the tables waits on.
        self._features.shutdown(wait=True, cancel_futures=True)
        self._displays.shutdown(wait=True, cancel_futures=True)
        # The dispatcher and heartbeat are daemon threads: one still inside a database call while the interpreter
        # exits races its exit handlers ("dictionary changed size during iteration" in weakref's). They see the
        # stop at their next look.
        for thread in self._threads:
            thread.join(THREAD_STOP_SECONDS)
        self._threads = []
        log.info("job pool stopped", extra={"worker": self.worker_id, "released": len(leftover)})

    def _free_slots(self) -> int:
        with self._lock:
            return self.app.config["JOB_WORKERS"] - len(self._running)

    def _dispatch_loop(self) -> None:
        config = self.app.config
        next_sweep = 0.0
        pause = config["JOB_POLL_SECONDS"]
        while not self._stop.is_set():
            try:
                with self.app.app_context():
                    if time.monotonic() >= next_sweep:
                        self._recover(config["JOB_MAX_ATTEMPTS"])
                        next_sweep = time.monotonic() + max(config["JOB_LEASE_SECONDS"] / 3, 1)
                    while self._free_slots() > 0 and not (self._stop.is_set() or self._draining):
                        with db.engine.begin() as connection:
                            job = queue.claim(connection, self.worker_id, config["JOB_LEASE_SECONDS"])
                        if job is None:
                            break
                        with self._lock:
                            self._running.add(job.id)
                        self._executor.submit(self._run, job)
                outage.watch.recovered()
                pause = config["JOB_POLL_SECONDS"]
            except DATABASE_DOWN as exc:
                # One log line per outage (outage.py), and a back-off instead of a traceback a second.
                with self.app.app_context():
                    outage.watch.failed(self.app, exc)
                pause = min(pause * 2, OUTAGE_MAX_PAUSE_SECONDS)
            except Exception:
                log.exception("job dispatcher error")
            self._wake.wait(pause)
            self._wake.clear()

    def _recover(self, max_attempts: int) -> None:
        """Jobs whose worker died (lease expired) go back to the queue, or fail after max_attempts."""
        with db.engine.begin() as connection:
            for lost in queue.expired(connection):
                decision = get_retry_decision(lost.attempts, max_attempts, Cause.WORKER_LOST)
                if decision.retry:
                    queue.requeue_lost(connection, lost.id)
                else:
                    queue.fail_lost(connection, lost)
                status = JobStatus.QUEUED if decision.retry else JobStatus.FAILED
                log.warning("job lease expired", extra={"job_id": str(lost.id), "status": status})

    def _mail_loop(self) -> None:
        """Send due mail every poll, and drop dead sign-ins, spent tokens and year-old activity every hour."""
        config = self.app.config
        next_tidy = 0.0
        while not self._stop.wait(config["JOB_POLL_SECONDS"]):
            try:
                with self.app.app_context():
                    mail.send_due(config)
                    if time.monotonic() >= next_tidy:
                        accounts.forget_stale(config["TOKEN_IDLE_HOURS"])
                        next_tidy = time.monotonic() + TIDY_SECONDS
            except DATABASE_DOWN:
                pass  # the dispatcher reports the outage; the mail waits in its table
            except Exception:
                log.exception("mail sender error")

    def _heartbeat_loop(self) -> None:
        config = self.app.config
        while not self._stop.wait(config["JOB_HEARTBEAT_SECONDS"]):
            with self._lock:
                running = list(self._running)
            if not running:
                continue
            try:
                with self.app.app_context(), db.engine.begin() as connection:
                    queue.heartbeat(connection, running, self.worker_id, config["JOB_LEASE_SECONDS"])
            except DATABASE_DOWN:
                pass  # the dispatcher reports the outage; a lease lost meanwhile is recovered by the sweep
            except Exception:
                log.exception("job heartbeat error")

    def _progress(self, job_id: uuid.UUID, clock: metrics.StageClock):
        def report(done: int, total: int, stage: str) -> None:
            clock.enter(stage)
            with db.engine.begin() as connection:
                queue.report_progress(connection, job_id, self.worker_id, done, total, stage)

        return report

    def _run(self, job: queue.Claimed) -> None:
        config = self.app.config
        started = time.perf_counter()
        clock = metrics.StageClock()
        outcome = Outcome(JobStatus.COMPLETED)
        try:
            with self.app.app_context():
                try:
                    analyze_session(
                        job.session_id, analysis_settings(config), self._progress(job.id, clock), commit=False
                    )
                except FileNotFoundError:
                    db.session.rollback()
                    outcome = Outcome(
                        JobStatus.FAILED, "image_missing", "An image of this session could not be read from storage."
                    )
                except ApiError as exc:
                    db.session.rollback()
                    outcome = Outcome(JobStatus.FAILED, exc.code, exc.message)
                except TRANSIENT_ERRORS as exc:
                    db.session.rollback()
                    decision = get_retry_decision(job.attempts, config["JOB_MAX_ATTEMPTS"], Cause.TRANSIENT_ERROR)
                    message = f"{type(exc).__name__} while analysing; " + (
                        "it will be retried." if decision.retry else "attempts exhausted."
                    )
                    status = JobStatus.QUEUED if decision.retry else JobStatus.FAILED
                    outcome = Outcome(status, Cause.TRANSIENT_ERROR.value, message, decision.delay_seconds)
                except Exception as exc:
                    db.session.rollback()
                    log.exception("analysis failed", extra={"job_id": str(job.id)})
                    message = f"The analysis could not be completed ({type(exc).__name__})."
                    outcome = Outcome(JobStatus.FAILED, "analysis_error", message)
                clock.close()
                try:
                    self._record(job, outcome, time.perf_counter() - started)
                except DATABASE_DOWN as exc:
                    # Nothing was written: the lease expires and the job runs again (once the database is back,
                    # or at once when it only lost a deadlock to an erasure or another writer).
                    db.session.rollback()
                    if not contended(exc):
                        outage.watch.failed(self.app, exc)
        finally:
            with self._lock:
                self._running.discard(job.id)
            self._wake.set()
            with self._finished:
                self._finished_jobs += 1
                self._finished.notify_all()

    def _record(self, job: queue.Claimed, outcome: Outcome, seconds: float) -> None:
        """Final state, log row and result commit together, only if we still hold the lease: one store call per
        outcome."""
        metrics.STAGES.labels(metrics.TOTAL_STAGE).observe(seconds)
        status, error_code = outcome.status, outcome.error_code
        if status == JobStatus.COMPLETED:
            recorded = queue.complete(job, self.worker_id, seconds)
        elif status == JobStatus.QUEUED:
            recorded = queue.retry(job, self.worker_id, seconds, error_code, outcome.message, outcome.delay_seconds)
        else:
            recorded = queue.fail(job, self.worker_id, seconds, error_code, outcome.message)
        if not recorded:
            metrics.ANALYSES.labels("lease_lost").inc()
            db.session.rollback()
            log.warning("job lease lost; result discarded", extra={"job_id": str(job.id)})
            return
        db.session.commit()
        # A transient failure put back in the queue is a retry, not an outcome.
        metrics.ANALYSES.labels("retry" if status == JobStatus.QUEUED else status).inc()
        log.info(
            "analysis finished",
            extra={
                "session_id": str(job.session_id),
                "job_id": str(job.id),
                "status": status,
                "attempt": job.attempts,
                "processing_time_s": round(seconds, 3),
                "error_code": error_code,
            },
        )
