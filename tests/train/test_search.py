"""Study pieces (train_service.search): early stopping of a study, the balanced best trial."""

import math

from train_service import search


def test_study_early_stopping_compares_recent_with_earlier_trials():
    assert not search.stalled([1.0, 2.0, 3.0], patience=3, min_improvement=0.01)
    assert not search.stalled([1.0, 2.0, 3.0, 4.0], patience=3, min_improvement=0.01)
    assert search.stalled([4.0, 2.0, 3.0, 4.0], patience=3, min_improvement=0.01)
    assert search.stalled([0.0, -1.0, 0.0005], patience=2, min_improvement=0.001)
    assert not search.stalled([math.nan, 1.0, 2.0], patience=2, min_improvement=0.001)


def test_best_balanced_is_closest_to_the_ideal_point():
    class Trial:
        def __init__(self, values):
            self.values = values
    front = [Trial([10.0, 0.0, -5.0]), Trial([8.0, 4.0, -1.0]), Trial([5.0, 5.0, -0.5])]
    assert search.best_balanced(front) is front[1]
