"""Optuna search over gRPC (docs/training.md §4.1, with its fixes).

- Sampler: multivariate TPE with ``n_startup_trials`` random trials, whose randomness is keyed by
  (seed, trial number): a run is reproducible, and workers sharing a study draw different trials.
- Trials run in batches of ``n_jobs``: asked in order, evaluated concurrently (each its own
  calls to sim_service, spread over the replicas), told in order. Batches keep a single-worker
  study reproducible whatever the timing of the simulator.
- A trial simulates up to 40 independent windows of the training length at fixed starts
  (one ``Evaluate`` call): mean, worst and std of the objective over them; one
  ``EvaluatePeriods`` call gives its validation value. Single objective:
  ``mean - overfitting_penalty * max(0, mean - validation)``; multi-objective: (mean, worst,
  -std), returning the Pareto front and its best-balanced trial.
- Study early stopping: stop when the best validation value of the last ``patience`` completed
  trials beats the best of all earlier ones by less than ``min_improvement`` (relative).
- Studies live in an RDB (the job store's URL unless ``storage_url`` is given) and are loaded
  by name if they exist, so several training workers can share one.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import threading
import time
import warnings
from typing import Sequence

import numpy as np
import optuna
import sqlalchemy.exc
from optuna.trial import FrozenTrial, TrialState

from quantamm.core.vocabulary import period_metric_of
from quantamm_api.v1 import training_pb2
from train_service import evaluation, parameters, search_space, windows
from train_service.errors import SimulationError
from train_service.hooks import JobHooks, Stopped, TrainingFailed
from train_service.parameters import Params
from train_service.problem import Problem
from train_service.simclient import RETRYABLE, SimClient

optuna.logging.set_verbosity(optuna.logging.WARNING)
JOB_ATTR = "quantamm_job_id"
STORAGE_ATTEMPTS = 4
_STORAGES: dict[str, optuna.storages.RDBStorage] = {}
_STORAGE_LOCK = threading.Lock()


class TrialSeededSampler(optuna.samplers.BaseSampler):
    """Multivariate TPE re-seeded per trial from (seed, trial number)."""

    def __init__(self, seed: int, n_startup_trials: int) -> None:
        self._seed = seed
        self._startup = n_startup_trials
        self._current: tuple[int, optuna.samplers.TPESampler] | None = None

    def _for(self, trial: FrozenTrial) -> optuna.samplers.TPESampler:
        if self._current is None or self._current[0] != trial.number:
            seed = int(np.random.SeedSequence([self._seed, trial.number]).generate_state(1)[0])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                sampler = optuna.samplers.TPESampler(
                    seed=seed, n_startup_trials=self._startup, multivariate=True,
                    constant_liar=True)
            self._current = (trial.number, sampler)
        return self._current[1]

    def infer_relative_search_space(self, study, trial):
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._for(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._for(trial).sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial):
        self._for(trial).before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        self._for(trial).after_trial(study, trial, state, values)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A trial's numbers over the evaluation windows, or the error that failed it."""

    mean: float = math.nan
    worst: float = math.nan
    std: float = math.nan
    validation: float = math.nan
    error: str = ""


def _create_storage(url: str) -> optuna.storages.RDBStorage:
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    for attempt in range(STORAGE_ATTEMPTS - 1):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
        except sqlalchemy.exc.DBAPIError:  # another worker is creating the schema right now
            time.sleep(0.5 * (attempt + 1))
    return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)


def storage(url: str) -> optuna.storages.RDBStorage:
    """The process's Optuna storage for ``url`` (created once; SQLite waits for locks, and a
    schema race with another worker on a fresh database is retried)."""
    with _STORAGE_LOCK:
        if url not in _STORAGES:
            _STORAGES[url] = _create_storage(url)
        return _STORAGES[url]


def trial_value(outcome: Outcome, penalty: float, multi_objective: bool) -> list[float]:
    """The value(s) Optuna maximises for a trial."""
    if multi_objective:
        return [outcome.mean, outcome.worst, -outcome.std]
    if penalty > 0:
        return [outcome.mean - penalty * max(0.0, outcome.mean - outcome.validation)]
    return [outcome.mean]


