"""Metrics (sim_service.engine.metrics) against NumPy transcriptions of docs/simulation.md §7.

The ``np_*`` functions below are written directly from docs/simulation.md §7 and
docs/training.md §6.2, with loops over blocks where that reads closer to the text.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sim_service.engine import metrics

DAY = 1440
WEEK = 7 * DAY
MONTH = 30 * DAY
RTOL = 1e-10

# 40 days (one month block, an incomplete week), 62 days (two month blocks), 5 days (no week).
LENGTHS = {"40d": 40 * DAY + 777, "62d": 62 * DAY + 333, "5d": 5 * DAY + 100}


def make_path(n_minutes: int, seed: int, n_assets: int = 3):
    """Seeded log random walks of prices and reserves; values = sum(reserves * prices)."""
    rng = np.random.default_rng(seed)
    start_prices = np.array([1.0, 30.0, 2000.0])[:n_assets]
    start_reserves = np.array([3e5, 1e4, 150.0])[:n_assets]
    log_p = np.cumsum(rng.normal(2e-6, 1e-3, (n_minutes, n_assets)), axis=0)
    log_r = np.cumsum(rng.normal(0.0, 3e-4, (n_minutes, n_assets)), axis=0)
    prices = start_prices * np.exp(log_p)
    reserves = start_reserves * np.exp(log_r)
    return (reserves * prices).sum(axis=1), reserves, prices


# --------------------------------------------------------------------------- NumPy reference


def np_simple_returns(x):
    return np.diff(x) / x[:-1]


def np_blocks(v, size):
    return [v[k * size : (k + 1) * size] for k in range(len(v) // size)]


def np_drawdowns(x):
    peak = np.maximum.accumulate(x)
    return (x - peak) / peak


def np_sharpe(r, periods_per_year):
    return math.sqrt(periods_per_year) * r.mean() / r.std()


def np_daily_log_sharpe(d):
    ell = np.diff(np.log(d + 1e-12))
    return math.sqrt(365) * ell.mean() / (ell.std() + 1e-8)


def np_intraday_var(v, size, q):
    blocks = np_blocks(v, size)
    if not blocks:
        return np.nan
    return np.mean([np.percentile(np_simple_returns(b), q) for b in blocks])


def np_block_end_var(v, size, q):
    ends = np.array([b[-1] for b in np_blocks(v, size)])
    if len(ends) < 2:
        return np.nan
    return np.percentile(np_simple_returns(ends), q)


def np_a(v):
    return 365 / (len(v) / 1440)


def np_rovar(v, size, var):
    blocks = np_blocks(v, size)
    if not blocks:
        return np.nan
    mean_annual = np.mean([(1 + (b[-1] / b[0] - 1)) ** (525600 / size) - 1 for b in blocks])
    return -mean_annual / (var * math.sqrt(np_a(v) * 1440 / size))


def np_full_path(v, reserves, prices):
    """Every scalar return_val of docs/simulation.md §7.2."""
    n_minutes, n_assets = reserves.shape
    rho = v[-1] / v[0] - 1
    window_annual = (1 + rho) ** np_a(v) - 1
    exponent = 525600 / (n_minutes - 1)
    hodl_ratio = v[-1] / np.sum(reserves[0] * prices[-1])
    uniform = np.sum(reserves[0] * prices[0]) / (n_assets * prices[0])
    uniform_ratio = v[-1] / np.sum(uniform * prices[-1])
    d = v[::1440]
    out = {
        "sharpe": np_sharpe(np_simple_returns(v), 525600),
        "daily_sharpe": np_sharpe(np_simple_returns(d), 365),
        "daily_log_sharpe": np_daily_log_sharpe(d),
        "returns": v[-1] / v[0] - 1,
        "annualised_returns": (v[-1] / v[0]) ** exponent - 1,
        "returns_over_hodl": hodl_ratio - 1,
        "annualised_returns_over_hodl": hodl_ratio**exponent - 1,
        "returns_over_uniform_hodl": uniform_ratio - 1,
        "annualised_returns_over_uniform_hodl": uniform_ratio**exponent - 1,
        "greatest_draw_down": min((vt - v[0]) / v[0] for vt in v),
        "fee_revenue_over_value": 0.0,
    }
    weeks = np_blocks(v, WEEK)
    out["weekly_max_drawdown"] = min(np_drawdowns(b).min() for b in weeks) if weeks else np.nan
    for period, size in (("daily", DAY), ("weekly", WEEK)):
        for level, q in (("95%", 5.0), ("99%", 1.0)):
            out[f"{period}_var_{level}"] = np_intraday_var(v, size, q)
            out[f"{period}_var_{level}_trad"] = np_block_end_var(v, size, q)
        var = np_intraday_var(v, size, 5.0)
        out[f"{period}_raroc"] = -window_annual / (var * math.sqrt(np_a(v) * 1440 / size))
    for period, size in (("daily", DAY), ("weekly", WEEK), ("monthly", MONTH)):
        out[f"{period}_rovar"] = np_rovar(v, size, np_intraday_var(v, size, 5.0))
        out[f"{period}_rovar_trad"] = np_rovar(v, size, np_block_end_var(v, size, 5.0))
    months = np_blocks(v, MONTH)
    if months:
        out["ulcer"] = -np.mean([math.sqrt(np.mean(np_drawdowns(b) ** 2)) for b in months])
        mean_dd = np.mean([np_drawdowns(b).min() for b in months])
        out["sterling"] = np.inf if -mean_dd <= 0 else window_annual / -mean_dd
    else:
        out["ulcer"] = out["sterling"] = np.nan
    worst = np_drawdowns(v).min()
    out["calmar"] = np.inf if worst >= 0 else window_annual / -worst
    return out


def np_boundary_rovar(b, days):
    x = b[::days]
    r = np_simple_returns(x)
    per_year = 365 / days
    var = np.percentile(r, 5.0)
    return -np.mean((1 + r) ** per_year - 1) / (var * math.sqrt(per_year / (len(x) - 1)))


def np_fused(b):
    """Every fused-path return_val of docs/simulation.md §7.3 on day-boundary values b."""
    n_days = len(b) - 1
    total = b[-1] / b[0] - 1
    annual = (b[-1] / b[0]) ** (365 / n_days) - 1
    out = {
        "daily_log_sharpe": np_daily_log_sharpe(b),
        "daily_sharpe": np_sharpe(np_simple_returns(b), 365),
        "daily_rovar_trad": np_boundary_rovar(b, 1),
        "weekly_rovar_trad": np_boundary_rovar(b, 7),
        "monthly_rovar_trad": np_boundary_rovar(b, 30),
    }
    for suffix in ("", "_over_hodl", "_over_uniform_hodl"):
        out[f"returns{suffix}"] = total
        out[f"annualised_returns{suffix}"] = annual
    for period, days in (("daily", 1), ("weekly", 7)):
        for level, q in (("95%", 5.0), ("99%", 1.0)):
            out[f"{period}_var_{level}_trad"] = np.percentile(np_simple_returns(b[::days]), q)
    return out


def np_turnover(v, reserves, prices):
    h = reserves * prices / v[:, None]
    return np.mean([np.abs(h[t + 1] - h[t]).sum() for t in range(len(v) - 1)])


# --------------------------------------------------------------------------- fixtures


@jax.jit
def all_objectives(values, reserves, prices):
    return {name: metrics.objective(name, values, reserves, prices) for name in metrics.RETURN_VALS}


@jax.jit
def all_fused(boundary):
    return {name: metrics.fused_objective(name, boundary) for name in metrics.FUSED_RETURN_VALS}


@pytest.fixture(scope="module", params=list(LENGTHS))
def path(request):
    return make_path(LENGTHS[request.param], seed=len(request.param) + LENGTHS[request.param])


@pytest.fixture(scope="module")
def long_path():
    return make_path(LENGTHS["62d"], seed=7)


def assert_close(actual, expected, name=""):
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=RTOL, atol=0.0, err_msg=name)


# --------------------------------------------------------------------------- full path


def test_return_val_names_are_the_spec_list():
    assert len(metrics.RETURN_VALS) == 31
    assert set(np_full_path(*make_path(3 * DAY, 0))) == set(metrics.RETURN_VALS)
    assert metrics.FUSED_RETURN_VALS <= set(metrics.RETURN_VALS)
    assert len(metrics.FUSED_RETURN_VALS) == 15


def test_objectives_match_numpy_reference(path):
    values, reserves, prices = path
    actual = all_objectives(values, reserves, prices)
    expected = np_full_path(values, reserves, prices)
    for name in metrics.RETURN_VALS:
        assert_close(actual[name], expected[name], name)


def test_chunked_metrics_nan_without_complete_blocks():
    values, reserves, prices = make_path(LENGTHS["5d"], seed=3)
    actual = all_objectives(values, reserves, prices)
    weekly_or_monthly = [n for n in metrics.RETURN_VALS if n.startswith(("weekly", "monthly"))]
    for name in [*weekly_or_monthly, "ulcer", "sterling"]:
        assert np.isnan(actual[name]), name
    for name in ("daily_var_95%", "daily_raroc", "daily_rovar_trad", "calmar"):
        assert np.isfinite(actual[name]), name


def test_single_block_has_no_block_end_returns():
    actual = all_objectives(*make_path(LENGTHS["40d"], seed=5))
    assert np.isnan(actual["monthly_rovar_trad"])
    assert np.isfinite(actual["monthly_rovar"]) and np.isfinite(actual["ulcer"])


def test_constant_growth_returns_are_exact():
    growth, n_minutes = 1.0 + 1e-6, 10 * DAY + 1
    values = 1e6 * growth ** np.arange(n_minutes)
    reserves = np.stack([values, np.ones(n_minutes)], axis=1)
    prices = np.stack([np.ones(n_minutes), np.zeros(n_minutes)], axis=1)

    def objective(name):
        return float(metrics.objective(name, values, reserves, prices))

    assert objective("returns") == pytest.approx(growth ** (n_minutes - 1) - 1, rel=1e-12)
    assert objective("annualised_returns") == pytest.approx(growth**525600 - 1, rel=1e-12)
    assert objective("greatest_draw_down") == 0.0
    assert objective("weekly_max_drawdown") == 0.0
    assert objective("calmar") == np.inf
    assert objective("daily_var_95%") == pytest.approx(growth - 1, rel=1e-7)
    # Fused: (b_D / b_0)^(365 / D) - 1 with b_D / b_0 = g^(1440 D) is the same annual figure.
    boundary = metrics.daily_values(values)
    assert float(metrics.fused_objective("annualised_returns", boundary)) == pytest.approx(
        growth**525600 - 1, rel=1e-12
    )


def test_known_drawdown_gives_greatest_draw_down_and_calmar():
    n_minutes = 10 * DAY
    values = np.interp(np.arange(n_minutes), [0, 4000, 8000, n_minutes - 1], [100, 120, 90, 130])
    reserves, prices = values[:, None], np.ones((n_minutes, 1))
    annual = 1.3 ** (365 / 10) - 1
    assert float(metrics.objective("greatest_draw_down", values, reserves, prices)) == -0.1
    assert float(metrics.objective("weekly_max_drawdown", values, reserves, prices)) == -0.25
    assert float(metrics.objective("calmar", values, reserves, prices)) == pytest.approx(
        annual / 0.25, rel=1e-12
    )


def test_known_block_drawdowns_give_sterling():
    n_minutes = 2 * MONTH + 100
    knots = [0, 10000, 20000, MONTH - 1, MONTH, 60000, 70000, 2 * MONTH - 1, n_minutes - 1]
    levels = [100, 110, 88, 100, 101, 120, 108, 125, 126]
    values = np.interp(np.arange(n_minutes), knots, levels)
    annual = 1.26 ** (365 / (n_minutes / DAY)) - 1
    sterling = metrics.objective("sterling", values, values[:, None], np.ones((n_minutes, 1)))
    assert float(sterling) == pytest.approx(annual / 0.15, rel=1e-12)


def test_hodl_benchmarks_by_hand():
    prices = np.array([[1.0, 10.0], [2.0, 10.0], [4.0, 5.0]])
    reserves = np.array([[60.0, 4.0], [50.0, 5.0], [40.0, 9.0]])
    values = (reserves * prices).sum(axis=1)  # 100, 150, 205

    def objective(name):
        return float(metrics.objective(name, values, reserves, prices))

    # HODL of the first reserves is worth 60*4 + 4*5 = 260 at the end.
    assert objective("returns_over_hodl") == pytest.approx(205 / 260 - 1, rel=1e-14)
    # Uniform: 50 of value per asset at the start -> holdings (50, 5) -> 200 + 25 at the end.
    assert objective("returns_over_uniform_hodl") == pytest.approx(205 / 225 - 1, rel=1e-14)
    assert objective("annualised_returns_over_hodl") == pytest.approx(
        (205 / 260) ** (525600 / 2) - 1, rel=1e-12
    )


def test_fee_revenue_over_value():
    values, reserves, prices = make_path(3 * DAY, seed=11)
    fees = np.full(len(values), 2.5)
    expected = fees.sum() / values[0]
    actual = metrics.objective("fee_revenue_over_value", values, reserves, prices, fees)
    assert_close(actual, expected)


def test_unknown_name_lists_valid_names():
    values, reserves, prices = make_path(3 * DAY, seed=1)
    with pytest.raises(ValueError, match="unknown return_val 'alpha'") as error:
        metrics.objective("alpha", values, reserves, prices)
    assert all(name in str(error.value) for name in metrics.RETURN_VALS)
    with pytest.raises(ValueError, match="fused") as error:
        metrics.fused_objective("ulcer", values[::DAY])
    assert all(name in str(error.value) for name in metrics.FUSED_RETURN_VALS)


# --------------------------------------------------------------------------- fused path


@pytest.mark.parametrize("bout_length", [2 * DAY + 2, 3 * DAY + 1, 3 * DAY + 2, 9 * DAY + 700])
def test_daily_values_are_the_fused_boundaries(bout_length):
    values, reserves, prices = make_path(bout_length - 1, seed=bout_length)
    boundary = metrics.daily_values(values)
    assert boundary.shape == ((bout_length - 2) // DAY + 1,)
    np.testing.assert_array_equal(boundary, values[[DAY * k for k in range(len(boundary))]])
    for name in ("daily_log_sharpe", "daily_sharpe"):
        assert float(metrics.fused_objective(name, boundary)) == float(
            metrics.objective(name, values, reserves, prices)
        )


def test_fused_objectives_match_numpy_reference(long_path):
    boundary = long_path[0][::DAY]
    actual = all_fused(boundary)
    expected = np_fused(boundary)
    assert set(actual) == set(expected)
    for name in metrics.FUSED_RETURN_VALS:
        assert_close(actual[name], expected[name], name)


def test_fused_returns_over_hodl_is_plain_return(long_path):
    values, reserves, prices = long_path
    boundary = metrics.daily_values(values)
    fused = float(metrics.fused_objective("returns_over_hodl", boundary))
    assert fused == pytest.approx(boundary[-1] / boundary[0] - 1, rel=1e-14)
    assert fused == float(metrics.fused_objective("returns", boundary))
    full = float(metrics.objective("returns_over_hodl", values, reserves, prices))
    assert abs(fused - full) > 1e-3


def test_fused_trad_uses_day_starts_not_day_ends(long_path):
    values, reserves, prices = long_path
    fused = metrics.fused_objective("daily_var_95%_trad", metrics.daily_values(values))
    full = metrics.objective("daily_var_95%_trad", values, reserves, prices)
    assert_close(fused, np.percentile(np_simple_returns(values[::DAY]), 5.0))
    assert_close(full, np.percentile(np_simple_returns(values[DAY - 1 :: DAY][:62]), 5.0))
    assert float(fused) != float(full)


# ------------------------------------------------------------------------- slice metrics, turnover


def test_slice_metrics_match_numpy_reference(long_path):
    values, reserves, prices = long_path
    reported = metrics.slice_metrics(values, reserves, prices)
    expected = np_full_path(values, reserves, prices)
    renamed = {"jax_sharpe": "sharpe", "return": "returns"}
    scalar_keys = {
        "sharpe", "jax_sharpe", "daily_log_sharpe", "return", "returns_over_hodl",
        "returns_over_uniform_hodl", "annualised_returns", "annualised_returns_over_hodl",
        "annualised_returns_over_uniform_hodl", "ulcer", "calmar", "sterling",
    }  # fmt: skip
    assert set(reported) == scalar_keys | {"daily_returns"}
    assert_close(reported["sharpe"], expected["daily_sharpe"])
    for key in scalar_keys - {"sharpe"}:
        assert_close(reported[key], expected[renamed.get(key, key)], key)
    assert_close(reported["daily_returns"], np_simple_returns(values[::DAY]))


def test_slice_sharpe_is_zero_for_flat_daily_values():
    n_minutes = 5 * DAY
    values = 1e6 + np.sin(np.arange(n_minutes) * 2 * np.pi / DAY)  # equal at every day start
    reported = metrics.slice_metrics(values, values[:, None], np.ones((n_minutes, 1)))
    assert float(reported["sharpe"]) == 0.0
    assert np.isnan(reported["ulcer"]) and np.isnan(reported["sterling"])


def test_slice_metrics_report_fee_revenue_when_given():
    values, reserves, prices = make_path(3 * DAY, seed=2)
    reported = metrics.slice_metrics(values, reserves, prices, np.ones(len(values)))
    assert_close(reported["fee_revenue_over_value"], len(values) / values[0])


def test_turnover_matches_numpy_and_hand_value():
    values, reserves, prices = make_path(2 * DAY, seed=9)
    assert_close(metrics.turnover(values, reserves, prices), np_turnover(values, reserves, prices))
    weights = np.array([[0.5, 0.3, 0.2], [0.4, 0.4, 0.2]] * 50)
    prices = np.full_like(weights, 2.0)
    values = np.linspace(1.0, 3.0, len(weights))
    reserves = weights * values[:, None] / prices
    assert float(metrics.turnover(values, reserves, prices)) == pytest.approx(0.2, rel=1e-12)


# --------------------------------------------------------------------------- gradients


def central_difference(f, x, index, relative_step=1e-5):
    step = relative_step * abs(x[index])
    up, down = x.copy(), x.copy()
    up[index] += step
    down[index] -= step
    return (f(up) - f(down)) / (2 * step)


def test_daily_log_sharpe_gradient_matches_finite_difference():
    values, reserves, prices = make_path(6 * DAY + 50, seed=4)

    def f(v):
        return metrics.objective("daily_log_sharpe", v, reserves, prices)

    grad = np.asarray(jax.grad(f)(jnp.asarray(values)))
    assert np.all(np.isfinite(grad))
    for index in (0, DAY, 3 * DAY, 6 * DAY):
        fd = central_difference(lambda v: float(f(v)), values, index)
        assert grad[index] == pytest.approx(fd, rel=1e-6)
    off_boundary = np.ones(len(values), bool)
    off_boundary[::DAY] = False
    assert np.all(grad[off_boundary] == 0.0)


@pytest.mark.parametrize("name", ["returns_over_hodl", "returns_over_uniform_hodl"])
def test_hodl_returns_gradient_through_values_only(name):
    values, reserves, prices = make_path(2 * DAY, seed=6)

    def f(r):
        return metrics.objective(name, jnp.sum(r * prices, axis=1), r, prices)

    grad = np.asarray(jax.grad(f)(jnp.asarray(reserves)))
    assert np.all(np.isfinite(grad))
    last = len(values) - 1
    for asset in range(reserves.shape[1]):
        fd = central_difference(lambda r: float(f(r)), reserves, (last, asset))
        assert grad[last, asset] == pytest.approx(fd, rel=1e-6)
    # The benchmark's first reserves row is gradient-stopped, and no middle row enters.
    assert np.all(grad[:-1] == 0.0)
    assert central_difference(lambda r: float(f(r)), reserves, (0, 0)) != 0.0


def test_chunked_metrics_are_differentiable():
    values, reserves, prices = make_path(MONTH + 100, seed=8)
    for name in ("daily_var_95%", "weekly_max_drawdown", "ulcer", "monthly_rovar", "sterling"):
        grad = jax.grad(lambda v: metrics.objective(name, v, reserves, prices))(jnp.asarray(values))
        assert np.all(np.isfinite(grad)) and np.any(grad != 0.0), name


def test_running_peak_gradient_goes_to_the_peak():
    values = np.array([[1.0, 3.0, 2.0, 2.5, 4.0, 1.0]])
    peak = metrics.running_peak(jnp.asarray(values))
    np.testing.assert_array_equal(peak, np.maximum.accumulate(values, axis=1))
    grad = jax.grad(lambda v: jnp.sum(metrics.running_peak(v)))(jnp.asarray(values))
    np.testing.assert_array_equal(grad, [[1.0, 3.0, 0.0, 0.0, 2.0, 0.0]])


def test_direct_drawdown_functions_name_the_minimum_length():
    """Called directly, too-short input is a ValueError naming the minimum (the reference's
    ``_calculate_max_drawdown`` raises too); the objectives of the same names keep NaN."""
    short = jnp.linspace(100.0, 90.0, 100)
    with pytest.raises(ValueError, match="at least 10080 values, got 100"):
        metrics.weekly_max_drawdown(short)
    with pytest.raises(ValueError, match="at least 1440 values, got 100"):
        metrics.max_drawdown(short, block=1440)
    assert float(metrics.max_drawdown(short, block=100)) == pytest.approx(-0.1)
    empty = jnp.zeros((0,))
    for function in (metrics.greatest_draw_down, metrics.calmar):
        with pytest.raises(ValueError, match="at least 1 values, got 0"):
            function(empty)
    assert float(metrics.greatest_draw_down(short)) == pytest.approx(-0.1)
    reserves, prices = short[:, None], jnp.ones((100, 1))
    assert np.isnan(float(metrics.objective("weekly_max_drawdown", short, reserves, prices)))
