"""Shared test fixtures."""

import pathlib

import pytest

from sim_service.engine import configure

configure()  # float64 and the engine's XLA option, before any test makes an array

VECTORS_DIR = pathlib.Path(__file__).parent / "vectors"


@pytest.fixture(scope="session")
def vectors_dir() -> pathlib.Path:
    return VECTORS_DIR


@pytest.fixture
def all_logs():
    """structlog's entries of every level during the test (``capture_logs`` alone misses the
    levels that an earlier ``configure(level=...)`` filters out); the configuration is restored."""
    import logging

    import structlog
    from structlog.testing import capture_logs

    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs() as entries:
            yield entries
    finally:
        structlog.configure(**saved)
