"""The two simulator calls training is built on, in numpy terms.

``objectives``: Evaluate over independent windows (values, optionally gradients).
``period_metrics``: EvaluatePeriods, one continuous run per set reported per period.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from quantamm_api.v1 import simulation_pb2
from quantamm.wire.tensors import from_tensor
from train_service import parameters
from train_service.parameters import Params
from train_service.problem import Problem
from train_service.simclient import SimClient

# metrics[set][period][metric]
PeriodMetrics = list[dict[str, dict[str, float]]]


def objectives(
    sim: SimClient, problem: Problem, params: Params, offsets: Sequence[int],
    with_gradient: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Objective per set and window [S, B] and, with ``with_gradient``, the gradient of each
    set's window-mean objective per key (shaped like ``params``: a key shared across assets
    [S, 1] gets the sum of its per-asset gradients)."""
    response = sim.evaluate(simulation_pb2.EvaluateRequest(
        dataset=problem.dataset,
        fingerprint=problem.training_fingerprint,
        stacked_parameters=parameters.to_stacked(params),
        window_start_offsets_minutes=[int(o) for o in offsets],
        window_length_minutes=problem.layout.window,
        with_gradient=with_gradient,
    ))
    gradients = {}
    for key, tensor in response.gradients.items():
        gradient = np.asarray(from_tensor(tensor, f"gradients[{key!r}]"), dtype=np.float64)
        if key in params and params[key].shape != gradient.shape:
            gradient = gradient.sum(axis=-1, keepdims=True)
        gradients[key] = gradient
    return np.asarray(from_tensor(response.objectives, "objectives"), dtype=np.float64), gradients


def period_metrics(sim: SimClient, problem: Problem, params: Params,
                   with_test: bool) -> PeriodMetrics:
    """Per set: period name (train, validation, test) -> scalar metrics of that slice of one
    continuous run from the start (the test period only when ``with_test``)."""
    fingerprint = problem.fingerprint if with_test else problem.training_fingerprint
    response = sim.evaluate_periods(simulation_pb2.EvaluatePeriodsRequest(
        dataset=problem.dataset,
        fingerprint=fingerprint,
        stacked_parameters=parameters.to_stacked(params),
        periods=[simulation_pb2.Period(name=name, start_offset_minutes=start,
                                       end_offset_minutes=end)
                 for name, start, end in problem.layout.periods(with_test)],
    ))
    return [{period.name: dict(period.metrics) for period in one.periods}
            for one in response.sets]


def metric_per_set(metrics: PeriodMetrics, period: str, name: str) -> np.ndarray:
    """[S] values of one metric on one period (NaN where absent)."""
    return np.array([one.get(period, {}).get(name, np.nan) for one in metrics])


def set_means(metrics: PeriodMetrics, period: str) -> dict[str, float]:
    """NaN-ignoring mean over sets of every metric of ``period``."""
    names = sorted({name for one in metrics for name in one.get(period, {})})
    return {name: nanmean(metric_per_set(metrics, period, name)) for name in names}


def nanmean(values: np.ndarray) -> float:
    """Mean ignoring NaN; NaN when nothing is finite (no warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(values))
