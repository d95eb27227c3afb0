"""The server's log: one JSON object per line on stderr (time, level, logger, message), for qa's
own records and uvicorn's alike, so a log collector reads it without a parser of its own.

A record made while a request runs carries its `request_id` (api/observe.py sets it; it reaches
worker threads with the context), and an access record (logger `api.access`) its fields: method,
path, route, status, duration_ms, client. uvicorn's own access lines are off: ours replace them.
"""

from __future__ import annotations

import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


class JsonLinesFormatter(logging.Formatter):
    """A record as one line of JSON; an exception's traceback goes into `error`, still on that line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def stderr_handler() -> logging.Handler:
    """The server's handler, made in each process (uvicorn's workers too): JSON lines on stderr.
    A crash no Python code can catch (SIGBUS from a memory-mapped file truncated while it is
    read, SIGSEGV) still leaves the thread's traceback there, instead of a silent exit."""
    import faulthandler
    import sys

    faulthandler.enable(sys.stderr)
    return logging.StreamHandler(sys.stderr)


def log_config(level: str = "INFO") -> dict:
    """A `logging.config.dictConfig` (also uvicorn's `log_config`, so worker processes use it):
    every record reaches the root logger's one JSON handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "api.logs.JsonLinesFormatter"}},
        "handlers": {"stderr": {"()": "api.logs.stderr_handler", "formatter": "json"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            **{name: {"handlers": [], "propagate": True, "level": level} for name in ("uvicorn", "uvicorn.error")},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def configure_logging(level: str = "INFO") -> dict:
    """Send this process's log records to stderr as JSON lines; returns the configuration."""
    config = log_config(level)
    logging.config.dictConfig(config)
    return config
