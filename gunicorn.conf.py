"""Gunicorn settings for the single-VM deploy: `gunicorn -c gunicorn.conf.py wsgi:app`."""

import os
import shutil
import signal
from pathlib import Path

# Each worker runs its own bounded analysis pool; the job table coordinates them.
os.environ.setdefault("JOBS_AUTOSTART", "1")
# Prometheus multiprocess mode: every worker writes its counters here, /metrics adds them up. Set before
# any worker imports prometheus_client; one folder per master (by its bind), emptied when it starts.
_metrics_dir = Path(__file__).resolve().parent / "instance" / "prometheus" / os.environ.get("BIND", "127.0.0.1:8000")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_metrics_dir).replace(":", "_"))

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Requests are short (analysis runs in the pool), so a stuck request is a real fault.
timeout = 60
# SIGTERM: stop accepting, finish requests, then the pool has this long to finish or release jobs.
graceful_timeout = 40
keepalive = 5
# The pool must start after the fork, in each worker (never under --preload).
preload_app = False
accesslog = None
errorlog = "-"


def on_starting(_server) -> None:
    """Start with empty metric files, tune malloc, and load the model in the master so every worker
    shares its pages (copy-on-write) instead of loading its own."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    from bcd_app.web.memory import tune_malloc

    tune_malloc()
    if os.environ.get("PRELOAD_MODEL", "1") == "1":
        from bcd_app.vision.embeddings import embedder

        # One runtime thread in the master: a fork after a multi-threaded region can hang the child.
        embedder.configure(os.environ.get("EMBEDDING_MODEL_PATH"), 1, os.environ.get("MODEL_CACHE_DIR"))
        embedder.info()


def child_exit(_server, worker) -> None:
    """A worker's live gauges leave with it (its counters stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _job_runner(worker):
    app = getattr(worker, "wsgi", None)
    return getattr(app, "extensions", {}).get("job_runner")


def post_worker_init(worker) -> None:
    """On SIGTERM, stop claiming jobs at once, then let gunicorn's own handler begin its graceful exit.

    Gunicorn's exit hook runs only once the worker's requests are done; claiming until then
    would start analyses the shutdown must then wait for or abandon.
    """
    runner = _job_runner(worker)
    if runner is None:
        return
    gunicorn_handler = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame) -> None:
        runner.drain()
        gunicorn_handler(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)


def worker_exit(_server, worker) -> None:
    """Graceful shutdown of the worker's analysis pool: finish or release its jobs."""
    runner = _job_runner(worker)
    if runner is not None:
        runner.shutdown(timeout=graceful_timeout - 10)
