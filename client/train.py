"""``TrainClient``: training jobs on the training service, with typed progress and results."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any, Callable, Iterator, Mapping, Sequence

import grpc
import numpy as np

from quantamm.wire import fingerprints
from quantamm_api.v1 import training_pb2, training_pb2_grpc, types_pb2
from client.errors import from_rpc_error
from client.channels import ServiceClient
from quantamm.serving.channels import RETRIED
from client.sim import Fingerprint, as_fingerprint, as_parameter_set, to_datetime
from quantamm.wire.tensors import from_tensor
from client.training_settings import given_parameter_config, to_training_settings
from quantamm.core.fingerprint import fill_defaults

Params = dict[str, np.ndarray]
STATES = {value: name.removeprefix("JOB_STATE_")
          for name, value in training_pb2.JobState.items() if value}
ENDED = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "INTERRUPTED"})


def params_of(parameter_set: types_pb2.ParameterSet) -> Params:
    """A ParameterSet as ``name -> array`` ([n_assets] or [1])."""
    return {name: np.array(from_tensor(t, name)) for name, t in parameter_set.values.items()}


@dataclasses.dataclass(frozen=True)
class Progress:
    """A training job at one iteration (gradient descent) or finished trial (Optuna).

    Attributes:
      objective: training objective, mean over parameter sets.
      validation_metric: the selection metric on the validation period (train without one).
      best_metric, best_iteration: the best so far by that metric.
      elapsed_seconds: wall time since the job started.
      train_metrics, validation_metrics: per-period metrics (``daily_log_sharpe``, ``return``,
        ``returns_over_hodl``, ...) of the best set at this iteration.
    """

    iteration: int
    total_iterations: int
    objective: float
    validation_metric: float
    best_metric: float
    best_iteration: int
    learning_rate: float
    elapsed_seconds: float
    train_metrics: dict[str, float]
    validation_metrics: dict[str, float]

    @classmethod
    def of(cls, message: training_pb2.JobProgress) -> "Progress":
        return cls(message.iteration, message.total_iterations, message.objective,
                   message.validation_metric, message.best_metric, message.best_iteration,
                   message.learning_rate, message.elapsed_seconds, dict(message.train_metrics),
                   dict(message.validation_metrics))


@dataclasses.dataclass(frozen=True)
class Trial:
    """One Optuna trial: its objective value(s), parameters and validation value."""

    number: int
    state: str
    values: list[float]
    parameters: Params
    validation_value: float


@dataclasses.dataclass(frozen=True)
class TrainingResult:
    """What a finished job chose and how it scored.

    Attributes:
      best_parameters: the chosen set in the reference's parameterisation, ``name -> [n]``.
      selection_method: ``"best_val"`` or ``"best_train"``; ``selection_metric`` its metric.
      train_metrics, validation_metrics, test_metrics: metrics of the chosen set per period
        (test empty without ``endTestDateString``).
      trials, pareto_front, period_statistics: Optuna only (``period_statistics``: mean, std,
        worst of the metric over evaluation windows, multi-objective searches).
    """

    best_parameters: Params
    best_iteration: int
    best_param_index: int
    best_metric_value: float
    selection_method: str
    selection_metric: str
    train_metrics: dict[str, float]
    validation_metrics: dict[str, float]
    test_metrics: dict[str, float]
    iterations_done: int
    final_objective: float
    elapsed_seconds: float
    trials: list[Trial]
    pareto_front: list[int]
    period_statistics: dict[str, float] | None
    study_name: str

    @classmethod
    def of(cls, message: training_pb2.TrainingResult) -> "TrainingResult":
        stats = message.period_statistics if message.HasField("period_statistics") else None
        return cls(
            best_parameters=params_of(message.best_parameters),
            best_iteration=message.best_iteration,
            best_param_index=message.best_param_index,
            best_metric_value=message.best_metric_value,
            selection_method=message.selection_method,
            selection_metric=message.selection_metric,
            train_metrics=dict(message.train_metrics),
            validation_metrics=dict(message.validation_metrics),
            test_metrics=dict(message.test_metrics),
            iterations_done=message.iterations_done,
            final_objective=message.final_objective,
            elapsed_seconds=message.elapsed_seconds,
            trials=[Trial(t.number, t.state, list(t.values), params_of(t.parameters),
                          t.validation_value) for t in message.trials],
            pareto_front=list(message.pareto_front),
            period_statistics=None if stats is None else
            {"mean": stats.mean, "std": stats.std, "worst": stats.worst},
            study_name=message.study_name,
        )


@dataclasses.dataclass(frozen=True)
class TrainingJob:
    """A job as the service stores it. ``state`` is QUEUED, RUNNING, SUCCEEDED, FAILED,
    CANCELLED or INTERRUPTED; ``result`` is set once it SUCCEEDED; ``message`` says why it
    FAILED or was INTERRUPTED; ``fingerprint`` is the reference dict of its simulation settings."""

    job_id: str
    display_name: str
    state: str
    created: dt.datetime
    updated: dt.datetime
    dataset: str
    fingerprint: dict[str, Any]
    progress: Progress | None
    result: TrainingResult | None
    message: str

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    @classmethod
    def of(cls, job: training_pb2.Job) -> "TrainingJob":
        return cls(
            job_id=job.job_id, display_name=job.display_name, state=STATES.get(job.state, "?"),
            created=to_datetime(job.created_time), updated=to_datetime(job.updated_time),
            dataset=job.dataset, fingerprint=fingerprints.from_proto(job.fingerprint),
            progress=Progress.of(job.progress) if job.HasField("progress") else None,
            result=TrainingResult.of(job.result) if job.HasField("result") else None,
            message=job.message,
        )


@dataclasses.dataclass(frozen=True)
class JobUpdate:
    """One event of ``TrainClient.watch``: the job's state and its latest progress."""

    job_id: str
    state: str
    progress: Progress | None


