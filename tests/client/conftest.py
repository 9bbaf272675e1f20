"""Services for the client tests: the client's own embedded pair (no address configured) and a
separately started pair reached through QUANTAMM_SIM_ADDRESS / QUANTAMM_TRAIN_ADDRESS."""

from __future__ import annotations

import copy
from typing import Iterator

import pytest

from client import embedded
from client.embedded import LOOPBACK_ANY_PORT, ServiceProcess

# The training guide's BTC/ETH momentum fingerprint (its dates lie inside the bundled data).
GUIDE_FINGERPRINT = {
    "tokens": ["BTC", "ETH"],
    "rule": "momentum",
    "startDateString": "2024-01-01 00:00:00",
    "endDateString": "2024-03-01 00:00:00",
    "endTestDateString": "2024-04-01 00:00:00",
    "chunk_period": 60,
    "return_val": "daily_log_sharpe",
    "initial_pool_value": 1000000.0,
}


def guide_fingerprint() -> dict:
    return copy.deepcopy(GUIDE_FINGERPRINT)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("quantamm-cache"))


@pytest.fixture
def embedded_only(monkeypatch, cache_dir) -> Iterator[None]:
    """No address configured: the client starts (and at the end of the session stops) its own
    services, keeping jobs under the test's cache folder."""
    monkeypatch.delenv(embedded.SIM_ENV, raising=False)
    monkeypatch.delenv(embedded.TRAIN_ENV, raising=False)
    monkeypatch.setenv("QUANTAMM_CACHE_DIR", cache_dir)
    yield


@pytest.fixture(scope="session", autouse=True)
def stop_embedded_at_end() -> Iterator[None]:
    yield
    embedded.stop_embedded()


@pytest.fixture(scope="session")
def separate_services(tmp_path_factory, cache_dir) -> Iterator[dict[str, ServiceProcess]]:
    """A sim_service and a train_service started apart from the client, as a user would."""
    folder = tmp_path_factory.mktemp("separate")
    sim = ServiceProcess("sim_service", [*LOOPBACK_ANY_PORT, "--cache-dir", cache_dir],
                         folder / "sim.log")
    sim.wait_started()
    train = ServiceProcess("train_service", [*LOOPBACK_ANY_PORT, "--sim-address", sim.address,
                                             "--store", f"sqlite:///{folder / 'jobs.sqlite'}"],
                           folder / "train.log")
    train.wait_started()
    yield {"sim": sim, "train": train}
    train.stop()
    sim.stop()


@pytest.fixture
def via_environment(monkeypatch, separate_services) -> dict[str, ServiceProcess]:
    monkeypatch.setenv(embedded.SIM_ENV, separate_services["sim"].address)
    monkeypatch.setenv(embedded.TRAIN_ENV, separate_services["train"].address)
    return separate_services
