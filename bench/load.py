"""Load test on loopback: both servers started as processes, 32 concurrent clients mixing
Simulate, Evaluate and training jobs for 60 s.

Run: ``python bench/load.py [--clients 32] [--seconds 60] [--max-growth-mib 256]``. Prints
throughput, p50/p99 latency per kind of call and overall, the error count, and each server's
resident memory (RSS) after warm-up and after the run. Exits non-zero when a call failed or a
server's RSS grew by more than ``--max-growth-mib``.

The mix per client call: 45% Simulate (3 days, 3 tokens, streamed), 45% Evaluate (4 sets x 4
one-day windows, with gradients), 10% a training job (StartJob of 2 gradient steps, then
WatchJob until it ends: its latency includes queueing behind other jobs).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import pathlib
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc

from quantamm_api.v1 import (
    simulation_pb2,
    simulation_pb2_grpc,
    training_pb2,
    training_pb2_grpc,
    types_pb2,
)
from quantamm.wire.tensors import to_tensor

REPO = pathlib.Path(__file__).resolve().parents[1]
START, DAY = 1672531200, 86400  # 2023-01-01 UTC
MIX = (("simulate", 0.45), ("evaluate", 0.45), ("train", 0.10))
TERMINAL = {training_pb2.JOB_STATE_SUCCEEDED, training_pb2.JOB_STATE_FAILED,
            training_pb2.JOB_STATE_CANCELLED, training_pb2.JOB_STATE_INTERRUPTED}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Resident memory of a process (VmRSS), MiB."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise OSError(f"no VmRSS for {pid}")


class Server:
    """``python -m <module> --port P ...`` with its log in a file; ready when health says so."""

    def __init__(self, module: str, args: list[str], log_dir: pathlib.Path) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log = open(log_dir / f"{module}.log", "w")
        env = {**os.environ, "QUANTAMM_LOG_LEVEL": "WARNING"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, "--port", str(self.port), "--host", "127.0.0.1", *args],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=self.log)

    def wait_ready(self, timeout: float = 120.0) -> None:
        channel = grpc.insecure_channel(self.address)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"exited with {self.process.returncode}; see {self.log.name}")
            try:
                status = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=2).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                time.sleep(0.2)
        raise TimeoutError(f"{self.address} not serving within {timeout} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def fingerprint(days: int, test_days: int = 0) -> types_pb2.RunFingerprint:
    fp = types_pb2.RunFingerprint(tokens=["BTC", "ETH", "USDC"], rule="momentum",
                                  start_time=Timestamp(seconds=START),
                                  end_time=Timestamp(seconds=START + days * DAY))
    if test_days:
        fp.end_test_time.FromSeconds(START + (days + test_days) * DAY)
    return fp


def parameters(memory_days: float) -> types_pb2.ParameterSet:
    return types_pb2.ParameterSet(values={"memory_days": to_tensor(np.array([memory_days])),
                                          "k_per_day": to_tensor(np.array([20.0]))})


def train_request(seed: int) -> training_pb2.StartJobRequest:
    return training_pb2.StartJobRequest(
        dataset="default", fingerprint=fingerprint(20, 7), display_name="load",
        settings=training_pb2.TrainingSettings(
            method=training_pb2.TRAINING_METHOD_GRADIENT_DESCENT,
            gradient_descent=training_pb2.GradientDescentSettings(
                n_iterations=2, optimiser="adam", base_lr=0.05, batch_size=4),
            bout_offset_minutes=2 * 1440, val_fraction=0.2, n_parameter_sets=2, seed=seed,
            report_every=1))


class Calls:
    """One call of each kind over shared channels; each blocks until its answer is complete."""

    def __init__(self, sim_address: str, train_address: str) -> None:
        sim, train = grpc.insecure_channel(sim_address), grpc.insecure_channel(train_address)
        self.sim_stub = simulation_pb2_grpc.SimulationServiceStub(sim)
        self.train_stub = training_pb2_grpc.TrainingServiceStub(train)

    def simulate(self, rng: random.Random) -> None:
        request = simulation_pb2.SimulateRequest(fingerprint=fingerprint(3),
                                                 parameters=parameters(rng.uniform(5, 30)))
        responses = list(self.sim_stub.Simulate(request, timeout=120))
        assert responses[0].summary.final_value_usd > 0

    def evaluate(self, rng: random.Random) -> None:
        request = simulation_pb2.EvaluateRequest(
            fingerprint=fingerprint(8), parameter_sets=[parameters(rng.uniform(5, 30))
                                                        for _ in range(4)],
            window_start_offsets_minutes=[0, 1440, 2880, 4320], window_length_minutes=1440,
            with_gradient=True)
        assert len(self.sim_stub.Evaluate(request, timeout=120).gradients) > 0

    def train(self, rng: random.Random) -> None:
        job_id = self.train_stub.StartJob(train_request(rng.randrange(1000)), timeout=120).job_id
        state = None
        for event in self.train_stub.WatchJob(training_pb2.WatchJobRequest(job_id=job_id),
                                         timeout=300):
            state = event.state
        if state != training_pb2.JOB_STATE_SUCCEEDED:
            job = self.train_stub.GetJob(training_pb2.GetJobRequest(job_id=job_id), timeout=30).job
            raise RuntimeError(f"job {job_id} {training_pb2.JobState.Name(job.state)}: "
                               f"{job.message}")


def run_load(calls: Calls, clients: int, seconds: float) -> tuple[dict, list[str], float]:
    """Latencies (s) per kind, error messages and the elapsed time of ``clients`` threads
    calling for ``seconds``."""
    latencies: dict[str, list[float]] = {kind: [] for kind, _ in MIX}
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        rng = random.Random(index)
        kinds, weights = zip(*MIX)
        while time.monotonic() < stop_at:
            kind = rng.choices(kinds, weights)[0]
            begin = time.perf_counter()
            try:
                getattr(calls, kind)(rng)
            except Exception as error:  # noqa: BLE001 (every failure is counted)
                with lock:
                    errors.append(f"{kind}: {error}")
                continue
            with lock:
                latencies[kind].append(time.perf_counter() - begin)

    began = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return latencies, errors, time.perf_counter() - began


def percentile_ms(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-growth-mib", type=float, default=256.0,
                        help="fail when a server's RSS grows more than this during the run")
    args = parser.parse_args()
    cache = os.environ.get("QUANTAMM_CACHE_DIR") or str(pathlib.Path.home() / ".cache" / "quantamm")
    with tempfile.TemporaryDirectory(prefix="quantamm-load-") as folder:
        logs = pathlib.Path(folder)
        sim = Server("sim_service", ["--cache-dir", cache], logs)
        trainer = None
        try:
            sim.wait_ready()
            trainer = Server("train_service", ["--sim-address", sim.address,
                                               "--store", f"sqlite:///{logs / 'train.sqlite'}"],
                             logs)
            trainer.wait_ready()
            calls = Calls(sim.address, trainer.address)
            warm = time.perf_counter()
            for kind, _ in MIX:  # compile every program once, outside the measurement
                getattr(calls, kind)(random.Random(0))
            print(f"warm-up (compiles) {time.perf_counter() - warm:.1f} s")
            servers = {"sim_service": sim.process.pid, "train_service": trainer.process.pid}
            before = {name: rss_mib(pid) for name, pid in servers.items()}
            latencies, errors, elapsed = run_load(calls, args.clients, args.seconds)
            after = {name: rss_mib(pid) for name, pid in servers.items()}
        finally:
            for server in (trainer, sim):
                if server is not None:
                    server.stop()
    every = [value for values in latencies.values() for value in values]
    print(f"{args.clients} clients, {elapsed:.1f} s, {len(every)} calls, "
          f"{len(every) / elapsed:.1f} calls/s, errors {len(errors)}")
    for kind, values in [*latencies.items(), ("all", every)]:
        print(f"  {kind:9s} n={len(values):5d}  p50 {percentile_ms(values, 50):8.1f} ms  "
              f"p99 {percentile_ms(values, 99):8.1f} ms  mean "
              f"{statistics.fmean(values) * 1000 if values else float('nan'):8.1f} ms")
    growth = {name: after[name] - before[name] for name in before}
    for name in before:
        print(f"  {name} RSS {before[name]:.0f} MiB -> {after[name]:.0f} MiB "
              f"(growth {growth[name]:+.0f} MiB, bound {args.max_growth_mib:.0f} MiB)")
    for message in errors[:5]:
        print(f"  error: {message}")
    return 0 if not errors and max(growth.values()) <= args.max_growth_mib else 1


if __name__ == "__main__":
    sys.exit(main())
