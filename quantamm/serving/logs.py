"""structlog configuration: JSON lines for services, key=value for the command line."""

from __future__ import annotations

import logging
import sys

import structlog


class CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of writing (it may be replaced after
    configuration, e.g. by a test runner's capture)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(json: bool = True, level: str = "INFO") -> None:
    """Route structlog (and stdlib logging) to stderr as JSON or key=value lines."""
    renderer = structlog.processors.JSONRenderer() if json else structlog.processors.KeyValueRenderer(
        key_order=["timestamp", "level", "event"]
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=CurrentStderr()),
        cache_logger_on_first_use=False,
    )
