"""How busy this process is with requests: background work on uploaded photos waits for a quiet moment (for a
bounded time) rather than take the CPU and the interpreter's lock from requests in flight."""

import threading

from flask import Flask, g, request

# Requests that never wait for background work, so they do not count as busy (probes and scrapes).
_UNCOUNTED = ("/health", "/ready", "/metrics")


class RequestGate:
    """Counts this process's requests in flight; background work waits until none is (or a timeout)."""

    def __init__(self) -> None:
        self._quiet = threading.Condition()
        self._in_flight = 0

    def enter(self) -> None:
        """A request began."""
        with self._quiet:
            self._in_flight += 1

    def leave(self) -> None:
        """A request ended."""
        with self._quiet:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._quiet.notify_all()

    def wait_quiet(self, timeout: float) -> bool:
        """Wait (without holding the interpreter's lock) until no request is in flight, at most `timeout` seconds;
        whether it is quiet."""
        with self._quiet:
            return self._quiet.wait_for(lambda: self._in_flight == 0, timeout)


gate = RequestGate()


def _enter() -> None:
    if request.path not in _UNCOUNTED:
        g.counted_busy = True
        gate.enter()


def _leave(_exc: BaseException | None) -> None:
    if g.pop("counted_busy", False):
        gate.leave()


def init_app(app: Flask) -> None:
    """Count the app's requests in flight."""
    app.before_request(_enter)
    app.teardown_request(_leave)
