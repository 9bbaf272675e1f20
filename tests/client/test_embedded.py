"""Child-process services: with a log file the child writes its log itself (nothing is relayed
through the user's process once it has started), and a child that fails to start is reported
with its log."""

from __future__ import annotations

import json
import threading
import time

import pytest

from client import SimClient
from client.embedded import ServiceProcess


def test_a_started_service_logs_to_its_file_without_a_relay(separate_services):
    sim = separate_services["sim"]
    for thread in threading.enumerate():  # the start watchers end once the ports are known
        if "_watch" in thread.name or "_relay" in thread.name:
            thread.join(timeout=5)
            assert not thread.is_alive(), f"{thread.name} still handles a child's output"
    log_path = sim._log.name
    SimClient(sim.address).list_rules()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in open(log_path, encoding="utf-8")]
        if any(line.get("method", "").endswith("/ListRules") for line in lines):
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"no ListRules access line in {log_path}")
    assert any(line["event"] == "sim_service_started" and line["port"] == sim.port
               for line in lines)


def test_a_service_that_fails_to_start_is_reported_with_its_log(tmp_path):
    log_path = tmp_path / "sim.log"
    began = time.monotonic()
    service = ServiceProcess("sim_service", ["--port", "not-a-port"], log_path)
    with pytest.raises(RuntimeError, match=r"did not start \(exit code 2\); see its log"):
        service.wait_started(timeout=60)
    assert time.monotonic() - began < 30  # noticed at the exit, not at the timeout
    assert "invalid int value: 'not-a-port'" in log_path.read_text()
