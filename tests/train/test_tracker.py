"""Tracking (train_service.tracker): the best mean objective, NaN ignored, early stopping."""

import numpy as np

from train_service import tracker


def test_tracker_keeps_the_best_mean_and_ignores_nan():
    params = {"x": np.arange(4.0).reshape(2, 2)}
    best = tracker.observe(tracker.Tracker(), 0, np.array([1.0, 3.0]), params)
    assert (best.value, best.iteration, best.index) == (2.0, 0, 1)
    assert tracker.observe(best, 1, np.array([np.nan, np.nan]), params) is best
    assert tracker.observe(best, 2, np.array([2.0, 2.0]), params) is best  # not strictly greater
    better = tracker.observe(best, 3, np.array([np.nan, 5.0]), params)
    assert (better.value, better.iteration, better.index) == (5.0, 3, 1)
    assert tracker.should_stop_early(better, 8, 5) and not tracker.should_stop_early(better, 7, 5)
