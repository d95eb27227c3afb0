"""The server's log: one JSON object per line on stderr (time, level, logger, message), for qa's
own records and uvicorn's alike, so a log collector reads it without a parser of its own."""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime


class JsonLinesFormatter(logging.Formatter):
    """A record as one line of JSON; an exception's traceback goes into `error`, still on that line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_config(level: str = "INFO") -> dict:
    """A `logging.config.dictConfig` (also uvicorn's `log_config`, so worker processes use it):
    every record reaches the root logger's one JSON handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "api.logs.JsonLinesFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": level}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure_logging(level: str = "INFO") -> dict:
    """Send this process's log records to stderr as JSON lines; returns the configuration."""
    config = log_config(level)
    logging.config.dictConfig(config)
    return config
