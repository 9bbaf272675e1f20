"""The Node client (clients/node, @grpc/grpc-js + @grpc/proto-loader, protos loaded at run time)
against real sim_service and train_service processes: its rules, its simulated pool decoded from
tensor bytes, the field violation it reads from a refused request's status details and its
training job must equal what the Python client gets for the same requests.
``make`` installs its node_modules (npm ci) with the virtual environment."""

from __future__ import annotations

import json
import math
import pathlib
import shutil
import subprocess
from typing import Iterator

import grpc
import numpy as np
import pytest

from quantamm_api.v1 import training_pb2
from client.errors import InvalidArgumentError
from client.sim import SimClient
from quantamm.wire.tensors import from_tensor
from tests.train.conftest import (
    REPO,
    comparable,
    gradient_request,
    run_job,
    start_sim,
    start_trainer,
    trainer_stub,
)

NODE_CLIENT = REPO / "clients" / "node"
SIMULATE = ({"tokens": ["BTC", "ETH", "USDC"], "rule": "momentum",
             "startDateString": "2023-01-01 00:00:00", "endDateString": "2023-01-15 00:00:00",
             "chunk_period": 60, "weight_interpolation_period": 60},
            {"memory_days": [5.0] * 3, "k_per_day": [20.0] * 3})  # as smoke.js sends them


def array(decoded: dict) -> np.ndarray:
    """Node's {shape, values} (NaN sent as null) as a float64 array."""
    return np.array(decoded["values"], dtype=np.float64).reshape(decoded["shape"])


def same_numbers(node: dict, python: dict) -> bool:
    return node.keys() == python.keys() and all(
        (node[k] is None and math.isnan(python[k])) or node[k] == python[k] for k in node)


@pytest.fixture(scope="module")
def services(tmp_path_factory) -> Iterator[dict]:
    cache = tmp_path_factory.mktemp("cache")
    sim = start_sim(cache)
    try:
        trainer = start_trainer(sim.address, f"sqlite:///{cache / 'train.sqlite'}", cache)
        try:
            yield {"sim": sim.address, "train": trainer.address}
        finally:
            trainer.kill()
    finally:
        sim.kill()


@pytest.fixture(scope="module")
def node_run(services) -> dict:
    node = shutil.which("node")
    assert node, "node (v20+) is needed on PATH for the Node client"
    assert (NODE_CLIENT / "node_modules" / "@grpc" / "grpc-js").is_dir(), \
        "run `make test` (its setup runs npm ci in clients/node)"
    done = subprocess.run([node, "smoke.js", "--sim", services["sim"], "--train", services["train"]],
                          cwd=NODE_CLIENT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_node_lists_the_rules_python_lists(node_run, services):
    with SimClient(services["sim"]) as sim:
        assert node_run["rules"] == [rule.name for rule in sim.list_rules()]
    assert "momentum" in node_run["rules"]


def test_node_decodes_the_simulation_python_gets(node_run, services):
    with SimClient(services["sim"]) as sim:
        python = sim.simulate(*SIMULATE, stride_minutes=60)
    node = node_run["simulation"]
    assert node["tokens"] == python.tokens and node["n_rows"] == len(python.values) == 14 * 24
    assert node["final_value_usd"] == python.final_value
    assert same_numbers(node["metrics"], python.metrics)
    for name in ("values", "weights", "reserves", "prices"):
        np.testing.assert_array_equal(array(node[name]), getattr(python, name), err_msg=name)
    np.testing.assert_array_equal(array(node["final_weights"]), python.final_weights)
    assert array(node["weights"]).shape == (14 * 24, 3)


def test_node_reads_the_field_violation_of_a_refused_request(node_run, services):
    refused = node_run["refused"]
    assert refused is not None, "smoke.js's bad Simulate was not refused"
    field, description = "fingerprint.maximum_change_per_minute", "must be in (0, 1], got -1.0"
    assert refused["code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert refused["violations"] == [{"field": field, "description": description}]
    assert refused["field"] == field
    assert refused["details"] == f"{field}: {description}"  # the text as before the details
    with SimClient(services["sim"]) as sim, pytest.raises(InvalidArgumentError) as python:
        sim.simulate({**SIMULATE[0], "maximum_change": -1.0}, SIMULATE[1], stride_minutes=60)
    assert python.value.violations == [(field, description)]
    assert python.value.details == refused["details"]


def test_node_training_job_matches_the_same_job_started_from_python(node_run, services):
    node = node_run["training"]
    # n_iterations=4 runs iterations 0..4, as the reference does
    assert node["state"] == "JOB_STATE_SUCCEEDED" and node["iterations_done"] == 5
    iterations = [e["iteration"] for e in node["events"] if e["iteration"] is not None]
    assert iterations == sorted(iterations) and iterations[-1] == 4, node["events"]

    stub = trainer_stub(services["train"])
    request = gradient_request(n_iterations=4, report_every=1)
    from_node = stub.GetJob(training_pb2.GetJobRequest(job_id=node["job_id"])).job
    assert from_node.fingerprint == request.fingerprint and from_node.settings == request.settings
    from_python = run_job(stub, request)
    assert from_python.state == training_pb2.JOB_STATE_SUCCEEDED
    assert comparable(from_node.result) == comparable(from_python.result)

    result = from_python.result
    assert node["final_objective"] == result.final_objective
    assert same_numbers(node["test_metrics"], dict(result.test_metrics))
    assert node["best_parameters"].keys() == result.best_parameters.values.keys()
    for name, tensor in result.best_parameters.values.items():
        np.testing.assert_array_equal(array(node["best_parameters"][name]), from_tensor(tensor))
