"""The ``quantamm`` command line, end to end against the client's embedded services."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from client import SimClient, TrainClient, cli
from tests.client.test_compat import S1_VECTOR, vector_case

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMALL_TRAINING = """
tokens = ["BTC", "ETH", "USDC"]
rule = "momentum"
startDateString = "2023-01-01 00:00:00"
endDateString = "2023-01-21 00:00:00"
endTestDateString = "2023-01-28 00:00:00"
bout_offset = 2880

[optimisation_settings]
optimiser = "adam"
base_lr = 0.05
batch_size = 4
n_parameter_sets = 2
n_iterations = 6
"""


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def training_config(tmp_path):
    path = tmp_path / "train.toml"
    path.write_text(SMALL_TRAINING)
    return str(path)


def test_rules_and_datasets(embedded_only, capsys):
    code, out, _ = run_cli(capsys, "--json", "rules")
    rules = {rule["name"]: rule for rule in json.loads(out)["rules"]}
    assert code == 0 and {"momentum", "min_variance", "balancer"} <= set(rules)
    assert "log_k" in rules["momentum"]["params"]
    code, out, _ = run_cli(capsys, "datasets")
    assert code == 0 and re.search(r"^default\s+bundled\s+BTC,ETH,SOL", out, re.M)


def test_simulate_prints_the_vector_numbers_and_plots(embedded_only, capsys, tmp_path,
                                                      vectors_dir):
    fingerprint, params, vector = vector_case(vectors_dir, S1_VECTOR)
    config = tmp_path / "s1.json"
    config.write_text(json.dumps({**fingerprint, "params": {k: v.tolist()
                                                            for k, v in params.items()}}))
    plot = tmp_path / "s1.png"
    code, out, _ = run_cli(capsys, "--json", "simulate", str(config), "--plot", str(plot))
    document = json.loads(out)
    assert code == 0
    assert document["final_value"] == pytest.approx(float(vector["final_value"]), rel=1e-9)
    assert document["hodl_value"] == pytest.approx(
        float(np.dot(vector["initial_reserves"], document["final_prices"])), rel=1e-9)
    assert plot.read_bytes().startswith(PNG_MAGIC) and plot.stat().st_size > 20_000
    code, out, _ = run_cli(capsys, "simulate", str(config))
    assert f"final value {float(vector['final_value']):,.2f} USD" in out


def test_simulate_refuses_a_misspelt_key(embedded_only, capsys, tmp_path):
    code, out, err = run_cli(capsys, "simulate", "--set", "chunk_perod=60",
                             "--set", "rule=momentum")
    assert code == 2 and out == ""
    assert "chunk_perod" in err and "did you mean 'chunk_period'" in err


def test_train_with_progress_bar_then_result_watch_and_jobs(embedded_only, capsys, tmp_path,
                                                            training_config):
    plot = tmp_path / "trained.png"
    code, out, err = run_cli(capsys, "train", training_config, "--plot", str(plot))
    assert code == 0, err
    job_id = re.search(r"^job ([0-9a-f]{32}) SUCCEEDED", out, re.M).group(1)
    assert "7/7" in err and "100%" in err  # the bar ran to the end (iterations 0..6)
    assert re.search(r"^daily_log_sharpe\s+\S+\s+\S+\s+\S+$", out, re.M)  # train/val/test
    assert plot.read_bytes().startswith(PNG_MAGIC)

    code, out, _ = run_cli(capsys, "--json", "result", job_id[:10])
    result = json.loads(out)
    assert code == 0 and result["state"] == "SUCCEEDED" and result["job_id"] == job_id
    assert set(result["result"]["test_metrics"]) >= {"daily_log_sharpe", "return"}
    code, out, _ = run_cli(capsys, "--json", "watch", job_id)
    assert json.loads(out)["result"] == result["result"]
    code, out, _ = run_cli(capsys, "jobs", "--state", "SUCCEEDED")
    assert job_id in out


def test_train_detached_then_cancel(embedded_only, capsys, training_config):
    code, out, _ = run_cli(capsys, "--json", "train", training_config, "--detach",
                           "--set", "optimisation_settings.n_iterations=100000",
                           "--set", "optimisation_settings.early_stopping=false")
    job_id = json.loads(out)["job_id"]
    code, out, _ = run_cli(capsys, "--json", "cancel", job_id)
    assert code == 0
    deadline = time.monotonic() + 60
    while json.loads(out)["state"] != "CANCELLED" and time.monotonic() < deadline:
        time.sleep(0.5)
        code, out, _ = run_cli(capsys, "--json", "result", job_id)
    assert json.loads(out)["state"] == "CANCELLED"


def test_serve_runs_both_services_until_sigterm(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "client.cli", "--log-level", "INFO", "serve", "--host",
         "127.0.0.1", "--sim-port", "0", "--train-port", "0",
         "--store", f"sqlite:///{tmp_path / 'jobs.sqlite'}"],
        stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:
            found = re.search(r"event='serving' sim_port=(\d+) train_port=(\d+)", line)
            if found:
                break
        sim_port, train_port = found.groups()
        with SimClient(f"127.0.0.1:{sim_port}") as sim:
            assert "default" in {d.name for d in sim.list_datasets()}
        with TrainClient(f"127.0.0.1:{train_port}") as trainer:
            assert trainer.list() == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
