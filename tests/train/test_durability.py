"""Processes that die: the training server killed mid-job and restarted (finished results
intact, the interrupted job resumed to the uninterrupted result), a graceful SIGTERM, a
sim_service replica killed mid-job, the only sim_service killed and restarted (within the retry
budget the job waits; past it the job is INTERRUPTED and resumes), a briefly locked SQLite store,
and cancelled watch streams. Also: train_service never imports the engine."""

import contextlib
import signal
import sqlite3
import subprocess
import sys
import time
from typing import Iterator

import grpc
import pytest
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from quantamm_api.v1 import training_pb2, training_pb2_grpc
from tests.train.conftest import (
    REPO,
    comparable,
    gradient_request,
    run_job,
    start_sim,
    start_trainer,
    trainer_stub,
    wait_done,
)
from train_service.jobs import JobStore
from train_service.server import create_server

SUCCEEDED = training_pb2.JOB_STATE_SUCCEEDED
INTERRUPTED = training_pb2.JOB_STATE_INTERRUPTED
LONG = dict(n_iterations=60, report_every=5)


@pytest.fixture(scope="module")
def uninterrupted(stub) -> training_pb2.TrainingResult:
    job = run_job(stub, gradient_request(**LONG))
    assert job.state == SUCCEEDED, job.message
    return job.result


def wait_for_iteration(stub, job_id: str, iteration: int) -> None:
    for event in stub.WatchJob(training_pb2.WatchJobRequest(job_id=job_id), timeout=120):
        if event.progress.iteration >= iteration:
            return
    raise AssertionError(f"job {job_id} ended before iteration {iteration}")


def test_train_service_never_imports_the_engine():
    code = ("import sys, train_service.server, train_service.gradient, train_service.search\n"
            "bad = [m for m in sys.modules if m.startswith(('sim_service.engine', "
            "'sim_service.servicer', 'sim_service.translate', 'sim_service.datasets', "
            "'quantamm.data'))]\nassert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_killed_training_server_keeps_results_and_resumes_the_interrupted_job(
        sim_address, cache_dir, tmp_path, uninterrupted):
    store = f"sqlite:///{tmp_path / 'train.sqlite'}"
    first = start_trainer(sim_address, store, cache_dir)
    try:
        channel = grpc.insecure_channel(first.address)
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="quantamm.v1.TrainingService"), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        answers = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
        assert "quantamm.v1.TrainingService" in {
            s.name for a in answers for s in a.list_services_response.service}
        stub = trainer_stub(first.address)
        finished = run_job(stub, gradient_request(n_iterations=3))
        assert finished.state == SUCCEEDED
        job_id = stub.StartJob(gradient_request(**LONG)).job_id
        wait_for_iteration(stub, job_id, 14)
        first.kill()  # SIGKILL: no chance to checkpoint or mark anything
    finally:
        first.kill()

    second = start_trainer(sim_address, store, cache_dir)
    try:
        stub = trainer_stub(second.address)
        again = stub.GetJob(training_pb2.GetJobRequest(job_id=finished.job_id)).job
        assert again.state == SUCCEEDED
        assert comparable(again.result) == comparable(finished.result)
        interrupted = stub.GetJob(training_pb2.GetJobRequest(job_id=job_id)).job
        assert interrupted.state == INTERRUPTED and "ResumeJob" in interrupted.message
        assert 14 <= interrupted.progress.iteration < 60
        listed = stub.ListJobs(training_pb2.ListJobsRequest(state=INTERRUPTED)).jobs
        assert [j.job_id for j in listed] == [job_id]
        stub.ResumeJob(training_pb2.ResumeJobRequest(job_id=job_id))
        resumed = wait_done(stub, job_id)
        assert resumed.state == SUCCEEDED, resumed.message
        assert resumed.result.iterations_done == 61
        assert comparable(resumed.result) == comparable(uninterrupted)

        running = stub.StartJob(gradient_request(n_iterations=100_000, report_every=5)).job_id
        wait_for_iteration(stub, running, 5)
        second.process.send_signal(signal.SIGTERM)
        assert second.process.wait(timeout=60) == 0
        events = second.events()
        assert events.index("shutdown_requested") < events.index("jobs_stopped")
        assert events[-1] == "server_stopped"
    finally:
        second.kill()
    record = JobStore(store).get(running)
    assert record.state == INTERRUPTED and "shut down" in record.message
    assert JobStore(store).latest_checkpoint(running) is not None


