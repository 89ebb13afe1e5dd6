"""Database outages: one log line when one begins and one when it ends, the pool's idle connections let go
(so a stopping server is not held open and a restarted one is reached afresh), the embedded server revived."""

import logging
import threading
import time

from flask import Flask

from ..db import db
from . import embedded_db

log = logging.getLogger(__name__)
# At most one attempt to restart the embedded server per process in this many seconds.
REVIVE_INTERVAL_SECONDS = 5.0


class OutageWatch:
    """This process's view of the database: up, or down since the first failure."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down = False
        self._last_revive = 0.0

    def failed(self, app: Flask, exc: Exception) -> None:
        """A statement could not reach the database (call inside an app context)."""
        with self._lock:
            first, self._down = not self._down, True
            revive = time.monotonic() - self._last_revive >= REVIVE_INTERVAL_SECONDS
            if revive:
                self._last_revive = time.monotonic()
        if first:
            log.warning("database unreachable", extra={"error_type": type(exc).__name__})
        db.engine.dispose()
        pgdata = app.config.get("EMBEDDED_PGDATA_IN_USE")
        if pgdata and revive:
            embedded_db.revive(pgdata)

    def recovered(self) -> None:
        """A statement reached the database again."""
        with self._lock:
            was_down, self._down = self._down, False
        if was_down:
            log.info("database reachable again")


watch = OutageWatch()
