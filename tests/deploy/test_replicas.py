"""Scale-out: one training job's Evaluate calls reach every sim_service replica.

Three sim_service processes and a train_service process on loopback, configured the two ways a
headless Service can reach it: a list of replica addresses (train_service's own per-call
round-robin), and one target that resolves to all three (``ipv4:a,b,c``, as
``dns:///quantamm-sim-headless:50051`` resolves to the pod IPs; gRPC ``round_robin`` within the
channel). Each replica's Evaluate count is read from its own JSON access log on stderr.
"""

from __future__ import annotations

import pathlib
from typing import Iterator

import pytest

from quantamm_api.v1 import training_pb2
from tests.train.conftest import (
    ServerProcess,
    gradient_request,
    run_job,
    start_sim,
    start_trainer,
    trainer_stub,
)

EVALUATE = "/quantamm.v1.SimulationService/Evaluate"
N_ITERATIONS = 12


def evaluate_calls(replica: ServerProcess) -> int:
    """Evaluate calls this replica has answered so far (its ``request`` access-log lines)."""
    return sum(1 for r in list(replica.records)
               if r.get("event") == "request" and r.get("method") == EVALUATE)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory) -> Iterator[list[ServerProcess]]:
    cache_dir = tmp_path_factory.mktemp("cache")
    started: list[ServerProcess] = []
    try:
        for _ in range(3):
            started.append(start_sim(cache_dir))
        yield started
    finally:
        for replica in started:
            replica.kill()


def targets(replicas: list[ServerProcess]) -> dict[str, str]:
    listed = ",".join(r.address for r in replicas)
    return {"list": listed, "one-target": f"ipv4:{listed}"}


@pytest.mark.parametrize("form", ["list", "one-target"])
def test_one_training_job_reaches_every_replica(replicas, form, tmp_path: pathlib.Path):
    sim_address = targets(replicas)[form]
    before = [evaluate_calls(r) for r in replicas]
    trainer = start_trainer(sim_address, f"sqlite:///{tmp_path / 'train.sqlite'}", tmp_path)
    try:
        job = run_job(trainer_stub(trainer.address),
                      gradient_request(n_iterations=N_ITERATIONS, report_every=4), timeout=300)
    finally:
        trainer.kill()
    assert job.state == training_pb2.JOB_STATE_SUCCEEDED, job.message
    calls = [evaluate_calls(r) - b for r, b in zip(replicas, before)]
    print(f"{form}: Evaluate calls per replica {calls}")
    assert sum(calls) >= N_ITERATIONS  # one Evaluate(with_gradient) per iteration, at least
    assert min(calls) > 0, calls
    # Round-robin: no replica gets more than twice its fair share.
    assert max(calls) <= 2 * sum(calls) / len(calls), calls
