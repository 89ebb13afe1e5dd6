"""Prometheus metrics: requests, analyses and their stages, rejections, upload sizes, jobs by status read
from the table at scrape time, and the model version. Every gunicorn worker counts (prometheus-client's
multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set, as gunicorn.conf.py does)."""

import ipaddress
import os
import time

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from spectree import Response as Responses

from ..constants import AnalysisStage, JobStatus
from ..db import db
from ..errors import Forbidden
from ..store import jobs as job_rows
from ..vision.embeddings import embedder
from .extensions import spec

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("bcd_http_requests", "HTTP requests answered.", ["method", "route", "status"])
LATENCY = Histogram(
    "bcd_http_request_duration_seconds",
    "Time to answer a request.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
ANALYSES = Counter("bcd_analyses", "Analysis runs finished, by outcome.", ["outcome"])
STAGES = Histogram(
    "bcd_analysis_stage_duration_seconds",
    "Time an analysis spends in each stage (and in total).",
    ["stage"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PHOTO_FEATURES = Histogram(
    "bcd_photo_features_duration_seconds",
    "Time to compute one uploaded photo's model output in the background (before any analysis asks for it).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
PHOTO_COMPARISON = Histogram(
    "bcd_photo_comparison_duration_seconds",
    "Time to compare one uploaded photo with the baseline's photo of its angle in the background.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
REJECTIONS = Counter(
    "bcd_rejections", "Requests refused by a limit: daily quota, burst limit, full queue, login lockout.", ["limit"]
)
UPLOAD_BYTES = Histogram(
    "bcd_upload_bytes", "Size of accepted photo uploads.", buckets=tuple(2**n * 1024 for n in range(4, 16))
)
# Every value the labelled series will ever take, so each exists at 0 from the first scrape (a rate() works before
# the first event, as Prometheus's instrumentation guidance asks).
ANALYSIS_OUTCOMES = (JobStatus.COMPLETED.value, JobStatus.FAILED.value, "retry", "lease_lost")
TOTAL_STAGE = "total"
# The error codes that are a limit refusing work, as REJECTIONS labels them.
LIMIT_CODES = {
    "quota_exceeded": "daily_quota",
    "too_many_requests": "burst_limit",
    "queue_full": "queue_full",
    "too_many_attempts": "login_lockout",
}


class TableCollector:
    """Read at scrape time: jobs by status from the table (the queue depth of every server), the model."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):
        """Yield the job gauge and the model info."""
        jobs = GaugeMetricFamily("bcd_jobs", "Analysis jobs in the table, by status.", labels=["status"])
        with self.app.app_context():
            counts = job_rows.counts_by_status()
            db.session.remove()
        for status in JobStatus:
            jobs.add_metric([status.value], counts.get(status.value, 0))
        yield jobs
        model = embedder.info()
        info = InfoMetricFamily("bcd_model", "The embedder the vectors come from.")
        info.add_metric([], {"name": model.name, "version": model.version, "dim": str(model.dim)})
        yield info


class StageClock:
    """Times an analysis's stages as its progress reports enter them."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.since = time.perf_counter()

    def enter(self, stage: str) -> None:
        """The analysis moved to `stage` (the same stage again is ignored)."""
        if stage != self.stage:
            self.close()
            self.stage, self.since = stage, time.perf_counter()

    def close(self) -> None:
        """The current stage ended."""
        if self.stage is not None:
            STAGES.labels(self.stage).observe(time.perf_counter() - self.since)
            self.stage = None


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request."""
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def observe_rejection(code: str) -> None:
    """Count a refusal when the error code is a limit's."""
    if code in LIMIT_CODES:
        REJECTIONS.labels(LIMIT_CODES[code]).inc()


def _allowed(address: str | None, allowed: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in allowed)


@bp.get("/metrics")
@spec.validate(resp=Responses("HTTP_200", "HTTP_403"), tags=("operations",), security={})
def metrics():
    """The Prometheus exposition, for the configured addresses only (loopback by default)."""
    if not _allowed(request.remote_addr, current_app.config["METRICS_ALLOWED_NETWORKS"]):
        raise Forbidden("Metrics are not available from this address.")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    read = CollectorRegistry()
    read.register(TableCollector(current_app._get_current_object()))
    return Response(generate_latest(counted) + generate_latest(read), mimetype=CONTENT_TYPE_LATEST)


def _start_at_zero() -> None:
    """Create every labelled series of analyses, stages and rejections at 0 in this process."""
    for outcome in ANALYSIS_OUTCOMES:
        ANALYSES.labels(outcome)
    for stage in [*AnalysisStage, TOTAL_STAGE]:
        STAGES.labels(stage)
    for limit in LIMIT_CODES.values():
        REJECTIONS.labels(limit)


def init_app(app: Flask) -> None:
    """Register the endpoint; every series starts at 0."""
    _start_at_zero()
    app.register_blueprint(bp)
