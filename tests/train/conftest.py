"""Real servers on loopback for the training tests: a sim_service process shared by the
session, a training server in-process over it, and helpers to start more of either as
processes. Every test uses the same small run (train 2023-01-01 .. 01-21, test 7 days, windows
of 14 days, 2-day bout offset) so the simulator compiles each program once."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import threading
import time
from typing import Iterator

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from quantamm_api.v1 import training_pb2, training_pb2_grpc, types_pb2
from train_service.server import create_server

REPO = pathlib.Path(__file__).resolve().parents[2]
DAY = 86400
START = 1672531200  # 2023-01-01 UTC
TERMINAL = {training_pb2.JOB_STATE_SUCCEEDED, training_pb2.JOB_STATE_FAILED,
            training_pb2.JOB_STATE_CANCELLED, training_pb2.JOB_STATE_INTERRUPTED}


def fingerprint(test_days: int = 7) -> types_pb2.RunFingerprint:
    fp = types_pb2.RunFingerprint(tokens=["BTC", "ETH", "USDC"], rule="momentum",
                                  start_time=Timestamp(seconds=START),
                                  end_time=Timestamp(seconds=START + 20 * DAY))
    if test_days:
        fp.end_test_time.FromSeconds(START + (20 + test_days) * DAY)
    return fp


def gradient_request(n_iterations: int = 20, seed: int = 0, report_every: int = 5,
                     **gradient) -> training_pb2.StartJobRequest:
    """Adam on 2 sets x 4 windows per step."""
    options = {"optimiser": "adam", "base_lr": 0.05, "batch_size": 4, **gradient}
    return training_pb2.StartJobRequest(
        dataset="default", fingerprint=fingerprint(), display_name="gd",
        settings=training_pb2.TrainingSettings(
            method=training_pb2.TRAINING_METHOD_GRADIENT_DESCENT,
            gradient_descent=training_pb2.GradientDescentSettings(n_iterations=n_iterations,
                                                                  **options),
            bout_offset_minutes=2 * 1440, val_fraction=0.2, n_parameter_sets=2, seed=seed,
            report_every=report_every))


def optuna_request(n_trials: int = 12, n_jobs: int = 3, seed: int = 0,
                   **optuna) -> training_pb2.StartJobRequest:
    return training_pb2.StartJobRequest(
        dataset="default", fingerprint=fingerprint(), display_name="optuna",
        settings=training_pb2.TrainingSettings(
            method=training_pb2.TRAINING_METHOD_OPTUNA,
            optuna=training_pb2.OptunaSettings(n_trials=n_trials, n_jobs=n_jobs, **optuna),
            bout_offset_minutes=2 * 1440, val_fraction=0.2, seed=seed, report_every=1))


class ServerProcess:
    """A server started as ``python -m <args>``; a thread keeps reading its JSON log lines
    (so the pipe never fills) and the port comes from its start event."""

    def __init__(self, args: list[str], event: str, cache_dir: pathlib.Path,
                 timeout: float = 120.0) -> None:
        env = {**os.environ, "QUANTAMM_CACHE_DIR": str(cache_dir), "QUANTAMM_SIM_WORKERS": "4"}
        self.process = subprocess.Popen([sys.executable, "-m", *args], cwd=REPO, env=env,
                                        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                        text=True)
        self.records: list[dict] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self.port = self.wait_for(event, timeout)["port"]
        except Exception:
            self.kill()
            raise
        self.address = f"127.0.0.1:{self.port}"

    def _read(self) -> None:
        for line in self.process.stderr:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            with self._changed:
                self.records.append(record)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def events(self) -> list[str]:
        with self._changed:
            return [record.get("event") for record in self.records]

    def wait_for(self, event: str, timeout: float) -> dict:
        """The first log record whose event is ``event``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [r for r in self.records if r.get("event") == event]
                if found:
                    return found[0]
                if self.process.poll() is not None:
                    raise RuntimeError(f"process exited with {self.process.returncode}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {event} within {timeout} s")
                self._changed.wait(min(left, 0.5))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def start_sim(cache_dir: pathlib.Path, port: int = 0) -> ServerProcess:
    return ServerProcess(["sim_service", "--port", str(port), "--host", "127.0.0.1",
                          "--cache-dir", str(cache_dir)], "sim_service_started", cache_dir)


def start_trainer(sim_addresses: str, store_url: str, cache_dir: pathlib.Path) -> ServerProcess:
    return ServerProcess(["train_service", "--port", "0", "--host", "127.0.0.1",
                          "--sim-address", sim_addresses, "--store", store_url],
                         "train_service_started", cache_dir)


def wait_done(stub: training_pb2_grpc.TrainingServiceStub, job_id: str,
              timeout: float = 120.0) -> training_pb2.Job:
    """The job once it reached a terminal (or INTERRUPTED) state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = stub.GetJob(training_pb2.GetJobRequest(job_id=job_id), timeout=10).job
        if job.state in TERMINAL:
            return job
        time.sleep(0.1)
    raise TimeoutError(f"job {job_id} still {training_pb2.JobState.Name(job.state)}")


def run_job(stub, request: training_pb2.StartJobRequest,
            timeout: float = 120.0) -> training_pb2.Job:
    job_id = stub.StartJob(request, timeout=60).job_id
    return wait_done(stub, job_id, timeout)


def comparable(result: training_pb2.TrainingResult) -> bytes:
    """A result's bytes without its timing (NaN metrics compare equal this way)."""
    copy = training_pb2.TrainingResult()
    copy.CopyFrom(result)
    copy.ClearField("elapsed_seconds")
    return copy.SerializeToString(deterministic=True)


def trainer_stub(address: str) -> training_pb2_grpc.TrainingServiceStub:
    return training_pb2_grpc.TrainingServiceStub(grpc.insecure_channel(address))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> pathlib.Path:
    """Shared by every process: bundled minute data and the JAX compilation cache."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def sim_address(cache_dir) -> Iterator[str]:
    sim = start_sim(cache_dir)
    yield sim.address
    sim.kill()


@pytest.fixture(scope="session")
def trainer(sim_address, tmp_path_factory) -> Iterator[dict]:
    """An in-process training server over the session's sim_service process."""
    store = tmp_path_factory.mktemp("store") / "train.sqlite"
    server, _, port, manager = create_server([sim_address], f"sqlite:///{store}",
                                             host="127.0.0.1", max_jobs=4)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield {"stub": training_pb2_grpc.TrainingServiceStub(channel), "store": store,
           "manager": manager, "address": f"127.0.0.1:{port}"}
    channel.close()
    manager.shutdown()
    server.stop(0)


@pytest.fixture(scope="session")
def stub(trainer) -> training_pb2_grpc.TrainingServiceStub:
    return trainer["stub"]
