"""Gyroscope E-CLP reserves (docs/simulation.md §6.14) from its formulas."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sim_service.engine import gyroscope
from sim_service.engine.fee_reserves import DynamicInputs
from sim_service.engine.gyroscope import EclpParams, GyroSettings
from tests.engine.conftest import LENGTH, POOL_VALUE, random_walk, static_costs

WELL_CONDITIONED = EclpParams(alpha=0.5, beta=2.0, phi=np.pi / 4, lam=2.0)


@pytest.fixture(scope="module")
def gyro_prices():
    return random_walk(2, sigma=2e-3)


def invariants(reserves, params):
    geom = gyroscope.geometry(params)
    return jax.vmap(lambda r: gyroscope.invariant(r, geom))(reserves)


def traded_notional(reserves, start, prices):
    changes = jnp.diff(jnp.concatenate([start[None], reserves]), axis=0)
    return float(jnp.sum(jnp.abs(changes) * prices))


def test_initial_reserves_hold_the_pool_value():
    first = jnp.array([1.3, 0.9])
    start = gyroscope.eclp_initial_reserves(WELL_CONDITIONED, first, POOL_VALUE)
    assert float(start @ first) == pytest.approx(POOL_VALUE, rel=1e-14)
    assert np.all(start > 0)


def test_zero_fee_update_preserves_the_invariant(gyro_prices):
    start = gyroscope.eclp_initial_reserves(WELL_CONDITIONED, gyro_prices[0], POOL_VALUE)
    reserves = gyroscope.gyroscope_reserves(gyro_prices, WELL_CONDITIONED, start, GyroSettings())
    r0 = float(gyroscope.invariant(start, gyroscope.geometry(WELL_CONDITIONED)))
    np.testing.assert_allclose(invariants(reserves, WELL_CONDITIONED), r0, rtol=1e-9)
    values = jnp.sum(reserves * gyro_prices, axis=-1)
    assert float(values[0]) == pytest.approx(POOL_VALUE, rel=1e-12)


def test_circle_limit_matches_a_direct_computation():
    alpha, beta, circle = 0.5, 2.0, EclpParams(0.5, 2.0, 0.0, 1.0)
    chi = np.array([beta / np.sqrt(1 + beta**2), 1 / np.sqrt(1 + alpha**2)])
    point = lambda p: np.array([p, 1.0]) / np.sqrt(1 + p**2)
    first, later = np.array([1.2, 1.0]), np.array([1.5, 1.0])
    unit = chi - point(1.2)
    expected_start = unit * POOL_VALUE / (unit @ first)
    start = gyroscope.eclp_initial_reserves(circle, jnp.asarray(first), POOL_VALUE)
    np.testing.assert_allclose(start, expected_start, rtol=1e-13)
    # invariant: |t - r chi| = r, the positive root of (|chi|^2 - 1) r^2 - 2 t.chi r + |t|^2 = 0
    t = expected_start
    qa, qb, qc = chi @ chi - 1, -2 * (t @ chi), t @ t
    r = (-qb + np.sqrt(qb**2 - 4 * qa * qc)) / (2 * qa)
    assert np.linalg.norm(t - r * chi) == pytest.approx(r, rel=1e-12)
    prices = jnp.asarray(np.stack([first, later]))
    reserves = gyroscope.gyroscope_reserves(prices, circle, start, GyroSettings())
    np.testing.assert_allclose(reserves[1], r * (chi - point(1.5)), rtol=1e-12)
    shifted = np.asarray(reserves[1]) - r * chi  # on the circle; price -dy/dx = x/y = P
    assert np.linalg.norm(shifted) == pytest.approx(r, rel=1e-12)
    assert shifted[0] / shifted[1] == pytest.approx(1.5, rel=1e-12)


def test_reserves_stay_non_negative_on_a_wide_walk():
    prices = random_walk(3, sigma=2e-2)  # leaves [0.5, 2] both ways
    assert float(prices[:, 0].min()) < 0.5 or float(prices[:, 0].max()) > 2.0
    start = gyroscope.eclp_initial_reserves(WELL_CONDITIONED, prices[0], POOL_VALUE)
    for settings in (GyroSettings(), GyroSettings(fees=0.003, gas_cost=1.0)):
        assert np.all(gyroscope.gyroscope_reserves(prices, WELL_CONDITIONED, start, settings) >= 0)


@pytest.mark.parametrize(
    "path, empty", [((1.0, 1.5, 2.0, 2.5, 3.0), 0), ((1.0, 0.7, 0.5, 0.4, 0.2), 1)]
)
def test_prices_beyond_the_bounds_leave_one_asset(path, empty):
    prices = jnp.asarray(np.stack([np.array(path), np.ones(5)], 1))
    start = gyroscope.eclp_initial_reserves(WELL_CONDITIONED, prices[0], POOL_VALUE)
    reserves = gyroscope.gyroscope_reserves(prices, WELL_CONDITIONED, start, GyroSettings())
    shares = gyroscope.value_shares(reserves, prices)
    assert np.all(shares[2:, empty] < 1e-15)  # at the bound (and beyond) one asset only
    assert np.all(reserves[2:] == reserves[2])  # a move past a bound is rejected: held
    assert np.all(shares[:2, empty] > 0.01)


def test_fees_reduce_trading(gyro_prices):
    start = gyroscope.eclp_initial_reserves(WELL_CONDITIONED, gyro_prices[0], POOL_VALUE)
    run = lambda s: gyroscope.gyroscope_reserves(gyro_prices, WELL_CONDITIONED, start, s)
    free = traded_notional(run(GyroSettings()), start, gyro_prices)
    with_fees = traded_notional(run(GyroSettings(fees=0.003)), start, gyro_prices)
    gated = traded_notional(run(GyroSettings(fees=0.003, gas_cost=50.0)), start, gyro_prices)
    assert 0 < gated < with_fees < free


def test_fee_step_uses_the_reserve_ratio_as_price():
    geom = gyroscope.geometry(WELL_CONDITIONED)
    reserves, gamma = jnp.array([1000.0, 1100.0]), 0.99
    inside = gyroscope.fee_step(reserves, jnp.array([1.105, 1.0]), static_costs(0.01), geom)
    assert np.array_equal(inside, reserves)  # 1.1 lies in [1.105 gamma, 1.105 / gamma]
    prices = jnp.array([1.2, 1.0])  # ratio 1.1 below 1.2 gamma: moved to 1.2 gamma
    after = gyroscope.fee_step(reserves, prices, static_costs(0.01), geom)
    target = gyroscope.invariant(reserves, geom) * gyroscope.unit_reserves(1.2 * gamma, geom)
    np.testing.assert_allclose(after, reserves + (target - reserves) * jnp.array([1.0, 1 / gamma]))


def test_weights_are_value_shares(gyro_prices):
    reserves = gyroscope.gyroscope_pool_reserves(
        gyro_prices, WELL_CONDITIONED, POOL_VALUE, GyroSettings()
    )
    shares = gyroscope.value_shares(reserves, gyro_prices)
    np.testing.assert_allclose(jnp.sum(shares, axis=-1), 1.0, rtol=1e-15)
    assert np.all((shares > 0) & (shares < 1))
    value = reserves[10] * gyro_prices[10]
    np.testing.assert_allclose(shares[10], value / jnp.sum(value), rtol=1e-15)


def test_numeraire_first_swaps_prices_and_reserves(gyro_prices):
    flipped = gyro_prices[:, ::-1]  # the numeraire is now the first token
    zero = gyroscope.gyroscope_pool_reserves(
        gyro_prices, WELL_CONDITIONED, POOL_VALUE, GyroSettings()
    )
    swapped = gyroscope.gyroscope_pool_reserves(
        flipped, WELL_CONDITIONED, POOL_VALUE, GyroSettings(), numeraire_first=True
    )
    assert np.array_equal(swapped, zero[:, ::-1])
    fees = GyroSettings(fees=0.003)
    quirk = gyroscope.gyroscope_pool_reserves(
        flipped, WELL_CONDITIONED, POOL_VALUE, fees, numeraire_first=True
    )
    unswapped_start = gyroscope.eclp_initial_reserves(WELL_CONDITIONED, flipped[0], POOL_VALUE)
    unswapped = gyroscope.gyroscope_reserves(flipped, WELL_CONDITIONED, unswapped_start, fees)
    assert np.array_equal(quirk, unswapped[:, ::-1])


def test_dynamic_path_matches_static_paths(gyro_prices):
    start = gyroscope.eclp_initial_reserves(WELL_CONDITIONED, gyro_prices[0], POOL_VALUE)
    run = functools.partial(gyroscope.gyroscope_reserves, gyro_prices, WELL_CONDITIONED, start)
    fees = GyroSettings(fees=0.003, gas_cost=0.5)
    dynamic = DynamicInputs(fees=jnp.full(LENGTH, 0.003), gas_cost=jnp.full(LENGTH, 0.5))
    np.testing.assert_allclose(run(GyroSettings(), dynamic), run(fees), rtol=1e-9)
    np.testing.assert_allclose(
        run(GyroSettings(), DynamicInputs(fees=0.0)), run(GyroSettings()), rtol=1e-9
    )


def test_dynamic_trades_and_their_rejection():
    params, gamma = WELL_CONDITIONED, 0.997
    prices = jnp.array([[1.0, 1.0], [1.0, 1.0]])
    start = gyroscope.eclp_initial_reserves(params, prices[0], POOL_VALUE)
    geom = gyroscope.geometry(params)
    trade = jnp.array([1.0, 0.0, 2000.0])
    change = gyroscope.trade_change(start, trade, gamma, geom)
    shifted = start - gyroscope.invariant(start, geom) * geom.chi
    assert float(change[1]) == 2000.0
    assert float(-change[0]) == pytest.approx(
        float(shifted[1] + 2000.0 * gamma - shifted[0]), rel=1e-15
    )
    huge = jnp.array([[1.0, 0.0, 2000.0], [1.0, 0.0, 1e9]])
    dynamic = DynamicInputs(fees=0.003, trades=huge, do_arb=jnp.zeros(2, bool))
    reserves = gyroscope.gyroscope_reserves(prices, params, start, GyroSettings(), dynamic)
    np.testing.assert_allclose(reserves[0], start + change, rtol=1e-15)
    assert np.array_equal(reserves[1], reserves[0])  # would empty token 0: rejected


def test_fit_to_a_target_weight():
    pool = jax.jit(
        gyroscope.gyroscope_pool_reserves, static_argnames=("settings", "numeraire_first")
    )
    prices = jnp.asarray(np.tile([1.1, 1.0], (3, 1)))
    reserves = pool(
        prices, WELL_CONDITIONED, POOL_VALUE, GyroSettings(), target_weights=jnp.array([0.3, 0.7])
    )
    assert float(gyroscope.value_shares(reserves, prices)[0, 0]) == pytest.approx(
        0.3, abs=5e-3
    )  # penalised fit
    assert float(jnp.sum(reserves[0] * prices[0])) == pytest.approx(POOL_VALUE, rel=1e-12)
    # numeraire first: the target is the numeraire-ordered first weight (here the second logit)
    swapped = pool(
        prices[:, ::-1],
        WELL_CONDITIONED,
        POOL_VALUE,
        GyroSettings(),
        numeraire_first=True,
        target_weights=jnp.array([0.7, 0.3]),
    )
    np.testing.assert_allclose(swapped, reserves[:, ::-1], rtol=1e-12)
