"""The training side's pure pieces: parameter transforms (against the vectors of docs/simulation.md §2.1
and the engine), window sampling, schedules, the optimiser chain, tracking, study early
stopping, the search space, checkpoints and the replica-aware client."""

import math

import grpc
import jax
import numpy as np
import pytest

from sim_service.engine import rules as engine_rules
from quantamm_api.v1 import simulation_pb2, training_pb2
from quantamm.core import parameters as engine_parameters
from tests.train.conftest import gradient_request, optuna_request
from train_service import checkpoints, gradient, parameters, search, search_space, tracker, windows
from train_service.errors import RequestError, SimulationError
from train_service.optimiser import Optimiser, schedule
from train_service.problem import prepare
from train_service.settings import GradientSettings, resolve
from train_service.simclient import SimClient

@pytest.mark.parametrize("rule", ["momentum", "anti_momentum", "power_channel",
                                  "mean_reversion_channel", "difference_momentum",
                                  "min_variance", "balancer", "hodl"])
def test_initial_set_from_the_simulator_equals_the_engine_initialiser(sim_address, rule):
    initial = {"memory_length_days": [7.0, 20.0, 45.0], "memory_length_delta_days": 2.0,
               "k_per_day": 8.0, "weights_logits": [0.5, 0.0, -0.5], "log_amplitude": 0.5,
               "raw_width": -1.0, "raw_exponents": 1.5, "pre_exp_scaling": 0.3}
    ours = SimClient([sim_address]).initial_parameters(rule, 3, 60, initial)
    engine = engine_parameters.base_parameters(
        engine_rules.get(rule),
        {parameters.INITIAL_KEY_OF[k]: v for k, v in initial.items()}, 60, 3, 1)
    assert ours.keys() == engine.keys()
    for key in ours:
        np.testing.assert_array_equal(ours[key], engine[key][0], err_msg=key)


def test_noise_spreads_sets_one_onwards_with_noise_scale_and_keeps_set_zero(sim_address):
    base = SimClient([sim_address]).initial_parameters("momentum", 3, 1440, {})
    stacked = parameters.stack(base, 4)
    for method in parameters.NOISE_METHODS:
        noisy = parameters.perturb(stacked, ["log_k", "logit_lamb"], method, 0.1, seed=3)
        np.testing.assert_array_equal(noisy["log_k"][0], base["log_k"])
        np.testing.assert_array_equal(noisy["initial_weights_logits"],
                                      stacked["initial_weights_logits"])
        spread = noisy["logit_lamb"][1:] - base["logit_lamb"]
        assert 0 < np.abs(spread).max() < 0.6
        again = parameters.perturb(stacked, ["log_k", "logit_lamb"], method, 0.1, seed=3)
        np.testing.assert_array_equal(noisy["log_k"], again["log_k"])


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


def _gradient_settings(**changes) -> GradientSettings:
    message = training_pb2.TrainingSettings(
        gradient_descent=training_pb2.GradientDescentSettings(**changes), val_fraction=0.2)
    return resolve(message, 3).gradient


def test_schedules_decay_from_base_lr_to_base_over_ratio():
    constant = schedule(_gradient_settings(n_iterations=100))
    assert constant(0) == constant(100) == pytest.approx(0.1)
    cosine = schedule(_gradient_settings(n_iterations=100, lr_schedule_type="cosine"))
    assert (cosine(0), cosine(50), cosine(100)) == pytest.approx((0.1, 0.05005, 1e-4))
    exponential = schedule(_gradient_settings(n_iterations=100, lr_schedule_type="exponential"))
    assert (exponential(0), exponential(100)) == pytest.approx((0.1, 1e-4))
    warm = schedule(_gradient_settings(n_iterations=100, lr_schedule_type="warmup_cosine",
                                       warmup_steps=10))
    assert (warm(0), warm(10), warm(100)) == pytest.approx((1e-4, 0.1, 1e-4))