def stalled(validation: Sequence[float], patience: int, min_improvement: float) -> bool:
    """Study early stopping on completed trials' validation values, in trial order."""
    if len(validation) <= patience:
        return False
    values = np.where(np.isfinite(validation), validation, -np.inf)
    earlier, recent = values[:-patience].max(), values[-patience:].max()
    if not np.isfinite(earlier):
        return False
    gain = recent - earlier if earlier == 0 else (recent - earlier) / abs(earlier)
    return gain < min_improvement


def best_balanced(front: Sequence[FrozenTrial]) -> FrozenTrial:
    """The Pareto trial closest to the ideal point after min-max normalising each objective."""
    values = np.array([trial.values for trial in front], dtype=np.float64)
    low, high = values.min(axis=0), values.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    normalised = np.where(high > low, (values - low) / span, 1.0)
    return front[int(np.argmin(np.linalg.norm(normalised - 1.0, axis=1)))]


def _evaluate(sim: SimClient, problem: Problem, params: Params, offsets: np.ndarray) -> Outcome:
    stacked = {key: value[None] for key, value in params.items()}
    try:
        per_window = evaluation.objectives(sim, problem, stacked, offsets)[0][0]
        periods = evaluation.period_metrics(sim, problem, stacked, with_test=False)[0]
    except SimulationError as error:
        if error.code in RETRYABLE:
            raise
        return Outcome(error=str(error))
    name = period_metric_of(problem.return_val)
    return Outcome(float(np.mean(per_window)), float(np.min(per_window)),
                   float(np.std(per_window)), periods.get("validation", {}).get(name, math.nan))


