"""Shared test fixtures."""

import pathlib

import pytest

import sim_service.engine  # noqa: F401  (float64 on)

VECTORS_DIR = pathlib.Path(__file__).parent / "vectors"


@pytest.fixture(scope="session")
def vectors_dir() -> pathlib.Path:
    return VECTORS_DIR
