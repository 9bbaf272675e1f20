"""The fast paths give the numbers of the plain ones: block-level fused objective, batched
period reports, per-platform prefix scans; the XLA option, warm-up, compilation cache and the
memory of a 3-year run."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sim_service.engine import rules as engine_rules
from quantamm.core import parameters
from sim_service import warmup
from sim_service.device import bundled_dataset
from sim_service.datasets import DatasetRegistry
from sim_service.engine import metrics, prefix, simulation
from sim_service.engine.config import with_cpu_defaults
from sim_service.engine.windows import plan_window
from sim_service.servicer import SimulationServicer

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


def test_prefix_scans_match_numpy_and_route_the_peak_gradient():
    x = jnp.asarray(np.random.default_rng(1).normal(size=(3, 500)))
    np.testing.assert_allclose(prefix.cumsum(x), np.cumsum(x, axis=-1), rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(prefix.cummax(x), np.maximum.accumulate(x, axis=-1))
    values = jnp.asarray([1.0, 3.0, 2.0, 3.0, 0.5])
    grad = jax.grad(lambda v: jnp.sum(metrics.running_peak(v) * jnp.arange(5.0)))(values)
    # peaks: 1 (own), 3 (own), 3 (from index 1), 3 (own: latest tie), 3 (from index 3)
    np.testing.assert_array_equal(grad, [0.0, 1.0 + 2.0, 0.0, 3.0 + 4.0, 0.0])


def test_xla_option_is_added_without_losing_user_flags():
    assert with_cpu_defaults("") == (
        "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=100000000")
    merged = with_cpu_defaults("--xla_dump_to=/x --xla_backend_extra_options=a=1")
    assert merged == ("--xla_dump_to=/x --xla_backend_extra_options="
                      "a=1,xla_cpu_small_while_loop_byte_threshold=100000000")
    mine = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=5"
    assert with_cpu_defaults(mine) == mine
    assert "xla_cpu_small_while_loop_byte_threshold" in os.environ["XLA_FLAGS"]


def test_warmup_compiles_the_shapes_a_later_evaluate_uses():
    with pytest.raises(ValueError, match="momentum"):
        warmup.parse("momentum")
    assert warmup.parse("momentum:7, power_channel:30") == [("momentum", 7),
                                                             ("power_channel", 30)]
    servicer = SimulationServicer(DatasetRegistry())
    before = simulation.value_and_grad_sets._cache_size()
    assert warmup.warm_up(servicer, "momentum:9") > 0
    after = simulation.value_and_grad_sets._cache_size()
    assert after == before + 1
    warmup.warm_up(servicer, "momentum:9")  # same shapes, other parameters: no new program
    assert simulation.value_and_grad_sets._cache_size() == after


CACHE_PROBE = textwrap.dedent("""
    import logging, sys
    import jax, jax.numpy as jnp
    from sim_service.engine.config import configure, enable_compilation_cache
    from sim_service.engine import simulation
    configure()
    enable_compilation_cache(sys.argv[1])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("jax._src.compiler").setLevel(logging.DEBUG)
    prices = jnp.exp(jnp.cumsum(jnp.full((6 * 1440, 2), 1e-4), axis=0))
    config = simulation.SimConfig("momentum", 2, 2 * 1440 + 1)
    params = {"logit_lamb": jnp.zeros((1, 2)), "log_k": jnp.ones((1, 2)),
              "initial_weights_logits": jnp.zeros((1, 2))}
    jax.block_until_ready(simulation.value_and_grad_sets(params, prices,
                                                         jnp.asarray([3 * 1440]), config))
""")


def test_compilation_cache_is_reused_by_a_restarted_process(tmp_path):
    def run() -> str:
        return subprocess.run([sys.executable, "-c", CACHE_PROBE, str(tmp_path)], cwd=ROOT,
                              capture_output=True, text=True, check=True).stderr

    first = run()
    assert any((tmp_path / "jax").iterdir())
    assert "cache hit" not in first.lower()
    assert "persistent compilation cache hit" in run().lower()


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
