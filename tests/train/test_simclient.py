"""The replica-aware client (train_service.simclient): the next replica on a failure, never a
retry of a refusal."""

import grpc
import pytest

from quantamm_api.v1 import simulation_pb2
from train_service.errors import SimulationError
from train_service.simclient import SimClient


def test_client_moves_to_the_next_replica_and_never_retries_refusals(sim_address):
    dead = "127.0.0.1:9"  # discard port: connection refused
    sim = SimClient([dead, sim_address], backoff_seconds=0.01, timeout_seconds=30)
    assert sim.rule("momentum").name == "momentum"
    with pytest.raises(SimulationError) as refused:
        sim.evaluate(simulation_pb2.EvaluateRequest(dataset="default"))
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(SimulationError) as down:
        SimClient([dead], attempts=2, backoff_seconds=0.01).rule("momentum")
    assert down.value.code == grpc.StatusCode.UNAVAILABLE
