"""PostgreSQL: the job store on it, two training workers sharing one Optuna study, and a job
that outlives a restart of the database.

A throwaway cluster is initialised in a temporary folder (as the ``postgres`` user when the
tests run as root) and started on a free port. Without PostgreSQL's server binaries the tests
are skipped with the reason (``.ci/run`` installs Debian's ``postgresql`` package)."""

import glob
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from typing import Iterator

import optuna
import pytest
import structlog
from optuna.trial import TrialState

from quantamm_api.v1 import training_pb2
from tests.train.conftest import (
    comparable,
    gradient_request,
    optuna_request,
    run_job,
    trainer_stub,
    wait_done,
)
from tests.train.test_durability import (  # noqa: F401 (uninterrupted: a fixture)
    in_process_trainer,
    long_job_past_iteration_10,
    uninterrupted,
)
from train_service import jobs, search
from train_service.server import create_server


def server_binaries() -> pathlib.Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = found[-1] if found else shutil.which("initdb")
    return pathlib.Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_server_user(command: list[str]) -> list[str]:
    """Run PostgreSQL as ``postgres`` when we are root (it refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres() -> Iterator[dict]:
    """A running throwaway cluster: its ``url``, ``stop()`` and ``start()``."""
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine; "
                    "install Debian's postgresql package (.ci/run does)")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no 'postgres' user to run the server as")
    folder = pathlib.Path(tempfile.mkdtemp(prefix="quantamm-pg-"))
    if os.geteuid() == 0:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    data, port = folder / "data", free_port()
    subprocess.run(as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", "postgres",
                                   "--auth=trust", "-E", "UTF8"]),
                   check=True, capture_output=True)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"

    def pg_ctl(*args: str) -> None:
        subprocess.run(as_server_user([str(binaries / "pg_ctl"), "-D", str(data), *args]),
                       check=True, capture_output=True)

    def start() -> None:
        pg_ctl("-o", options, "-l", str(folder / "log"), "-w", "start")

    start()
    try:
        yield {"url": f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
               "start": start, "stop": lambda: pg_ctl("-m", "fast", "-w", "stop")}
    finally:
        subprocess.run(as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m",
                                       "immediate", "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_url(postgres) -> str:
    return postgres["url"]


def test_job_store_on_postgresql(postgres_url):
    store = jobs.JobStore(postgres_url)
    job_id = uuid.uuid4().hex
    store.create(job_id, b"request", "pg")
    assert store.transition(job_id, [jobs.QUEUED], jobs.RUNNING)
    assert not store.transition(job_id, [jobs.QUEUED], jobs.RUNNING)
    store.save_progress(job_id, b"p1", b"checkpoint-5", 5)
    store.save_progress(job_id, b"p2", b"checkpoint-10", 10)
    assert store.latest_checkpoint(job_id) == b"checkpoint-10"
    assert store.transition(job_id, [jobs.RUNNING], training_pb2.JOB_STATE_SUCCEEDED, "",
                            b"result")
    record = store.get(job_id)
    assert (record.state, record.progress, record.result) == (
        training_pb2.JOB_STATE_SUCCEEDED, b"p2", b"result")
    assert job_id in [r.id for r in store.list(training_pb2.JOB_STATE_SUCCEEDED)]
    store.close()


def test_two_training_workers_share_one_study(postgres_url, sim_address, tmp_path):
    workers = [create_server([sim_address], f"sqlite:///{tmp_path / f'worker{i}.sqlite'}",
                             host="127.0.0.1") for i in range(2)]
    name = f"shared_{uuid.uuid4().hex[:8]}"
    try:
        stubs = [trainer_stub(f"127.0.0.1:{port}") for _, _, port, _ in workers]
        ids = [stub.StartJob(optuna_request(n_trials=6, n_jobs=2, study_name=name,
                                            storage_url=postgres_url)).job_id for stub in stubs]
        finished = [wait_done(stub, job_id) for stub, job_id in zip(stubs, ids, strict=True)]
    finally:
        for server, _, _, manager in workers:
            manager.shutdown()
            server.stop(0)
    assert all(job.state == training_pb2.JOB_STATE_SUCCEEDED for job in finished)
    assert {job.result.study_name for job in finished} == {name}
    study = optuna.load_study(study_name=name, storage=search.storage(postgres_url))
    trials = study.get_trials(states=(TrialState.COMPLETE,))
    assert sorted(t.number for t in trials) == list(range(12))
    assert sorted(t.user_attrs[search.JOB_ATTR] for t in trials) == sorted(ids * 6)
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 12  # no duplicated draws
    best = study.best_trial.number
    assert max(job.result.best_iteration for job in finished) <= 11
    assert any(job.result.best_iteration == best for job in finished)


def test_a_job_outlives_a_database_restart(postgres, sim_address, uninterrupted):  # noqa: F811
    """PostgreSQL stopped for a few seconds mid-job: progress writes and reads wait and retry,
    the finished job and the running one lose nothing."""
    with in_process_trainer([sim_address], postgres["url"], store_retry_seconds=60) as stub:
        finished = run_job(stub, gradient_request(n_iterations=3))
        job_id = long_job_past_iteration_10(stub)
        with structlog.testing.capture_logs() as logs:
            postgres["stop"]()
            time.sleep(3)
            postgres["start"]()
            again = stub.GetJob(training_pb2.GetJobRequest(job_id=finished.job_id),
                                timeout=60).job
            job = wait_done(stub, job_id)
    assert any(entry["event"] == "store_retry" for entry in logs)
    assert comparable(again.result) == comparable(finished.result)
    assert job.state == training_pb2.JOB_STATE_SUCCEEDED, job.message
    assert comparable(job.result) == comparable(uninterrupted)
