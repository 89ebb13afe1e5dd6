"""Operator commands under `flask bcd`: re-embedding stored sessions after a model change; the master key of the
photo encryption (a new one, rotation) and sealing what an older version stored in plain."""

import os
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..constants import JobStatus
from ..errors import ApiError
from ..services import backup, privacy, submissions
from ..store import keys
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


@bcd.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def backup_command(dest: Path) -> None:
    """Back up the database (pg_dump, one snapshot) and every stored object (sealed) into DEST."""
    try:
        backup.backup(dest, report=click.echo)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"backup written to {dest}; the master key is not in it: keep its file backed up apart")


@bcd.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(src: Path) -> None:
    """Restore a backup from SRC into an empty database and an empty storage (the same master key must be set)."""
    try:
        backup.restore(src, report=click.echo)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    click.echo("restored; start the service")


@bcd.command("new-master-key")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def new_master_key(path: Path) -> None:
    """Write a new master key file (0600) for BCD_MASTER_KEY_FILE; refuses to overwrite one."""
    if path.exists():
        raise click.ClickException(f"{path} exists: a master key is never overwritten (rotate it instead).")
    keys.write_key_file(path, keys.Keyring({1: os.urandom(keys.KEY_BYTES)}))
    click.echo(f"wrote {path}; set BCD_MASTER_KEY_FILE={path} and back it up apart from the data")


@bcd.command("rotate-master-key")
def rotate_master_key() -> None:
    """Add a master key version to the key file and re-wrap every user key under it (no photo is touched;
    resumable). Keep the old versions in the file while backups wrapped under them are kept."""
    config = current_app.config
    if config["MASTER_KEY"] and not config["MASTER_KEY_FILE"]:
        raise click.ClickException(
            "rotation needs the key in a file: set BCD_MASTER_KEY_FILE instead of BCD_MASTER_KEY"
        )
    path = Path(config["MASTER_KEY_FILE"] or config["DEV_MASTER_KEY_FILE"])
    done = keys.rotate(current_app._get_current_object(), path, report=click.echo)
    click.echo(f"done: {done} user keys re-wrapped; running servers read the new version from the file on first use")


@bcd.command("seal-existing")
def seal_existing() -> None:
    """Seal the photos, copies and feature maps an older version stored in plain (idempotent, resumable)."""
    privacy.seal_existing(report=click.echo)


def init_app(app: Flask) -> None:
    """Register the command group."""
    app.cli.add_command(bcd)