def test_plateau_decay_clipping_and_a_per_set_reset():
    settings = _gradient_settings(optimiser="adam", base_lr=0.1, use_plateau_decay=True,
                                  decay_lr_plateau=3, decay_lr_ratio=0.5, clip_norm=1.0)
    optimiser = Optimiser(settings)
    params = {"x": np.zeros((2, 3))}
    state = optimiser.init(params)
    for _ in range(4):  # the same objective: no improvement after the first step
        params, state = optimiser.step(params, {"x": np.full((2, 3), 1e6)}, np.ones(2), state)
    assert optimiser.learning_rate(state, 4) == pytest.approx(0.05)
    sgd = Optimiser(_gradient_settings(optimiser="sgd", base_lr=1.0, clip_norm=1.0))
    moved, _ = sgd.step({"x": np.zeros((1, 3))}, {"x": np.full((1, 3), 1e6)}, np.ones(1),
                        sgd.init({"x": np.zeros((1, 3))}))
    assert np.linalg.norm(moved["x"]) == pytest.approx(1.0)  # clipped, then ascended
    assert np.all(moved["x"] > 0)
    reset = optimiser.reset(state, params, np.array([False, True]))
    counts = [leaf for leaf in jax.tree_util.tree_leaves(reset) if leaf.dtype == np.int32]
    assert any(int(c[0]) > 0 and int(c[1]) == 0 for c in counts)


def test_tracker_keeps_the_best_mean_and_ignores_nan():
    params = {"x": np.arange(4.0).reshape(2, 2)}
    best = tracker.observe(tracker.Tracker(), 0, np.array([1.0, 3.0]), params)
    assert (best.value, best.iteration, best.index) == (2.0, 0, 1)
    assert tracker.observe(best, 1, np.array([np.nan, np.nan]), params) is best
    assert tracker.observe(best, 2, np.array([2.0, 2.0]), params) is best  # not strictly greater
    better = tracker.observe(best, 3, np.array([np.nan, 5.0]), params)
    assert (better.value, better.iteration, better.index) == (5.0, 3, 1)
    assert tracker.should_stop_early(better, 8, 5) and not tracker.should_stop_early(better, 7, 5)


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


def test_checkpoint_round_trip_restores_optimiser_state_and_tracker(sim_address):
    sim = SimClient([sim_address])
    problem = prepare(gradient_request(), sim)
    optimiser = Optimiser(problem.settings.gradient)
    loop = gradient._fresh(problem, optimiser)
    loop.tracker = tracker.observe(loop.tracker, 0, np.array([1.0, 2.0]), loop.params)
    loop.iteration, loop.nan_events = 7, 2
    restored = gradient.from_checkpoint(gradient.to_checkpoint(loop), optimiser, problem)
    assert (restored.iteration, restored.nan_events, restored.tracker.value) == (7, 2, 1.5)
    for a, b in zip(jax.tree_util.tree_leaves(loop.opt_state),
                    jax.tree_util.tree_leaves(restored.opt_state), strict=True):
        np.testing.assert_array_equal(a, b)
    arrays, meta = checkpoints.unpack(checkpoints.pack({"a": np.arange(3)}, {"b": math.inf}))
    assert meta == {"b": math.inf} and arrays["a"].tolist() == [0, 1, 2]


def test_non_finite_sets_are_replaced_from_the_bank_with_fresh_optimiser_state(sim_address):
    sim = SimClient([sim_address])
    problem = prepare(gradient_request(), sim)
    optimiser = Optimiser(problem.settings.gradient)
    loop = gradient._fresh(problem, optimiser)
    trainable = gradient._trainable(problem, loop.params)
    updated, loop.opt_state = optimiser.step(
        trainable, {k: np.ones_like(v) for k, v in trainable.items()}, np.ones(2), loop.opt_state)
    loop.params.update(updated)
    loop.params["log_k"][1, 0] = np.nan
    kept = loop.params["logit_lamb"][0].copy()
    gradient._replace_non_finite(loop, problem, optimiser)
    entry = gradient.bank_entry(problem, 0)
    np.testing.assert_array_equal(loop.params["log_k"][1], entry["log_k"][1])
    np.testing.assert_array_equal(loop.params["logit_lamb"][0], kept)
    assert loop.nan_events == 1
    counts = [leaf for leaf in jax.tree_util.tree_leaves(loop.opt_state) if leaf.dtype == np.int32]
    assert all(int(c[0]) == 1 and int(c[1]) == 0 for c in counts)


