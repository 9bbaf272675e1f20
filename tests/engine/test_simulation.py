"""The simulation (sim_service.engine.simulation). Engine behaviour on synthetic prices:
gradients, step form, causality, compile caching. On the bundled data the fast paths give the
numbers of the plain ones (block-level fused objective, batched period reports), the path choice
(fee-free closed form, sequential scans on the CPU), and the memory of a 3-year run."""

import json
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sim_service.engine import rules as engine_rules
from quantamm.core import parameters
from sim_service.device import bundled_dataset
from sim_service.engine import metrics, pools, rules, simulation
from sim_service.engine.windows import plan_window

N_ASSETS = 3
CHUNK = 60
HISTORY_DAYS, WINDOW_DAYS = 12, 8
TRAINABLE_RULES = [
    "momentum",
    "anti_momentum",
    "power_channel",
    "mean_reversion_channel",
    "difference_momentum",
    "min_variance",
]


def random_walk_prices(n_minutes: int, seed: int = 7) -> np.ndarray:
    """Log-normal random walk [n_minutes, 3] with different vols, starting at 100, 10, 1."""
    rng = np.random.default_rng(seed)
    vol = np.array([8e-4, 1.1e-3, 3e-5])
    steps = rng.standard_normal((n_minutes, N_ASSETS)) * vol
    return np.array([100.0, 10.0, 1.0]) * np.exp(np.cumsum(steps, axis=0))


@pytest.fixture(scope="module")
def prices() -> jnp.ndarray:
    return jnp.asarray(random_walk_prices((HISTORY_DAYS + WINDOW_DAYS + 2) * 1440))


def config_for(rule: str, **overrides) -> simulation.SimConfig:
    settings = dict(
        rule=rule,
        n_assets=N_ASSETS,
        bout_length=WINDOW_DAYS * 1440 + 1,
        chunk_period=CHUNK,
        weight_interpolation_period=CHUNK,
        max_memory_days=30.0,
        maximum_change=1e-3,
    )
    return simulation.SimConfig(**{**settings, **overrides})


def rule_params(rule: str) -> dict:
    """Set 0 of the rule's initial parameters, with per-asset variety so gradients differ."""
    values = {
        "initial_memory_length": [3.0, 5.0, 4.0],
        "initial_memory_length_delta": [1.0, 2.0, 1.5],
        "initial_k_per_day": [8.0, 12.0, 10.0],
        "initial_weights_logits": [0.2, 0.0, -0.1],
        "initial_raw_exponents": [0.5, 0.7, 0.2],
    }
    params = parameters.init_base_parameters(engine_rules.get(rule), values, {"chunk_period": CHUNK}, N_ASSETS)
    return {key: jnp.asarray(value[0]) for key, value in params.items()}


START = HISTORY_DAYS * 1440 + 37  # a window start that is not on the chunk grid


@pytest.mark.parametrize("rule", TRAINABLE_RULES)
@pytest.mark.parametrize("return_val", ["daily_log_sharpe", "returns_over_hodl"])
def test_gradient_matches_central_finite_differences(prices, rule, return_val):
    config = config_for(rule, return_val=return_val)
    params = rule_params(rule)
    objective = jax.jit(lambda p: simulation.window_objective(p, prices, START, config))
    grads = jax.jit(jax.grad(objective))(params)
    trainable = [k for k, spec in pools.create_pool(rule).PARAM_SCHEMA.items() if spec.trainable]
    checked = 0
    for key in trainable:
        if key not in params:
            continue
        for i in range(N_ASSETS):
            step = 1e-5 * max(1.0, abs(float(params[key][i])))
            up = {**params, key: params[key].at[i].add(step)}
            down = {**params, key: params[key].at[i].add(-step)}
            fd = (float(objective(up)) - float(objective(down))) / (2 * step)
            assert float(grads[key][i]) == pytest.approx(fd, rel=2e-4, abs=1e-7), (key, i)
            checked += 1
    assert checked >= 2 * N_ASSETS
    assert np.all(np.asarray(grads["initial_weights_logits"]) == 0.0)


