"""Gradient descent over gRPC (docs/training.md §3).

Per iteration t: draw ``batch_size`` window starts from a generator keyed by (seed, t); one
``Evaluate(with_gradient=True)`` for all sets x windows; one optax step for all sets; sets with
a non-finite entry are re-initialised from a bank (slot ``nan_events mod 32``, each slot a
seeded unit-noise initialisation) and their optimiser state is reset (a documented fix); every
``eval_every`` iterations one ``EvaluatePeriods`` gives train/validation metrics for the
best-parameter tracker and early stopping. Every ``report_every`` iterations the full loop state
is checkpointed, so a resumed run continues exactly where the uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from quantamm_api.v1 import training_pb2
from train_service import checkpoints, evaluation, parameters, windows
from train_service import tracker as tracking
from train_service.hooks import JobHooks, Stopped
from train_service.optimiser import Optimiser, state_from_leaves, state_leaves
from train_service.parameters import Params
from train_service.problem import Problem
from train_service.simclient import SimClient

NAN_BANK_SLOTS = 32
NAN_BANK_SCALE = 1.0


@dataclasses.dataclass
class Loop:
    """The state a checkpoint restores. ``iteration`` is the next iteration to run."""

    iteration: int
    params: Params
    opt_state: Any
    tracker: tracking.Tracker
    nan_events: int = 0
    rate_scale: float = 1.0
    last_decay: int = 0
    objective: float = math.nan
    elapsed: float = 0.0
    train_metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    validation_metrics: dict[str, float] = dataclasses.field(default_factory=dict)


def _trainable(problem: Problem, params: Params) -> Params:
    return {key: params[key] for key in problem.trainable}


def bank_entry(problem: Problem, slot: int) -> Params:
    """Re-initialisation ``slot`` of the NaN bank: [S, n] per key, unit Gaussian noise."""
    n_sets = problem.settings.n_parameter_sets
    seed = (problem.settings.seed + 1 + slot % NAN_BANK_SLOTS) % 2**32
    return parameters.perturb(parameters.stack(problem.base, n_sets, problem.shared),
                              list(problem.trainable), "gaussian", NAN_BANK_SCALE, seed)


def to_checkpoint(loop: Loop) -> bytes:
    best = loop.tracker.params or {}
    arrays = {**checkpoints.prefixed("params", loop.params),
              **checkpoints.prefixed("best", best),
              **checkpoints.prefixed("opt", {str(i): leaf for i, leaf in
                                             enumerate(state_leaves(loop.opt_state))})}
    meta = {name: getattr(loop, name) for name in
            ("iteration", "nan_events", "rate_scale", "last_decay", "objective", "elapsed",
             "train_metrics", "validation_metrics")}
    meta["tracker"] = [loop.tracker.value, loop.tracker.iteration, loop.tracker.index]
    return checkpoints.pack(arrays, meta)


def from_checkpoint(blob: bytes, optimiser: Optimiser, problem: Problem) -> Loop:
    arrays, meta = checkpoints.unpack(blob)
    params = checkpoints.unprefixed("params", arrays)
    best = checkpoints.unprefixed("best", arrays) or None
    leaves = checkpoints.unprefixed("opt", arrays)
    template = optimiser.init(_trainable(problem, params))
    opt_state = state_from_leaves(template, [leaves[str(i)] for i in range(len(leaves))])
    value, iteration, index = meta.pop("tracker")
    return Loop(params=params, opt_state=opt_state,
                tracker=tracking.Tracker(value, iteration, index, best), **meta)


def _fresh(problem: Problem, optimiser: Optimiser) -> Loop:
    params = problem.starting_sets()
    return Loop(0, params, optimiser.init(_trainable(problem, params)), tracking.Tracker())


def _replace_non_finite(loop: Loop, problem: Problem, optimiser: Optimiser) -> None:
    bad = parameters.non_finite_sets(loop.params, list(problem.trainable))
    if not bad.any():
        return
    entry = bank_entry(problem, loop.nan_events)
    for key in problem.trainable:
        mask = bad.reshape((-1,) + (1,) * (loop.params[key].ndim - 1))
        loop.params[key] = np.where(mask, entry[key], loop.params[key])
    loop.opt_state = optimiser.reset(loop.opt_state, _trainable(problem, loop.params), bad)
    loop.nan_events += 1


def _evaluate(loop: Loop, problem: Problem, sim: SimClient) -> None:
    metrics = evaluation.period_metrics(sim, problem, loop.params, with_test=False)
    period = "validation" if problem.layout.val_len else "train"
    values = evaluation.metric_per_set(metrics, period, problem.settings.early_stopping_metric)
    loop.tracker = tracking.observe(loop.tracker, loop.iteration, values, loop.params)
    loop.train_metrics = evaluation.set_means(metrics, "train")
    loop.validation_metrics = evaluation.set_means(metrics, "validation")


def _decay_sgd_rate(loop: Loop, problem: Problem) -> None:
    gradient = problem.settings.gradient
    anchor = max(loop.tracker.iteration, loop.last_decay)
    if gradient.optimiser == "sgd" and loop.iteration - anchor > gradient.decay_lr_plateau:
        loop.rate_scale = tracking.decayed_rate_scale(
            loop.rate_scale, gradient.decay_lr_ratio, gradient.min_lr / gradient.base_lr)
        loop.last_decay = loop.iteration


def _step(loop: Loop, problem: Problem, sim: SimClient, optimiser: Optimiser) -> None:
    """Iteration ``loop.iteration``: update, NaN repair, evaluation (when due)."""
    settings, gradient = problem.settings, problem.settings.gradient
    offsets = windows.training_offsets(settings.seed, loop.iteration, gradient.batch_size,
                                       settings.bout_offset_minutes, gradient.sample_method,
                                       gradient.window_sampler)
    per_window, gradients = evaluation.objectives(sim, problem, loop.params, offsets, True)
    objectives = per_window.mean(axis=1)
    updated, loop.opt_state = optimiser.step(
        _trainable(problem, loop.params), _trainable(problem, gradients), objectives,
        loop.opt_state, loop.rate_scale)
    loop.params = {**loop.params, **updated}
    loop.objective = evaluation.nanmean(objectives)
    _replace_non_finite(loop, problem, optimiser)
    last = gradient.n_iterations
    if loop.iteration % gradient.eval_every == 0 or loop.iteration == last:
        _evaluate(loop, problem, sim)
    _decay_sgd_rate(loop, problem)


def progress(loop: Loop, problem: Problem, optimiser: Optimiser) -> training_pb2.JobProgress:
    """Progress after iteration ``loop.iteration``."""
    metric = problem.settings.early_stopping_metric
    source = loop.validation_metrics if problem.layout.val_len else loop.train_metrics
    return training_pb2.JobProgress(
        iteration=loop.iteration,
        total_iterations=problem.settings.gradient.n_iterations + 1,
        objective=loop.objective,
        validation_metric=source.get(metric, math.nan),
        best_metric=loop.tracker.value,
        best_iteration=loop.tracker.iteration,
        learning_rate=optimiser.learning_rate(loop.opt_state, loop.iteration, loop.rate_scale),
        elapsed_seconds=loop.elapsed,
        train_metrics=loop.train_metrics,
        validation_metrics=loop.validation_metrics,
    )


def result(loop: Loop, problem: Problem, sim: SimClient, done: int) -> training_pb2.TrainingResult:
    """The tracker's best set, evaluated once more with the test period."""
    best = loop.tracker if loop.tracker.params is not None else \
        tracking.Tracker(math.nan, loop.iteration - 1, 0, loop.params)  # nothing finite seen
    metrics = evaluation.period_metrics(sim, problem, best.params, with_test=True)[best.index]
    return training_pb2.TrainingResult(
        best_parameters=parameters.to_proto(parameters.select(best.params, best.index)),
        best_iteration=best.iteration,
        best_param_index=best.index,
        best_metric_value=best.value,
        selection_method="best_val" if problem.layout.val_len else "best_train",
        selection_metric=problem.settings.early_stopping_metric,
        train_metrics=metrics.get("train", {}),
        validation_metrics=metrics.get("validation", {}),
        test_metrics=metrics.get("test", {}),
        iterations_done=done,
        final_objective=loop.objective,
        elapsed_seconds=loop.elapsed,
    )


def run(problem: Problem, sim: SimClient, job: JobHooks,
        checkpoint: bytes | None = None) -> training_pb2.TrainingResult:
    """Train ``problem`` (from ``checkpoint`` when given) and return the selected set."""
    settings = problem.settings
    optimiser = Optimiser(settings.gradient)
    loop = from_checkpoint(checkpoint, optimiser, problem) if checkpoint else \
        _fresh(problem, optimiser)
    clock, report = time.monotonic() - loop.elapsed, None
    while loop.iteration <= settings.gradient.n_iterations:
        if job.should_stop():
            if report is not None:
                job.report(report, to_checkpoint(loop))
            raise Stopped()
        _step(loop, problem, sim, optimiser)
        loop.elapsed = time.monotonic() - clock
        stop = settings.early_stopping and tracking.should_stop_early(
            loop.tracker, loop.iteration, settings.early_stopping_patience)
        finished = stop or loop.iteration == settings.gradient.n_iterations
        report = progress(loop, problem, optimiser)
        loop.iteration += 1
        if finished or loop.iteration % settings.report_every == 0:
            job.report(report, to_checkpoint(loop))
        if stop:
            break
    return result(loop, problem, sim, done=loop.iteration)
