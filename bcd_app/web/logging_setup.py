"""Logging: one line per event with the request id; JSON lines in production."""

import json
import logging

from flask import Flask, g, has_request_context

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged too.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Adds the current request id (or '-') to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else getattr(record, "request_id", "-")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        body = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        body.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            body["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(body, default=str)


class TextFormatter(logging.Formatter):
    """Plain text with the extra fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD)
        return f"{super().format(record)} {extras}".rstrip()


def init_app(app: Flask) -> None:
    """Configure the `bcd_app` logger once per process."""
    logger = logging.getLogger("bcd_app")
    logger.setLevel(app.config["LOG_LEVEL"])
    if any(isinstance(h.formatter, (JsonFormatter, TextFormatter)) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if app.config["LOG_JSON"]:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    logger.addHandler(handler)
    logger.propagate = True