@pytest.mark.parametrize("rule", TRAINABLE_RULES)
def test_step_form_equals_vectorised_form(prices, rule):
    pool = pools.create_pool(rule)
    fingerprint = {"rule": rule, "chunk_period": CHUNK, "max_memory_days": 30.0,
                   "weight_interpolation_period": CHUNK, "maximum_change": 1e-3}
    params = rule_params(rule)
    vectorised = pool.calculate_rule_outputs(params, fingerprint, prices)
    chunk_prices = prices[::CHUNK]
    carry = pool.get_initial_rule_state(chunk_prices[0], params, fingerprint)
    stepped = []
    for price in chunk_prices[1:]:
        carry, output = pool.calculate_rule_output_step(carry, price, params, fingerprint)
        stepped.append(output)
    stepped = jnp.stack(stepped)
    assert stepped.shape == vectorised.shape == (chunk_prices.shape[0] - 1, N_ASSETS)
    config = config_for(rule)
    w0 = simulation.initial_weights(params, N_ASSETS)
    as_weights = lambda u: simulation.tfmm_window_weights(params, u, START, config)  # noqa: E731
    assert float(jnp.max(jnp.abs(as_weights(stepped) - as_weights(vectorised)))) < 1e-10
    assert float(jnp.max(jnp.abs(stepped - vectorised))) < 1e-10
    assert w0.shape == (N_ASSETS,)


@pytest.mark.parametrize("rule", ["momentum", "power_channel", "mean_reversion_channel",
                                  "difference_momentum", "anti_momentum"])
def test_no_look_ahead(prices, rule):
    """Changing prices from window minute t on changes no weight at or before t."""
    config = config_for(rule)
    params = rule_params(rule)
    base = simulation.simulate(params, prices, START, config)
    for t in (CHUNK - 1, 3 * CHUNK, 3 * CHUNK + 17, 5 * 1440):
        shocked = prices.at[START + t :].multiply(jnp.array([1.3, 0.7, 1.0]))
        out = simulation.simulate(params, shocked, START, config)
        np.testing.assert_array_equal(out["weights"][: t + 1], base["weights"][: t + 1])
        np.testing.assert_array_equal(out["values"][:t], base["values"][:t])
        assert not np.allclose(out["weights"][t + CHUNK + 1 :], base["weights"][t + CHUNK + 1 :])


def test_first_chunk_holds_initial_weights_and_first_change_follows_boundary(prices):
    config = config_for("momentum")
    params = rule_params("momentum")
    out = simulation.simulate(params, prices, START, config)
    w0 = np.asarray(simulation.initial_weights(params, N_ASSETS))
    np.testing.assert_allclose(out["weights"][: CHUNK + 1], np.tile(w0, (CHUNK + 1, 1)), atol=1e-15)
    assert np.max(np.abs(np.diff(out["weights"], axis=0))) <= config.maximum_change + 1e-15


def test_repeated_calls_do_not_recompile(prices):
    config = config_for("momentum", bout_length=WINDOW_DAYS * 1440 - 119)
    params = {k: v[None] for k, v in rule_params("momentum").items()}
    starts = jnp.array([START, START + 1000])
    simulation.value_and_grad_sets(params, prices, starts, config)
    simulation.simulate(rule_params("momentum"), prices, START, config)
    sizes = (simulation.value_and_grad_sets._cache_size(), simulation.simulate._cache_size())
    other = {k: v + 0.01 for k, v in params.items()}
    simulation.value_and_grad_sets(other, prices, starts + 5, config)
    simulation.simulate(rule_params("momentum"), prices, START + 60, config)
    assert (simulation.value_and_grad_sets._cache_size(), simulation.simulate._cache_size()) == sizes


def test_parameter_sets_and_windows_vmap_consistently(prices):
    config = config_for("mean_reversion_channel")
    sets = parameters.init_base_parameters(
        engine_rules.get("mean_reversion_channel"), {}, {"chunk_period": CHUNK}, N_ASSETS, n_parameter_sets=3
    )
    sets = {k: jnp.asarray(v) for k, v in sets.items()}
    starts = jnp.array([START, START + 500, START + 2000])
    batched = simulation.evaluate_sets(sets, prices, starts, config)
    for s in range(3):
        one = {k: v[s] for k, v in sets.items()}
        for b in range(3):
            single = simulation.objective(one, prices, starts[b], config)
            assert float(batched[s, b]) == pytest.approx(float(single), rel=1e-12)


def test_hodl_and_no_arbitrage_hold_reserves(prices):
    for config in (config_for("hodl"), config_for("momentum", do_arb=False)):
        out = simulation.simulate(rule_params("momentum"), prices, START, config)
        np.testing.assert_array_equal(out["reserves"], np.tile(out["reserves"][0], (config.n_minutes, 1)))


