"""The API definition (buf lint, generated code up to date) and the server as a real process:
flags, health, reflection, graceful shutdown on SIGTERM."""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_buf_lint_standard_rules_pass():
    buf = shutil.which("buf", path=str(pathlib.Path(sys.executable).parent))
    assert buf, "buf-bin is a test dependency"
    result = subprocess.run([buf, "lint"], cwd=REPO / "protos", capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_regenerating_the_stubs_gives_no_difference(tmp_path):
    subprocess.run([sys.executable, str(REPO / "protos" / "generate.py"), "--out", str(tmp_path)],
                   check=True)
    committed = REPO / "quantamm_api"
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    current = {p.relative_to(committed): p.read_bytes() for p in committed.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert fresh.keys() == current.keys()
    stale = [str(name) for name in fresh if fresh[name] != current[name]]
    assert not stale, f"regenerate with `python protos/generate.py`: {stale}"


def wait_for_port(process: subprocess.Popen, timeout: float = 120.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            continue
        record = json.loads(line)
        if record.get("event") == "sim_service_started":
            return record["port"]
    raise TimeoutError("server did not start")


def test_server_process_health_reflection_and_graceful_shutdown(tmp_path):
    env = {**os.environ, "QUANTAMM_SIM_WORKERS": "2"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sim_service", "--port", "0", "--host", "127.0.0.1",
         "--cache-dir", str(tmp_path / "cache")],
        cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        port = wait_for_port(process)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        health = health_pb2_grpc.HealthStub(channel)
        status = health.Check(health_pb2.HealthCheckRequest(service="quantamm.v1.SimulationService"),
                              timeout=10).status
        assert status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        answers = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
        services = {s.name for a in answers for s in a.list_services_response.service}
        assert {"quantamm.v1.SimulationService", "grpc.health.v1.Health"} <= services
        channel.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        events = [json.loads(line)["event"] for line in process.stderr.read().splitlines() if line]
        assert "shutdown_requested" in events and events[-1] == "server_stopped"
        assert (tmp_path / "cache" / "jax").is_dir()
    finally:
        if process.poll() is None:
            process.kill()
