"""Operator commands under `flask bcd`: re-embedding stored sessions after a model change."""

import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..constants import JobStatus
from ..services import submissions
from ..store.jobs import stale_sessions
from ..vision.embeddings import embedder

bcd = AppGroup("bcd", help="BCD backend maintenance.")
POLL_SECONDS = 2.0


@bcd.command("reembed")
@click.option("--dry-run", is_flag=True, help="Only count the sessions that would be re-computed.")
@click.option("--wait", is_flag=True, help="Stay and print progress until the queued sessions are done.")
@click.option("--work", is_flag=True, help="Run a worker pool in this process too (implies --wait).")
@click.option("--timeout", type=float, default=None, help="Give up waiting after this many seconds.")
def reembed(dry_run: bool, wait: bool, work: bool, timeout: float | None) -> None:
    """Re-compute, in the background job pool, every analysed session whose vectors come from another model.

    The old model's vectors are kept; the images kept in storage are embedded again with the
    configured model, oldest session first per user, after any user's own requests.
    """
    version = embedder.info().version
    if dry_run:
        click.echo(f"{stale_sessions(version)} analysed sessions are not yet on model {version}.")
        return
    click.echo(f"queued {submissions.queue_reembed(version)} sessions for re-embedding with model {version}.")
    if not (wait or work):
        return
    runner = current_app.extensions["job_runner"]
    if work:
        runner.start()
    try:
        _wait(timeout)
    finally:
        if work:
            runner.shutdown()


def _wait(timeout: float | None) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        counts = submissions.reembed_counts()
        pending = counts.get(JobStatus.QUEUED, 0) + counts.get(JobStatus.RUNNING, 0)
        done, failed = counts.get(JobStatus.COMPLETED, 0), counts.get(JobStatus.FAILED, 0)
        click.echo(f"pending {pending}, completed {done}, failed {failed}")
        if pending == 0:
            return
        if deadline is not None and time.monotonic() >= deadline:
            raise click.ClickException(f"{pending} sessions still pending after {timeout:g} s.")
        time.sleep(POLL_SECONDS)


def init_app(app: Flask) -> None:
    """Register the command group."""
    app.cli.add_command(bcd)