def start_request(
    run_fingerprint: Mapping[str, Any] | types_pb2.RunFingerprint,
    settings: training_pb2.TrainingSettings | None = None,
    dataset: str = "default",
    initial_parameters: Sequence[Mapping[str, Any]] = (),
    display_name: str = "",
    report_every: int | None = None,
) -> training_pb2.StartJobRequest:
    """A StartJobRequest. A reference fingerprint dict carries its own training settings
    (``optimisation_settings``, ``bout_offset``, ``initial_*``); a RunFingerprint proto needs
    ``settings``. Unknown keys raise ``FingerprintError`` listing the valid ones."""
    if isinstance(run_fingerprint, Mapping):
        filled = fill_defaults(run_fingerprint)
        settings = settings or to_training_settings(
            filled, report_every, given_parameter_config(run_fingerprint))
    elif settings is None:
        raise ValueError("settings: required with a RunFingerprint proto")
    return training_pb2.StartJobRequest(
        dataset=dataset, fingerprint=as_fingerprint(run_fingerprint), settings=settings,
        initial_parameters=[as_parameter_set(p) for p in initial_parameters],
        display_name=display_name)


class TrainClient(ServiceClient):
    """The training service: start, watch, inspect, cancel and resume durable jobs.

    Args: as ``ServiceClient`` (address, timeout_seconds, retries on UNAVAILABLE, TLS
    credentials, metadata such as a bearer token).
    """

    def __init__(self, address: str, **options: Any) -> None:
        super().__init__(address, **options)
        self.stub = training_pb2_grpc.TrainingServiceStub(self.channel)

    def start(self, run_fingerprint: Fingerprint, **request: Any) -> str:
        """Queue a job (``start_request``'s arguments); returns its id at once."""
        message = start_request(run_fingerprint, **request)
        return self.call(self.stub.StartJob, message).job_id

    def get(self, job_id: str) -> TrainingJob:
        request = training_pb2.GetJobRequest(job_id=job_id)
        return TrainingJob.of(self.call(self.stub.GetJob, request).job)

    def list(self, state: str | None = None, page_size: int = 0) -> list[TrainingJob]:
        """Jobs, newest first (only those in ``state`` when given, e.g. ``"RUNNING"``)."""
        request = training_pb2.ListJobsRequest(
            state=training_pb2.JobState.Value(f"JOB_STATE_{state}") if state else 0,
            page_size=page_size)
        return [TrainingJob.of(j) for j in self.call(self.stub.ListJobs, request).jobs]

    def cancel(self, job_id: str) -> TrainingJob:
        request = training_pb2.CancelJobRequest(job_id=job_id)
        return TrainingJob.of(self.call(self.stub.CancelJob, request).job)

    def resume(self, job_id: str) -> TrainingJob:
        request = training_pb2.ResumeJobRequest(job_id=job_id)
        return TrainingJob.of(self.call(self.stub.ResumeJob, request).job)

    def watch(self, job_id: str) -> Iterator[JobUpdate]:
        """Progress events until the job ends. A dropped stream (UNAVAILABLE, e.g. the server
        restarting) is reopened up to ``retries`` times in a row; the server replays the latest
        event first, so nothing is missed but an event may repeat."""
        failures, delay = 0, 0.2
        while True:
            try:
                for event in self.stub.WatchJob(training_pb2.WatchJobRequest(job_id=job_id),
                                                metadata=self.metadata):
                    failures, delay = 0, 0.2
                    update = JobUpdate(event.job_id, STATES.get(event.state, "?"),
                                       Progress.of(event.progress)
                                       if event.HasField("progress") else None)
                    yield update
                    if update.state in ENDED:
                        return
                return
            except grpc.RpcError as error:
                if error.code() not in RETRIED or failures >= self.retries:
                    raise from_rpc_error(error) from None
                failures += 1
                time.sleep(delay)
                delay *= 2

    def wait(self, job_id: str,
             on_progress: Callable[[JobUpdate], None] | None = None) -> TrainingJob:
        """Watch ``job_id`` until it ends (calling ``on_progress`` per event); the final job."""
        for update in self.watch(job_id):
            if on_progress is not None:
                on_progress(update)
        return self.get(job_id)


__all__ = ["JobUpdate", "Progress", "TrainClient", "TrainingJob", "TrainingResult", "Trial",
           "start_request"]
