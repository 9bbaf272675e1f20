"""Runs training jobs in a bounded pool of background threads and tells watchers about them.

- StartJob validates the request, stores it QUEUED and queues it; at most ``max_jobs`` run at
  once, the rest wait in order.
- Every job has a live entry while queued or running: a cancel flag and a condition variable
  with the latest state and progress, which WatchJob streams.
- CancelJob ends a queued job at once and flags a running one, which stops at its next
  iteration (or batch of trials).
- Shutdown flags every running job; each saves a checkpoint and ends INTERRUPTED. On start,
  jobs left RUNNING by a server that died are marked INTERRUPTED and queued ones re-queued;
  ResumeJob continues an interrupted job from its latest checkpoint.
- A job whose sim_service stays unreachable, or whose store does, past the retry budgets ends
  INTERRUPTED with the reason (ResumeJob continues it); if even that cannot be recorded, the
  store keeps it RUNNING and the next server start marks it INTERRUPTED.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
import time
import uuid
from typing import Callable, Iterator

import grpc
import structlog
from google.protobuf import timestamp_pb2

from quantamm_api.v1 import training_pb2
from train_service import gradient, jobs, search
from train_service.errors import (
    RequestError,
    SimulationError,
    StoreUnavailable,
    failed_precondition,
    invalid,
    not_found,
)
from train_service.hooks import Stopped, TrainingFailed
from train_service.jobs import JobRecord, JobStore
from train_service.problem import Problem, prepare
from train_service.settings import GRADIENT_DESCENT, OPTUNA
from train_service.simclient import SimClient

log = structlog.get_logger(__name__)
State = int
WATCH_POLL_SECONDS = 1.0
INTERRUPTED_BY_RESTART = ("the training server stopped while this job ran; ResumeJob "
                          "continues it from its last checkpoint")
INTERRUPTED_BY_SHUTDOWN = "the training server shut down; ResumeJob continues this job"
RESUMABLE = "; ResumeJob continues this job from its last checkpoint"


@dataclasses.dataclass
class LiveJob:
    """A queued or running job as watchers see it."""

    state: State
    progress: training_pb2.JobProgress | None = None
    version: int = 0
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event)
    changed: threading.Condition = dataclasses.field(default_factory=threading.Condition)

    def publish(self, state: State, progress: training_pb2.JobProgress | None = None) -> None:
        with self.changed:
            self.state = state
            self.progress = progress or self.progress
            self.version += 1
            self.changed.notify_all()


class Hooks:
    """``JobHooks`` of one running job: stop flags, progress to watchers and the store."""

    def __init__(self, manager: "JobManager", job_id: str, live: LiveJob) -> None:
        self._manager, self._job_id, self._live = manager, job_id, live

    def should_stop(self) -> bool:
        return self._live.cancel.is_set() or self._manager.stopping.is_set()

    def report(self, progress: training_pb2.JobProgress, checkpoint: bytes | None = None) -> None:
        self._manager.store.save_progress(self._job_id, progress.SerializeToString(),
                                          checkpoint, progress.iteration)
        self._live.publish(jobs.RUNNING, progress)


def _timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def to_job(record: JobRecord) -> training_pb2.Job:
    """A stored job as the API's Job message."""
    request = training_pb2.StartJobRequest.FromString(record.request)
    job = training_pb2.Job(
        job_id=record.id, display_name=record.display_name, state=record.state,
        created_time=_timestamp(record.created), updated_time=_timestamp(record.updated),
        dataset=request.dataset, fingerprint=request.fingerprint, settings=request.settings,
        message=record.message,
    )
    if record.progress:
        job.progress.ParseFromString(record.progress)
    if record.result:
        job.result.ParseFromString(record.result)
    return job