def _search_dims(sim_address, make_scalar: bool = False, **config):
    sim = SimClient([sim_address])
    request = optuna_request(make_scalar=make_scalar)
    for key, entry in config.items():
        request.settings.optuna.parameter_config[key].CopyFrom(training_pb2.ParameterRange(**entry))
    problem = prepare(request, sim)
    context = search_space.Context(problem.rule, problem.base, {}, 1440, 365.0)
    return search_space.dimensions(context, problem.settings.search, False)


def test_default_search_space_is_the_default_parameter_config_in_natural_units(sim_address):
    """No parameter_config: memory and k are searched over the default parameter_config's
    memory_length (1..200 days, log) and k_per_day (0.1..1000, log) entries, per asset."""
    dims = {d.name: d for d in _search_dims(sim_address)}
    assert set(dims) == {f"{k}_{i}" for k in ("k_per_day", "memory_length") for i in range(3)}
    memory, k = dims["memory_length_0"], dims["k_per_day_2"]
    assert (memory.key, memory.low, memory.high, memory.log_scale) == ("logit_lamb", 1, 200, True)
    assert (k.key, k.low, k.high, k.log_scale) == ("log_k", 0.1, 1000, True)
    assert memory.to_internal(10.0) == pytest.approx(0.755429980824)
    assert k.to_internal(8.0) == 3.0


def test_the_guides_parameter_config_is_applied_as_written(sim_address):
    """The training guide's example (memory_length 1..200, log scale, per asset), although it
    equals the default entry, is the range searched: absolute days, not expand_around offsets."""
    dims = [d for d in _search_dims(sim_address, memory_length={
        "low": 1, "high": 200, "log_scale": True, "scalar": False}) if d.key == "logit_lamb"]
    assert [(d.name, d.low, d.high, d.log_scale, d.asset) for d in dims] == [
        (f"memory_length_{i}", 1.0, 200.0, True, i) for i in range(3)]


def test_natural_units_and_expand_around_offsets_are_intersected_with_hard_bounds(sim_address):
    dims = {d.name: d for d in _search_dims(
        sim_address, memory_length={"low": 5.0, "high": 400.0, "scalar": True},
        log_k={"low": 1.0, "high": 2.0})}
    memory = dims["memory_length"]
    assert (memory.key, memory.low, memory.high) == ("logit_lamb", 5.0, 365.0)
    assert memory.log_scale
    assert memory.to_internal(10.0) == pytest.approx(0.755429980824)
    centre = math.log2(20)
    assert (dims["log_k_0"].low, dims["log_k_0"].high) == pytest.approx((centre - 1, centre + 2))
    scalar = _search_dims(sim_address, make_scalar=True, log_k={"low": 1.0, "high": 2.0})
    assert [d.name for d in scalar if d.key == "log_k"] == ["log_k"]
    assert [d.name for d in scalar if d.key == "logit_lamb"] == [
        f"memory_length_{i}" for i in range(3)]  # make_scalar: listed entries only
    with pytest.raises(RequestError, match=r"parameter_config\['logit_lamb'\]: empty"):
        _search_dims(sim_address, logit_lamb={"low": -20.0, "high": -19.0})
    with pytest.raises(RequestError, match="not a parameter of momentum"):
        _search_dims(sim_address, sp_k={"low": 0.0, "high": 1.0})


def test_client_moves_to_the_next_replica_and_never_retries_refusals(sim_address):
    dead = "127.0.0.1:9"  # discard port: connection refused
    sim = SimClient([dead, sim_address], backoff_seconds=0.01, timeout_seconds=30)
    assert sim.rule("momentum").name == "momentum"
    with pytest.raises(SimulationError) as refused:
        sim.evaluate(simulation_pb2.EvaluateRequest(dataset="default"))
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(SimulationError) as down:
        SimClient([dead], attempts=2, backoff_seconds=0.01).rule("momentum")
    assert down.value.code == grpc.StatusCode.UNAVAILABLE
