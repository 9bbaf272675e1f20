"""Shared test fixtures."""

import pathlib

import pytest

from sim_service.engine import configure

configure()  # float64 and the engine's XLA option, before any test makes an array

VECTORS_DIR = pathlib.Path(__file__).parent / "vectors"


@pytest.fixture(scope="session")
def vectors_dir() -> pathlib.Path:
    return VECTORS_DIR