def check_step_size(problem: Problem, max_cells: float) -> None:
    """RESOURCE_EXHAUSTED when one gradient step (n_parameter_sets x batch_size windows x
    window minutes x assets) is over ``max_cells``: refused at StartJob, not mid-job."""
    settings = problem.settings
    if settings.method != GRADIENT_DESCENT:
        return
    sets, batch = settings.n_parameter_sets, settings.gradient.batch_size
    cells = float(sets) * batch * problem.layout.window * problem.n_assets
    if cells > max_cells:
        raise RequestError(grpc.StatusCode.RESOURCE_EXHAUSTED,
                           "settings.gradient_descent.batch_size",
                           f"{sets} sets x {batch} windows x {problem.layout.window} minutes x "
                           f"{problem.n_assets} assets = {cells:.3g} cells per step exceeds this "
                           f"server's limit of {max_cells:.3g} (max_step_cells)")


class JobManager:
    """Jobs of one training server over ``store``, computed with ``sim``."""

    def __init__(self, store: JobStore, sim: SimClient, max_jobs: int = 2,
                 max_step_cells: float = 4e9) -> None:
        self.store, self.sim = store, sim
        self.max_step_cells = max_step_cells
        self.stopping = threading.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(max_jobs, thread_name_prefix="job")
        self._live: dict[str, LiveJob] = {}
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------
    def recover(self) -> None:
        """Mark jobs a previous server left RUNNING as INTERRUPTED; re-queue QUEUED ones."""
        for job_id in self.store.ids_in(jobs.RUNNING):
            self.store.transition(job_id, [jobs.RUNNING], jobs.INTERRUPTED, INTERRUPTED_BY_RESTART)
            log.warning("job_interrupted", job_id=job_id)
        for job_id in self.store.ids_in(jobs.QUEUED):
            self._submit(job_id, resume=False)

    def shutdown(self) -> None:
        """Stop running jobs at their next iteration (checkpointed, INTERRUPTED) and wait."""
        self.stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- RPC operations ----------------------------------------------------------------------
    def start(self, request: training_pb2.StartJobRequest) -> str:
        check_step_size(prepare(request, self.sim), self.max_step_cells)  # refuse now
        job_id = uuid.uuid4().hex
        self.store.create(job_id, request.SerializeToString(), request.display_name)
        log.info("job_queued", job_id=job_id)
        self._submit(job_id, resume=False)
        return job_id

    def get(self, job_id: str) -> training_pb2.Job:
        return to_job(self._record(job_id))

    def list(self, state: State = 0, page_size: int = 0) -> list[training_pb2.Job]:
        if page_size < 0:
            raise invalid("page_size", "must be >= 0")
        return [to_job(record) for record in self.store.list(state, page_size or 100)]

    def cancel(self, job_id: str) -> training_pb2.Job:
        self._record(job_id)
        live = self._live.get(job_id)
        if live is not None:
            live.cancel.set()
        if self.store.transition(job_id, [jobs.QUEUED, jobs.INTERRUPTED],
                                 training_pb2.JOB_STATE_CANCELLED, "cancelled before it ran"):
            self._end(job_id, training_pb2.JOB_STATE_CANCELLED)
        return self.get(job_id)

    def resume(self, job_id: str) -> training_pb2.Job:
        record = self._record(job_id)
        if not self.store.transition(job_id, [jobs.INTERRUPTED], jobs.QUEUED, ""):
            raise failed_precondition("job_id", f"job {job_id} is "
                                      f"{training_pb2.JobState.Name(record.state)}, not "
                                      "INTERRUPTED")
        self._submit(job_id, resume=True)
        return self.get(job_id)

    def watch(self, job_id: str,
              active: Callable[[], bool]) -> Iterator[training_pb2.WatchJobResponse]:
        """The latest progress, then every new one until the job ends (or the caller leaves)."""
        self._record(job_id)
        live = self._live.get(job_id)
        if live is None:  # ended (or interrupted): read after the lookup, so it is final
            job = self.get(job_id)
            yield training_pb2.WatchJobResponse(job_id=job_id, state=job.state,
                                                progress=job.progress)
            return
        seen = -1
        while active():
            with live.changed:
                live.changed.wait_for(lambda seen=seen: live.version != seen,
                                      timeout=WATCH_POLL_SECONDS)
                version, state, progress = live.version, live.state, live.progress
            if version == seen:
                continue
            seen = version
            yield training_pb2.WatchJobResponse(job_id=job_id, state=state, progress=progress)
            if state in jobs.TERMINAL or state == jobs.INTERRUPTED:
                return

    # -- running ---------------------------------------------------------------------------
    def _record(self, job_id: str) -> JobRecord:
        if not job_id:
            raise invalid("job_id", "required")
        record = self.store.get(job_id)
        if record is None:
            raise not_found("job_id", f"no job {job_id!r}")
        return record

    def _submit(self, job_id: str, resume: bool) -> None:
        with self._lock:
            self._live[job_id] = LiveJob(jobs.QUEUED)
        self._pool.submit(self._run, job_id, resume)

    def _end(self, job_id: str, state: State) -> None:
        with self._lock:
            live = self._live.pop(job_id, None)
        if live is not None:
            live.publish(state)

    def _run(self, job_id: str, resume: bool) -> None:
        live = self._live.get(job_id)
        if live is None or self.stopping.is_set() or \
                not self.store.transition(job_id, [jobs.QUEUED], jobs.RUNNING):
            return  # cancelled while queued, or left QUEUED for the next server
        live.publish(jobs.RUNNING)
        with structlog.contextvars.bound_contextvars(job_id=job_id):
            log.info("job_started", resume=resume)
            state, message, result = self._execute(job_id, live, resume)
            try:
                self.store.transition(job_id, [jobs.RUNNING], state, message,
                                      result.SerializeToString() if result else None)
                log.info("job_ended", state=training_pb2.JobState.Name(state), message=message)
            except StoreUnavailable as error:  # left RUNNING: the next start interrupts it
                log.error("job_end_unrecorded", state=training_pb2.JobState.Name(state),
                          error=str(error))
                state = jobs.INTERRUPTED
        self._end(job_id, state)

    def _execute(self, job_id: str, live: LiveJob,
                 resume: bool) -> tuple[State, str, training_pb2.TrainingResult | None]:
        started = time.monotonic()
        try:
            record = self._record(job_id)
            problem = prepare(training_pb2.StartJobRequest.FromString(record.request), self.sim)
            result = self._method(problem, job_id, Hooks(self, job_id, live), resume)
            return training_pb2.JOB_STATE_SUCCEEDED, "", result
        except Stopped:
            if live.cancel.is_set():
                return training_pb2.JOB_STATE_CANCELLED, "cancelled by request", None
            return jobs.INTERRUPTED, INTERRUPTED_BY_SHUTDOWN, None
        except SimulationError as error:
            if error.unreachable:
                log.warning("job_interrupted", error=str(error))
                return jobs.INTERRUPTED, f"{error}{RESUMABLE}", None
            return training_pb2.JOB_STATE_FAILED, str(error), None
        except StoreUnavailable as error:
            log.warning("job_interrupted", error=str(error))
            return jobs.INTERRUPTED, f"{error}{RESUMABLE}", None
        except (RequestError, TrainingFailed) as error:
            return training_pb2.JOB_STATE_FAILED, str(error), None
        except Exception as error:  # noqa: BLE001 (a job's failure must not kill the worker)
            log.exception("job_failed", seconds=round(time.monotonic() - started, 3))
            return training_pb2.JOB_STATE_FAILED, f"internal error: {error}", None

    def _method(self, problem: Problem, job_id: str, hooks: Hooks,
                resume: bool) -> training_pb2.TrainingResult:
        if problem.settings.method == OPTUNA:
            return search.run(problem, self.sim, hooks, job_id, self.store.url)
        checkpoint = self.store.latest_checkpoint(job_id) if resume else None
        return gradient.run(problem, self.sim, hooks, checkpoint)
