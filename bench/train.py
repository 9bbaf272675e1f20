"""Training over gRPC: both servers on loopback in this process, timings from job progress.

Run: ``python bench/train.py [--reference-iterations 300] [--skip-reference]``. Momentum,
BTC/ETH/USDC, bundled data.

1. Gradient step: 4 sets x 8 windows of 60 days (train 2023-01-01 .. 04-01, bout offset 30
   days, no validation), one Evaluate with gradients + the optax update per step; with the
   continuous train/validation evaluation every step and every 50th step.
2. Optuna trial: default settings (20 trials, 4 in flight, up to 40 windows of 60 days each).
3. The reference scenario: adam, lr 0.01, batch 8, 4 sets, bout offset 7 days, trained on
   2023-01 .. 06 (validation 20 %), tested on 2023-07 .. 09; time and test metrics reached.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from quantamm_api.v1 import training_pb2, training_pb2_grpc, types_pb2
from quantamm.serving import logs
from sim_service.server import create_server as create_sim_server
from train_service.server import create_server as create_train_server

DAY = 86400
JAN, APR, JUL, OCT = 1672531200, 1680307200, 1688169600, 1696118400  # 2023, UTC


def fingerprint(start: int, end: int, end_test: int | None = None) -> types_pb2.RunFingerprint:
    fp = types_pb2.RunFingerprint(tokens=["BTC", "ETH", "USDC"], rule="momentum",
                                  start_time=Timestamp(seconds=start),
                                  end_time=Timestamp(seconds=end))
    if end_test:
        fp.end_test_time.FromSeconds(end_test)
    return fp


def watch(stub, request: training_pb2.StartJobRequest) -> tuple[list, training_pb2.Job]:
    """Progress events (iteration, elapsed seconds) of a job run to its end, and the job."""
    job_id = stub.StartJob(request).job_id
    events = [(e.progress.iteration, e.progress.elapsed_seconds)
              for e in stub.WatchJob(training_pb2.WatchJobRequest(job_id=job_id))
              if e.progress.elapsed_seconds > 0]
    job = stub.GetJob(training_pb2.GetJobRequest(job_id=job_id)).job
    if job.state != training_pb2.JOB_STATE_SUCCEEDED:
        raise RuntimeError(f"job ended {training_pb2.JobState.Name(job.state)}: {job.message}")
    return events, job


def seconds_per_unit(events: list) -> float:
    """Seconds per iteration (or trial) after the first report (which includes compiling)."""
    (first_unit, first_time), (last_unit, last_time) = events[0], events[-1]
    return (last_time - first_time) / (last_unit - first_unit)


def gradient_step(stub, eval_every: int) -> float:
    request = training_pb2.StartJobRequest(
        dataset="default", fingerprint=fingerprint(JAN, APR),
        settings=training_pb2.TrainingSettings(
            method=training_pb2.TRAINING_METHOD_GRADIENT_DESCENT,
            gradient_descent=training_pb2.GradientDescentSettings(
                optimiser="adam", base_lr=0.01, batch_size=8, n_iterations=60,
                eval_every=eval_every),
            bout_offset_minutes=30 * 1440, val_fraction=0.0, early_stopping=False,
            n_parameter_sets=4, report_every=10))
    return seconds_per_unit(watch(stub, request)[0])


def optuna_trial(stub) -> float:
    request = training_pb2.StartJobRequest(
        dataset="default", fingerprint=fingerprint(JAN, JAN + int(112.5 * DAY)),  # 90 + 22.5 days
        settings=training_pb2.TrainingSettings(
            method=training_pb2.TRAINING_METHOD_OPTUNA, bout_offset_minutes=30 * 1440,
            report_every=1))
    return seconds_per_unit(watch(stub, request)[0])


def reference_scenario(stub, iterations: int) -> training_pb2.Job:
    request = training_pb2.StartJobRequest(
        dataset="default", fingerprint=fingerprint(JAN, JUL, OCT),
        settings=training_pb2.TrainingSettings(
            method=training_pb2.TRAINING_METHOD_GRADIENT_DESCENT,
            gradient_descent=training_pb2.GradientDescentSettings(
                optimiser="adam", base_lr=0.01, batch_size=8, n_iterations=iterations),
            bout_offset_minutes=7 * 1440, n_parameter_sets=4, report_every=50))
    return watch(stub, request)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reference-iterations", type=int, default=300)
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()
    logs.configure(json=True, level="WARNING")

    sim, _, sim_port, _ = create_sim_server(host="127.0.0.1", port=0)
    store = os.path.join(tempfile.mkdtemp(prefix="quantamm-bench-"), "train.sqlite")
    trainer, _, port, manager = create_train_server([f"127.0.0.1:{sim_port}"],
                                                    f"sqlite:///{store}", host="127.0.0.1")
    stub = training_pb2_grpc.TrainingServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    try:
        print(f"{'case':<58}{'seconds':>10}")
        for eval_every in (50, 1):
            print(f"{f'gradient step, 4 sets x 8 windows x 60 days, eval every {eval_every}':<58}"
                  f"{gradient_step(stub, eval_every):>10.3f}")
        print(f"{'Optuna trial, defaults (4 in flight), 60-day windows':<58}"
              f"{optuna_trial(stub):>10.3f}")
        if not args.skip_reference:
            begin = time.perf_counter()
            job = reference_scenario(stub, args.reference_iterations)
            total = time.perf_counter() - begin
            result = job.result
            print(f"{f'reference scenario, {args.reference_iterations} iterations (total)':<58}"
                  f"{total:>10.1f}")
            print(f"  iterations run {result.iterations_done}, best iteration "
                  f"{result.best_iteration}, set {result.best_param_index}")
            for period, metrics in (("train", result.train_metrics),
                                    ("validation", result.validation_metrics),
                                    ("test", result.test_metrics)):
                print(f"  {period:<11} daily_log_sharpe {metrics['daily_log_sharpe']:8.3f}   "
                      f"sharpe {metrics['sharpe']:8.3f}   returns_over_uniform_hodl "
                      f"{metrics['returns_over_uniform_hodl']:8.4f}")
    finally:
        manager.shutdown()
        trainer.stop(0)
        sim.stop(0)


if __name__ == "__main__":
    main()