def test_a_job_finishes_on_the_other_sim_replica_when_one_dies(
        sim_address, cache_dir, tmp_path, uninterrupted):
    doomed = start_sim(cache_dir)
    server, _, port, manager = create_server([doomed.address, sim_address],
                                             f"sqlite:///{tmp_path / 'train.sqlite'}",
                                             host="127.0.0.1")
    try:
        stub = trainer_stub(f"127.0.0.1:{port}")
        job_id = stub.StartJob(gradient_request(**LONG)).job_id
        wait_for_iteration(stub, job_id, 10)
        doomed.kill()
        assert stub.GetJob(training_pb2.GetJobRequest(job_id=job_id)).job.state == \
            training_pb2.JOB_STATE_RUNNING
        job = wait_done(stub, job_id)
        assert job.state == SUCCEEDED, job.message
        assert job.result.iterations_done == 61
        assert comparable(job.result) == comparable(uninterrupted)
    finally:
        doomed.kill()
        manager.shutdown()
        server.stop(0)


@contextlib.contextmanager
def in_process_trainer(sim_addresses: list[str], store_url: str,
                       **options) -> Iterator[training_pb2_grpc.TrainingServiceStub]:
    """A training server in this process (stopped on exit); its stub."""
    server, _, port, manager = create_server(sim_addresses, store_url, host="127.0.0.1",
                                             **options)
    try:
        yield trainer_stub(f"127.0.0.1:{port}")
    finally:
        manager.shutdown()
        server.stop(0)


def long_job_past_iteration_10(stub) -> str:
    job_id = stub.StartJob(gradient_request(**LONG)).job_id
    wait_for_iteration(stub, job_id, 10)
    return job_id


@pytest.mark.parametrize("retry_seconds", [120, 1])
def test_sim_killed_and_restarted_mid_job(cache_dir, tmp_path, uninterrupted, retry_seconds):
    """The only sim_service is killed (SIGKILL) mid-job and restarted on the same address:
    within the retry budget the job waits and finishes; past it the job is INTERRUPTED with
    the reason and ResumeJob finishes it. Either way: the uninterrupted result."""
    sims = [start_sim(cache_dir)]
    try:
        with in_process_trainer([sims[0].address], f"sqlite:///{tmp_path / 'train.sqlite'}",
                                sim_retry_seconds=retry_seconds) as stub:
            job_id = long_job_past_iteration_10(stub)
            sims[0].kill()
            if retry_seconds < 10:
                job = wait_done(stub, job_id, timeout=60)
                assert job.state == INTERRUPTED
                assert "sim_service UNAVAILABLE" in job.message and "ResumeJob" in job.message
                assert 10 <= job.progress.iteration < 60
            sims.append(start_sim(cache_dir, sims[0].port))
            if retry_seconds < 10:
                stub.ResumeJob(training_pb2.ResumeJobRequest(job_id=job_id))
            job = wait_done(stub, job_id)
    finally:
        for sim in sims:
            sim.kill()
    assert job.state == SUCCEEDED, job.message
    assert job.result.iterations_done == 61
    assert comparable(job.result) == comparable(uninterrupted)


def test_a_briefly_locked_sqlite_store_loses_nothing(sim_address, tmp_path, uninterrupted):
    path = tmp_path / "train.sqlite"
    with in_process_trainer([sim_address], f"sqlite:///{path}?timeout=0.2",
                            store_retry_seconds=30) as stub:
        finished = run_job(stub, gradient_request(n_iterations=3))
        job_id = long_job_past_iteration_10(stub)
        with structlog.testing.capture_logs() as logs:
            locker = sqlite3.connect(path, isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")  # no other writer until COMMIT
            time.sleep(3)
            # readers still answer (WAL), from the store
            assert stub.GetJob(training_pb2.GetJobRequest(job_id=finished.job_id),
                               timeout=10).job.result == finished.result
            locker.execute("COMMIT")
            locker.close()
            job = wait_done(stub, job_id)
    assert any(entry["event"] == "store_retry" for entry in logs)
    assert job.state == SUCCEEDED, job.message
    assert comparable(job.result) == comparable(uninterrupted)


def test_cancelled_watch_streams_free_their_threads(sim_address, tmp_path):
    """More cancelled WatchJob streams than request threads: the server still answers."""
    with in_process_trainer([sim_address], f"sqlite:///{tmp_path / 't.sqlite'}",
                            workers=3) as stub:
        job_id = stub.StartJob(gradient_request(n_iterations=100_000, report_every=1)).job_id
        for _ in range(8):
            stream = stub.WatchJob(training_pb2.WatchJobRequest(job_id=job_id), timeout=60)
            assert next(stream).job_id == job_id
            stream.cancel()
        time.sleep(1.5)  # one watch poll: every cancelled stream notices
        assert stub.GetJob(training_pb2.GetJobRequest(job_id=job_id), timeout=5).job.state == \
            training_pb2.JOB_STATE_RUNNING
        stub.CancelJob(training_pb2.CancelJobRequest(job_id=job_id), timeout=5)
        assert wait_done(stub, job_id, timeout=60).state == training_pb2.JOB_STATE_CANCELLED