def test_arb_frequency_holds_reserves_between_arbitrages(prices):
    config = config_for("momentum", arb_frequency=15)
    out = simulation.simulate(rule_params("momentum"), prices, START, config)
    reserves = np.asarray(out["reserves"])
    assert reserves.shape == (config.n_minutes, N_ASSETS)
    np.testing.assert_array_equal(reserves[15:30], np.tile(reserves[15], (15, 1)))
    assert not np.array_equal(reserves[15], reserves[30])


def test_rules_reject_unknown_names():
    with pytest.raises(ValueError, match="unknown rule"):
        simulation.SimConfig("momentun", 3, 100)
    with pytest.raises(ValueError, match="unknown TFMM rule"):
        rules.rule_kernel("balancer", {}, rules.RuleSettings())


def test_optimal_interpolation_stays_on_the_simplex_and_differs_from_linear(prices):
    params = rule_params("momentum")
    linear = simulation.simulate(params, prices, START, config_for("momentum"))
    optimal = simulation.simulate(
        params, prices, START, config_for("momentum", weight_interpolation_method="optimal")
    )
    approx = simulation.simulate(
        params, prices, START, config_for("momentum", weight_interpolation_method="approx_optimal")
    )
    np.testing.assert_array_equal(optimal["weights"], approx["weights"])
    np.testing.assert_allclose(np.sum(optimal["weights"], axis=1), 1.0, atol=1e-12)
    assert 0 < float(np.max(np.abs(optimal["weights"] - linear["weights"]))) < 1e-2
    with pytest.raises(ValueError, match="weight_interpolation_method"):
        config_for("momentum", weight_interpolation_method="cubic")


def test_min_variance_looks_ahead_by_default_and_not_in_causal_mode(prices):
    """The reference's weight rule sees up to one chunk ahead; the causal mode does not."""
    params = rule_params("min_variance")
    start = HISTORY_DAYS * 1440  # on the chunk grid
    t = CHUNK  # perturb from the first chunk boundary of the window on
    shocked = prices.at[start + t :].multiply(jnp.array([1.0, 1.0, 1.5]))  # the stable asset jumps
    reference = config_for("min_variance")
    causal = config_for("min_variance", weight_rule_causal=True)
    base = simulation.simulate(params, prices, start, reference)
    moved = simulation.simulate(params, shocked, start, reference)
    assert not np.array_equal(base["weights"][0], moved["weights"][0])  # look-ahead (quirk)
    base = simulation.simulate(params, prices, start, causal)
    moved = simulation.simulate(params, shocked, start, causal)
    np.testing.assert_array_equal(moved["weights"][: t + 1], base["weights"][: t + 1])
    assert not np.array_equal(moved["weights"][t + CHUNK + 1 :], base["weights"][t + CHUNK + 1 :])


# --------------------------------------------------------------------------- fast paths, bundled data

ROOT = pathlib.Path(__file__).resolve().parents[2]
DAY = 1440
START_ROW = 833_760  # 2023-01-01


@pytest.fixture(scope="module")
def data():
    dataset = bundled_dataset(("BTC", "ETH", "USDC"))
    plan = plan_window(START_ROW, START_ROW + 100 * DAY, dataset.series.n_minutes, 365)
    prices, log_prices = dataset.rows(plan.first_row, plan.last_row)
    return prices, log_prices, plan.start_index


def noisy_sets(rule: str, n_sets: int, chunk: int = DAY) -> dict:
    base = parameters.init_base_parameters(engine_rules.get(rule), {}, {"chunk_period": chunk}, 3, n_sets)
    rng = np.random.default_rng(7)
    return {k: jnp.asarray(v + 0.4 * rng.standard_normal(v.shape)) for k, v in base.items()}


@pytest.mark.parametrize("settings", [
    {}, {"chunk_period": 60, "weight_interpolation_period": 60},
    {"chunk_period": 720, "weight_interpolation_period": 300}, {"use_alt_lamb": True},
])
def test_block_boundary_values_equal_the_minute_path(data, settings):
    prices, log_prices, start = data
    config = simulation.SimConfig("momentum", 3, 40 * DAY + 777, **settings)
    assert config.uses_block_objective
    params = {k: v[0] for k, v in noisy_sets("momentum", 1, config.chunk_period).items()}
    minute = simulation.daily_boundary_values(
        simulation.window_weights(params, prices, start, config),
        simulation.window_log_prices(prices, log_prices, start, config), 1e6)
    raw = simulation.whole_rule_outputs(params, prices, config)
    sums = simulation.window_block_prices(prices, log_prices, jnp.asarray([start]), config)
    block = simulation.block_boundary_values(
        params, raw, start, jax.tree_util.tree_map(lambda x: x[0], sums), config)
    assert block.shape == (41,)
    np.testing.assert_allclose(np.asarray(block), np.asarray(minute), rtol=1e-13)


