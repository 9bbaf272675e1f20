"""Window sampling (train_service.windows): training offsets keyed by seed and iteration (the
reference's JAX key chain by default, NumPy's generator as an option), the layout of the train /
validation / test periods, fixed evaluation windows."""

import json
import pathlib

import jax
import numpy as np
import pytest

from tests.train.conftest import gradient_request
from train_service import windows
from train_service.errors import RequestError


@pytest.mark.parametrize("method", ["uniform", "exponential", "stratified"])
def test_numpy_training_windows_are_distinct_in_range_and_keyed_by_seed_and_iteration(method):
    draws = [windows.training_offsets(7, i, 8, 2880, method, "numpy") for i in range(200)]
    for draw in draws:
        assert draw.shape == (8,) and len(set(draw)) == 8
        assert draw.min() >= 0 and draw.max() < 2880
    np.testing.assert_array_equal(draws[5],
                                  windows.training_offsets(7, 5, 8, 2880, method, "numpy"))
    assert not np.array_equal(draws[5], windows.training_offsets(8, 5, 8, 2880, method, "numpy"))
    assert_follows_the_method(draws, method)


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


VECTOR = pathlib.Path(__file__).parents[1] / "vectors" / "gradient_S1.npz"


def test_the_first_step_draws_the_reference_windows_of_gradient_s1():
    vector = np.load(VECTOR)
    fp = json.loads(str(vector["run_fingerprint_json"]))
    settings = fp["optimisation_settings"]
    assert (settings["initial_random_key"], settings["sample_method"]) == (0, "uniform")
    starts = windows.training_offsets(settings["initial_random_key"], 0, settings["batch_size"],
                                      fp["bout_offset"], settings["sample_method"])
    expected = vector["batch_start_minute_index"] - vector["first_minute_index"]
    np.testing.assert_array_equal(starts, expected)
    assert starts.dtype == np.int64


def _reference_chain(seed, n, batch_size, bout_offset, partitionable):
    """The reference's loop, written out: one key, split once per iteration."""
    with jax.threefry_partitionable(partitionable):
        key, draws = jax.random.key(seed), []
        for _ in range(n):
            key, subkey = jax.random.split(key)
            draws.append(np.asarray(jax.random.choice(subkey, bout_offset, (batch_size,),
                                                      replace=False)))
    return draws


@pytest.mark.parametrize("sampler, partitionable", [("reference", True),
                                                     ("reference_legacy", False)])
def test_later_iterations_follow_the_split_sequence_whatever_the_order_of_calls(
        sampler, partitionable):
    chain = _reference_chain(11, 25, 8, 2880, partitionable)
    for i in (24, 3, 4, 5, 0, 17, 24, 1):  # backwards, forwards, jumps: a pure function
        np.testing.assert_array_equal(
            windows.training_offsets(11, i, 8, 2880, "uniform", sampler), chain[i])


@pytest.mark.parametrize("method", ["uniform", "exponential", "stratified"])
def test_reference_training_windows_are_distinct_in_range_and_keyed_by_seed_and_iteration(
        method):
    draws = [windows.training_offsets(7, i, 8, 2880, method) for i in range(100)]
    for draw in draws:
        assert draw.shape == (8,) and len(set(draw)) == 8
        assert draw.min() >= 0 and draw.max() < 2880
    assert len({tuple(d) for d in draws}) == 100
    np.testing.assert_array_equal(draws[5], windows.training_offsets(7, 5, 8, 2880, method))
    assert not np.array_equal(draws[5], windows.training_offsets(8, 5, 8, 2880, method))
    assert not np.array_equal(draws[5],
                              windows.training_offsets(7, 5, 8, 2880, method, "reference_legacy"))
    assert not np.array_equal(draws[5], windows.training_offsets(7, 5, 8, 2880, method, "numpy"))
    assert_follows_the_method(draws, method)


def test_the_reference_sampler_ignores_the_ambient_jax_settings():
    expected = windows.training_offsets(0, 2, 8, 10080, "exponential")
    with jax.threefry_partitionable(False), jax.enable_x64(False):
        np.testing.assert_array_equal(windows.training_offsets(0, 2, 8, 10080, "exponential"),
                                      expected)


def test_an_unknown_sampler_is_refused():
    with pytest.raises(ValueError, match="window sampler"):
        windows.training_offsets(0, 0, 8, 2880, "uniform", "mersenne")


def assert_follows_the_method(draws: list[np.ndarray], method: str) -> None:
    """Stratified draws take one start per stratum of [0, 2880); exponential ones favour late
    starts (e^5 weighting)."""
    if method == "stratified":
        edges = np.linspace(0, 2880, 9).astype(int)
        assert all(np.all((d >= edges[:-1]) & (d < edges[1:])) for d in draws)
    if method == "exponential":
        late = np.mean([np.mean(d >= 1440) for d in draws])
        assert late > 0.75
