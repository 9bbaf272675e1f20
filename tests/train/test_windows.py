"""Window sampling (train_service.windows): training offsets keyed by seed and iteration, the
layout of the train / validation / test periods, fixed evaluation windows."""

import numpy as np
import pytest

from tests.train.conftest import gradient_request
from train_service import windows
from train_service.errors import RequestError


@pytest.mark.parametrize("method", ["uniform", "exponential", "stratified"])
def test_training_windows_are_distinct_in_range_and_keyed_by_seed_and_iteration(method):
    draws = [windows.training_offsets(7, i, 8, 2880, method) for i in range(200)]
    for draw in draws:
        assert draw.shape == (8,) and len(set(draw)) == 8
        assert draw.min() >= 0 and draw.max() < 2880
    np.testing.assert_array_equal(draws[5], windows.training_offsets(7, 5, 8, 2880, method))
    assert not np.array_equal(draws[5], windows.training_offsets(8, 5, 8, 2880, method))
    if method == "stratified":
        edges = np.linspace(0, 2880, 9).astype(int)
        assert all(np.all((d >= edges[:-1]) & (d < edges[1:])) for d in draws)
    if method == "exponential":
        late = np.mean([np.mean(d >= 1440) for d in draws])
        assert late > 0.75  # e^5 weighting favours late starts


def test_layout_follows_the_index_arithmetic_and_refuses_short_validation():
    request = gradient_request()
    layout = windows.layout(request.fingerprint, 2880, 0.2)
    assert (layout.t_train, layout.val_len, layout.t_test) == (28800, 5760, 10080)
    assert (layout.t_eff, layout.window) == (23040, 20160)
    assert layout.periods(True) == [("train", 0, 23040), ("validation", 23040, 28800),
                                    ("test", 28800, 38880)]
    with pytest.raises(RequestError, match="settings.val_fraction"):
        windows.layout(request.fingerprint, 2880, 0.04)
    with pytest.raises(RequestError, match="settings.bout_offset_minutes"):
        windows.layout(request.fingerprint, 23040, 0.2)


def test_evaluation_windows_are_fixed_per_seed_inside_the_bout_offset():
    starts = windows.evaluation_offsets(0, 2880)
    assert 20 <= len(starts) <= 40 and starts[0] == 0 and starts[-1] == 2879
    np.testing.assert_array_equal(starts, np.unique(starts))
    np.testing.assert_array_equal(starts, windows.evaluation_offsets(0, 2880))