@pytest.mark.parametrize("rule", ["momentum", "power_channel", "difference_momentum"])
def test_block_objective_and_gradient_equal_the_full_path(data, rule):
    prices, log_prices, start = data
    stacked = noisy_sets(rule, 2)
    starts = jnp.asarray(start + np.array([0, 3_001, 9_999]))
    fused = simulation.SimConfig(rule, 3, 60 * DAY + 1)
    full = simulation.SimConfig(rule, 3, 60 * DAY + 1, use_fused_reserves=False)
    assert fused.uses_block_objective and not full.uses_fused_objective
    a = simulation.value_and_grad_sets(stacked, prices, starts, fused, log_prices)
    b = simulation.value_and_grad_sets(stacked, prices, starts, full, log_prices)
    np.testing.assert_allclose(np.asarray(a[1]), np.asarray(b[1]), rtol=1e-11)
    for key in a[2]:
        np.testing.assert_allclose(np.asarray(a[2][key]), np.asarray(b[2][key]),
                                   rtol=1e-8, atol=1e-12)
    single = simulation.objective({k: v[1] for k, v in stacked.items()}, prices, starts[2], fused)
    assert float(single) == pytest.approx(float(a[1][1, 2]), rel=1e-12)


def test_period_reports_equal_one_run_per_set(data):
    prices, log_prices, start = data
    config = simulation.SimConfig("momentum", 3, 50 * DAY + 1)
    stacked = noisy_sets("momentum", 3)
    periods = ((0, 30 * DAY), (30 * DAY, 50 * DAY))
    states = jnp.asarray([0, 45 * DAY])
    reports, weights, reserves = simulation.period_reports(
        stacked, prices, start, config, periods, states, log_prices)
    for s in range(3):
        one = {k: v[s] for k, v in stacked.items()}
        out = simulation.simulate(one, prices, start, config, log_prices)
        np.testing.assert_allclose(weights[s], out["weights"][states], rtol=1e-13)
        np.testing.assert_allclose(reserves[s], out["reserves"][states], rtol=1e-13)
        for (a, b), report in zip(periods, reports, strict=True):
            expected = metrics.slice_metrics(out["values"][a:b], out["reserves"][a:b],
                                             out["prices"][a:b])
            for key, value in expected.items():
                np.testing.assert_allclose(report[key][s], value, rtol=1e-11, err_msg=key)
    _, no_states, _ = simulation.period_reports(
        stacked, prices, start, config, periods, jnp.zeros((0,), jnp.int64), log_prices)
    assert no_states.shape == (3, 0, 3)


def test_fee_free_settings_keep_the_closed_form_fast_path():
    config = simulation.SimConfig("momentum", 3, 10_000)
    assert not config.uses_fee_path and config.uses_fused_objective
    assert simulation.SimConfig("momentum", 3, 10_000, fees=0.003).uses_fee_path
    assert not simulation.SimConfig("momentum", 3, 10_000, fees=0.003).uses_fused_objective


def test_a_three_year_run_stays_under_two_gib():
    output = subprocess.run([sys.executable, str(ROOT / "bench" / "memory.py")], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    assert result["minutes"] == 3 * 365 * DAY
    assert 0 < result["peak_rss_mib"] < 2048


def test_sequential_scans_go_to_the_cpu_when_an_accelerator_is_the_default():
    fees = simulation.SimConfig("momentum", 3, 10 * DAY, fees=0.003)
    zero = simulation.SimConfig("momentum", 3, 10 * DAY)
    cow = simulation.SimConfig("cow", 2, 10 * DAY)
    assert simulation.sequential_device(fees, "gpu").platform == "cpu"
    assert simulation.sequential_device(cow, "gpu").platform == "cpu"
    assert simulation.sequential_device(zero, "gpu") is None
    assert simulation.sequential_device(fees, "cpu") is None