class Search:
    """One job's search: space, windows, study, and the sim calls of its trials."""

    def __init__(self, problem: Problem, sim: SimClient, job_id: str, default_url: str) -> None:
        fp, search = problem.fingerprint, problem.settings.search
        self.problem, self.sim, self.job_id = problem, sim, job_id
        self.search, self.start, self.dims = search, problem.start, list(problem.dimensions)
        self.offsets = windows.evaluation_offsets(problem.settings.seed,
                                                  problem.settings.bout_offset_minutes)
        self.study_name = search.study_name or f"quantamm_{fp.rule}_{job_id}"
        self.study = optuna.create_study(
            study_name=self.study_name,
            storage=storage(search.storage_url or default_url),
            sampler=TrialSeededSampler(problem.settings.seed, search.n_startup_trials),
            directions=["maximize"] * (3 if search.multi_objective else 1),
            load_if_exists=True,
        )

    def _suggest(self, trial: optuna.Trial) -> dict[str, float]:
        trial.set_user_attr(JOB_ATTR, self.job_id)
        return {dim.name: trial.suggest_float(dim.name, dim.low, dim.high, log=dim.log_scale)
                for dim in self.dims}

    def _tell(self, trial: optuna.Trial, outcome: Outcome) -> None:
        for name in ("mean", "worst", "std", "validation"):
            trial.set_user_attr(name, getattr(outcome, name))
        values = trial_value(outcome, self.search.overfitting_penalty,
                             self.search.multi_objective)
        if outcome.error or not all(math.isfinite(v) for v in values):
            trial.set_user_attr("error", outcome.error or "non-finite objective")
            self.study.tell(trial, state=TrialState.FAIL)
        else:
            self.study.tell(trial, values)

    def _own_trials(self) -> list[FrozenTrial]:
        return [t for t in self.study.get_trials(deepcopy=False)
                if t.user_attrs.get(JOB_ATTR) == self.job_id]

    def fail_orphans(self) -> int:
        """Fail this job's trials left RUNNING by a stopped server; the trials it finished."""
        for trial in self._own_trials():
            if trial.state == TrialState.RUNNING:
                self.study.tell(trial.number, state=TrialState.FAIL)
        return len(self._own_trials())

    def batch(self, pool: concurrent.futures.Executor, size: int) -> None:
        """Ask ``size`` trials, evaluate them concurrently, tell them in order."""
        trials = [self.study.ask() for _ in range(size)]
        candidates = [search_space.apply(self.start, self.dims, self._suggest(t)) for t in trials]
        futures = [pool.submit(_evaluate, self.sim, self.problem, params, self.offsets)
                   for params in candidates]
        try:
            outcomes = [future.result() for future in futures]
        except Exception:  # the simulator is unreachable (or worse): the job fails
            concurrent.futures.wait(futures)
            for trial in trials:
                self.study.tell(trial, state=TrialState.FAIL)
            raise
        for trial, outcome in zip(trials, outcomes, strict=True):
            self._tell(trial, outcome)

    def complete(self) -> list[FrozenTrial]:
        return self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))

    def best(self) -> FrozenTrial:
        if self.search.multi_objective:
            return best_balanced(self.study.best_trials)
        return self.study.best_trial

    def stalled(self) -> bool:
        validation = [t.user_attrs.get("validation", math.nan) for t in self.complete()]
        return self.search.early_stopping and stalled(
            validation, self.search.early_stopping_patience,
            self.search.early_stopping_min_improvement)

    def params_of(self, trial: FrozenTrial) -> Params | None:
        if not all(dim.name in trial.params for dim in self.dims):
            return None
        return search_space.apply(self.start, self.dims, trial.params)

    def progress(self, done: int, elapsed: float) -> training_pb2.JobProgress:
        complete = self.complete()
        best = self.best() if complete else None
        last = complete[-1] if complete else None
        return training_pb2.JobProgress(
            iteration=done, total_iterations=self.search.n_trials,
            objective=last.values[0] if last else math.nan,
            validation_metric=last.user_attrs.get("validation", math.nan) if last else math.nan,
            best_metric=best.values[0] if best else math.nan,
            best_iteration=best.number if best else -1,
            elapsed_seconds=elapsed,
        )

    def summary(self, trial: FrozenTrial) -> training_pb2.TrialSummary:
        params = self.params_of(trial)
        return training_pb2.TrialSummary(
            number=trial.number, state=trial.state.name, values=trial.values or [],
            parameters=parameters.to_proto(params) if params is not None else None,
            validation_value=trial.user_attrs.get("validation", math.nan))

    def result(self, done: int, elapsed: float) -> training_pb2.TrainingResult:
        """The best (or best-balanced) trial, evaluated once more with the test period."""
        if not self.complete():
            errors = [t.user_attrs.get("error", "") for t in self._own_trials()]
            raise TrainingFailed(f"no trial completed; first error: {errors[0] if errors else ''}")
        best = self.best()
        params = self.params_of(best)
        metrics = evaluation.period_metrics(
            self.sim, self.problem, {k: v[None] for k, v in params.items()}, with_test=True)[0]
        front = self.study.best_trials if self.search.multi_objective else []
        return training_pb2.TrainingResult(
            best_parameters=parameters.to_proto(params),
            best_iteration=best.number,
            best_metric_value=best.values[0],
            selection_method="best_train",
            selection_metric=self.problem.return_val,
            train_metrics=metrics.get("train", {}),
            validation_metrics=metrics.get("validation", {}),
            test_metrics=metrics.get("test", {}),
            iterations_done=done,
            final_objective=best.values[0],
            elapsed_seconds=elapsed,
            trials=[self.summary(t) for t in self.study.get_trials(deepcopy=False)],
            pareto_front=sorted(t.number for t in front),
            period_statistics=training_pb2.PeriodStatistics(
                **{name: best.user_attrs[name] for name in ("mean", "std", "worst")}),
            study_name=self.study_name,
        )


def run(problem: Problem, sim: SimClient, job: JobHooks, job_id: str,
        default_url: str) -> training_pb2.TrainingResult:
    """Run (or continue, after a restart) the job's share of its study."""
    search = Search(problem, sim, job_id, default_url)
    options = search.search
    done = search.fail_orphans()
    clock = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(options.n_jobs, thread_name_prefix="trial") as pool:
        while done < options.n_trials:
            if job.should_stop():
                raise Stopped()
            if time.monotonic() - clock >= options.timeout_seconds:
                break
            size = min(options.n_jobs, options.n_trials - done)
            search.batch(pool, size)
            done += size
            job.report(search.progress(done, time.monotonic() - clock))
            if search.stalled():
                break
    return search.result(done, time.monotonic() - clock)
