"""Best-parameter tracking, early stopping and the sgd plateau (docs/training.md §3.6,
§3.9, §3.10), checked at every evaluation rather than only at progress reports."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from train_service.parameters import Params


@dataclasses.dataclass(frozen=True)
class Tracker:
    """The best evaluation so far: ``value`` is the NaN-mean over sets of the selection metric,
    ``index`` the set with the largest metric in that evaluation, ``params`` all sets [S, n]."""

    value: float = -math.inf
    iteration: int = -1
    index: int = 0
    params: Params | None = None


def observe(tracker: Tracker, iteration: int, values: np.ndarray, params: Params) -> Tracker:
    """The tracker after an evaluation with selection metric ``values`` [S]; an improvement
    must be strictly greater, and an all-NaN evaluation never improves."""
    finite = np.where(np.isfinite(values), values, np.nan)
    if not np.any(np.isfinite(finite)):
        return tracker
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(np.nanmean(finite))
    if value <= tracker.value:
        return tracker
    return Tracker(value, iteration, int(np.nanargmax(finite)),
                   {key: np.array(array) for key, array in params.items()})


def since_improvement(tracker: Tracker, iteration: int) -> int:
    """Iterations since the tracker last improved (since the start when it never did)."""
    return iteration - tracker.iteration


def should_stop_early(tracker: Tracker, iteration: int, patience: int) -> bool:
    return since_improvement(tracker, iteration) >= patience


def decayed_rate_scale(scale: float, ratio: float, floor: float) -> float:
    """The carried sgd rate scale after a plateau: ``max(scale * ratio, floor)``."""
    return max(scale * ratio, floor)
