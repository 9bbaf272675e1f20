"""A real sim_service and a training server over it, in this process on loopback ports."""

from __future__ import annotations

from typing import Iterator

import pytest

from sim_service.server import create_server
from train_service.server import create_server as create_trainer


@pytest.fixture(scope="session")
def loopback_services(tmp_path_factory) -> Iterator[dict[str, str]]:
    """Addresses (``sim``, ``train``) of a sim_service with the bundled data and a training
    service (SQLite job store) using it."""
    folder = tmp_path_factory.mktemp("wire-errors")
    sim_server, _, sim_port, _ = create_server(host="127.0.0.1", port=0,
                                               data_dir=str(tmp_path_factory.mktemp("data")))
    sim = f"127.0.0.1:{sim_port}"
    train_server, _, train_port, manager = create_trainer(
        [sim], f"sqlite:///{folder / 'train.sqlite'}", host="127.0.0.1")
    yield {"sim": sim, "train": f"127.0.0.1:{train_port}"}
    manager.shutdown()
    train_server.stop(0)
    sim_server.stop(0)
