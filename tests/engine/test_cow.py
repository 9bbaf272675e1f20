"""CoW AMM (FM-AMM) reserves (docs/simulation.md §6.13) from its formulas."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sim_service.engine import cow
from sim_service.engine.fee_reserves import Costs, DynamicInputs
from tests.engine.conftest import LENGTH, POOL_VALUE, random_walk, static_costs

EQUAL = jnp.array([0.5, 0.5])
SKEWED = jax.nn.softmax(jnp.array([0.0, 0.8]))  # w0 ~ 0.31


def cow_start(weights: jax.Array, prices: jax.Array) -> jax.Array:
    """R_0 = w V_0 / p_0 (docs/simulation.md §6.1)."""
    return weights * POOL_VALUE / prices[0]


def scan_step(step, start: jax.Array, prices: jax.Array, costs: Costs) -> jax.Array:
    """Reserves [L, 2] of ``step(reserves, p, costs)`` applied every minute (test's own scan)."""

    def minute(r, p):
        r = step(r, p, costs)
        return r, r

    return jax.lax.scan(minute, start, prices)[1]


# --------------------------------------------------------------------------- CoW: FM-AMM trades


@pytest.mark.parametrize("weights", [EQUAL, jnp.array([0.3, 0.7])])
def test_batch_trade_at_align_price_preserves_value_and_sets_quoted_price(weights):
    reserves, price = jnp.array([1000.0, 2000.0]), 2.5
    after = cow.aligned_reserves(reserves, weights, price)
    change = after - reserves
    assert float(change[0] * price + change[1]) == pytest.approx(0.0, abs=1e-10)
    assert float(cow.quoted_price(after, weights)) == pytest.approx(price, rel=1e-14)


def test_equal_weights_reduce_to_the_halved_formula():
    reserves, price = jnp.array([1234.5, 987.6]), 0.731
    expected = [0.5 * 1234.5 + 0.5 * 987.6 / price, 0.5 * 1234.5 * price + 0.5 * 987.6]
    np.testing.assert_allclose(cow.aligned_reserves(reserves, EQUAL, price), expected, rtol=1e-15)


@pytest.mark.parametrize(
    "weights, trade, expected_out",
    [
        (EQUAL, (0, 1, 100.0), 165.2754590984975),  # 2000*100 / (1000/0.99 + 100/0.5)
        (EQUAL, (1, 0, 100.0), 45.040946314831665),  # 1000*100 / (2000/0.99 + 100/0.5)
        (jnp.array([0.3, 0.7]), (0, 1, 100.0), 74.34292866082602),
    ],
)
def test_fmamm_swap_amount_out(weights, trade, expected_out):
    change = cow.fmamm_swap(jnp.array([1000.0, 2000.0]), weights, jnp.array(trade), 0.99)
    token_in, token_out, amount = trade
    assert float(change[token_in]) == amount
    assert float(-change[token_out]) == pytest.approx(expected_out, rel=1e-14)
    assert np.array_equal(
        cow.fmamm_swap(jnp.ones(2), weights, jnp.array([0.0, 1.0, 0.0]), 0.99), [0, 0]
    )


@pytest.mark.parametrize("token_in", [0, 1])
def test_fee_free_fmamm_swap_clears_at_the_post_trade_price(token_in):
    weights, reserves = jnp.array([0.3, 0.7]), jnp.array([1000.0, 2000.0])
    change = cow.fmamm_swap(reserves, weights, jnp.array([token_in, 1 - token_in, 50.0]), 1.0)
    rate = -change[1] / change[0]  # token 1 per token 0 paid by the swap
    assert float(rate) == pytest.approx(
        float(cow.quoted_price(reserves + change, weights)), rel=1e-13
    )


@pytest.mark.parametrize("market", [0.8, 1.3])
def test_single_arbitrageur_trade_is_the_profit_maximising_fmamm_swap(market):
    weights, reserves = jnp.array([0.4, 0.6]), jnp.array([1000.0, 1500.0])
    prices = jnp.array([market, 1.0])
    after = cow.fee_free_single_arb_step(reserves, prices, static_costs(), weights[0])
    trade = after - reserves
    token_in = int(trade[0] < 0)  # the token the pool receives
    swap = cow.fmamm_swap(
        reserves, weights, jnp.array([token_in, 1 - token_in, trade[token_in]]), 1.0
    )
    np.testing.assert_allclose(swap, trade, rtol=1e-11)

    def profit(amount):
        change = cow.fmamm_swap(reserves, weights, jnp.array([token_in, 1 - token_in, amount]), 1.0)
        return -float(jnp.sum(change * prices))

    best = profit(trade[token_in])
    assert best > 0
    assert best > profit(trade[token_in] * 0.99) and best > profit(trade[token_in] * 1.01)


def test_single_arbitrageur_with_unit_gamma_sums_the_tied_candidates():
    # Reference behaviour: at gamma = 1 both candidates coincide and are summed.
    reserves, prices, w = jnp.array([1000.0, 1000.0]), jnp.array([1.2, 1.0]), 0.5
    free = cow.fee_free_single_arb_step(reserves, prices, static_costs(), w) - reserves
    tied = cow.single_arb_step(reserves, prices, static_costs(), w, 0.0) - reserves
    np.testing.assert_allclose(tied, 2.0 * free, rtol=1e-13)


# --------------------------------------------------------------------------- CoW: paths


@pytest.fixture(scope="module")
def cow_prices():
    return random_walk(1)


@pytest.mark.parametrize("weights", [EQUAL, SKEWED])
def test_arb_quality_selects_and_blends_the_two_model_sequences(cow_prices, weights):
    start = cow_start(weights, cow_prices)
    settings = cow.CowSettings(fees=0.003, gas_cost=0.5, noise_trader_ratio=1.0)
    costs = static_costs(0.003, 0.5)
    pair = jnp.stack([weights[0], 1.0 - weights[0]])
    perfect_step = functools.partial(cow.perfect_arb_step, weights=pair, noise_ratio=1.0)
    single_step = functools.partial(cow.single_arb_step, weight=pair[0], noise_ratio=1.0)
    perfect = scan_step(perfect_step, start, cow_prices, costs)
    single = scan_step(single_step, start, cow_prices, costs)
    run = lambda q: cow.cow_reserves(cow_prices, weights, start, settings._replace(arb_quality=q))
    assert np.array_equal(run(1.0), perfect)
    assert np.array_equal(run(0.0), single)
    np.testing.assert_allclose(run(0.25), 0.25 * perfect + 0.75 * single, rtol=1e-15)
    assert not np.allclose(perfect, single)


def test_zero_fee_perfect_model_quotes_the_market_price_every_minute(cow_prices):
    reserves = cow.cow_reserves(
        cow_prices, SKEWED, cow_start(SKEWED, cow_prices), cow.CowSettings()
    )
    quoted = jax.vmap(cow.quoted_price, in_axes=(0, None))(reserves, SKEWED)
    np.testing.assert_allclose(quoted, cow_prices[:, 0] / cow_prices[:, 1], rtol=1e-12)


def test_zero_fee_single_model_trades_every_minute(cow_prices):
    start = cow_start(EQUAL, cow_prices)
    reserves = cow.cow_reserves(cow_prices, EQUAL, start, cow.CowSettings(arb_quality=0.0))
    assert np.all(np.abs(np.diff(reserves[:, 0])) > 0)
    assert np.all(reserves > 0)


def test_inside_the_fee_band_the_perfect_model_does_not_trade():
    # P within 0.2% of the initial quote, fee 0.3%: never outside [P gamma, P / gamma].
    prices = jnp.asarray(np.stack([1.0 + 0.002 * np.sin(np.arange(500) / 7), np.ones(500)], 1))
    start = cow_start(SKEWED, prices)
    reserves = cow.cow_reserves(prices, SKEWED, start, cow.CowSettings(fees=0.003))
    assert np.array_equal(reserves, jnp.broadcast_to(start, reserves.shape))
    moved = cow.cow_reserves(
        prices * jnp.array([1.01, 1.0]), SKEWED, start, cow.CowSettings(fees=0.003)
    )
    assert not np.array_equal(moved[0], start)


def test_fee_band_edges_and_fee_retention():
    reserves, prices = jnp.array([1000.0, 1000.0]), jnp.array([1.1, 1.0])  # quote 1 below 1.1 gamma
    after = cow.perfect_arb_step(reserves, prices, static_costs(0.01, arb_fees=0.02), EQUAL, 0.0)
    edge = 1.1 * 0.99 * 0.98
    aligned = cow.aligned_reserves(reserves, EQUAL, edge)
    expected = aligned + np.maximum(aligned - reserves, 0.0) * 0.01 / 0.99
    np.testing.assert_allclose(after, expected, rtol=1e-15)
    assert float(after[1]) > float(aligned[1]) and float(after[0]) == float(aligned[0])


def test_noise_traders_add_fee_income(cow_prices):
    start = cow_start(EQUAL, cow_prices)
    base = cow.CowSettings(fees=0.003)
    plain = cow.cow_reserves(cow_prices, EQUAL, start, base)
    noisy = cow.cow_reserves(cow_prices, EQUAL, start, base._replace(noise_trader_ratio=1.5))
    assert float(jnp.sum(noisy[-1] * cow_prices[-1])) > float(jnp.sum(plain[-1] * cow_prices[-1]))


@pytest.mark.parametrize("quality", [0.0, 1.0])
def test_dynamic_constant_inputs_match_static_path_at_pure_arb_quality(quality):
    # A trending market keeps the single arbitrageur's two candidates far from a tie (near a tie
    # the choice, and so the path, is decided by the last bits); gas blocks the first minute's tie.
    prices = random_walk(4, length=400, sigma=1e-4) * jnp.exp(1e-3 * jnp.arange(400.0))[:, None]
    prices = prices.at[:, 1].set(1.0)
    start = cow_start(EQUAL, prices)
    settings = cow.CowSettings(
        fees=0.003, gas_cost=5.0, noise_trader_ratio=0.5, arb_quality=quality
    )
    dynamic = DynamicInputs(fees=jnp.full(400, 0.003), gas_cost=jnp.full(400, 5.0), arb_fees=0.0)
    static = cow.cow_reserves(prices, EQUAL, start, settings)
    assert not np.array_equal(static[-1], start)
    np.testing.assert_allclose(
        cow.cow_reserves(prices, EQUAL, start, settings, dynamic), static, rtol=1e-12
    )


def test_dynamic_path_blends_per_minute(cow_prices):
    start = cow_start(EQUAL, cow_prices)
    settings = cow.CowSettings(fees=0.003, arb_quality=0.5)
    dynamic = DynamicInputs(fees=jnp.full(LENGTH, 0.003))
    per_minute = cow.cow_reserves(cow_prices, EQUAL, start, settings, dynamic)
    static = cow.cow_reserves(cow_prices, EQUAL, start, settings)
    assert not np.allclose(per_minute, static, rtol=1e-12)
    one_minute = 0.5 * cow.perfect_arb_step(start, cow_prices[0], static_costs(0.003), EQUAL, 0.0)
    one_minute += 0.5 * cow.single_arb_step(start, cow_prices[0], static_costs(0.003), 0.5, 0.0)
    np.testing.assert_allclose(per_minute[0], one_minute, rtol=1e-15)


def test_dynamic_trades_are_fmamm_swaps(cow_prices):
    start = cow_start(SKEWED, cow_prices[:3])
    trades = jnp.array([[0, 1, 10.0], [0, 0, 0.0], [1, 0, 25.0]])
    dynamic = DynamicInputs(fees=0.01, trades=trades, do_arb=jnp.zeros(3, bool))
    reserves = cow.cow_reserves(cow_prices[:3], SKEWED, start, cow.CowSettings(), dynamic)
    first = start + cow.fmamm_swap(start, SKEWED, trades[0], 0.99)
    np.testing.assert_allclose(reserves[0], first, rtol=1e-15)
    np.testing.assert_allclose(reserves[1], first, rtol=1e-15)
    np.testing.assert_allclose(reserves[2], first + cow.fmamm_swap(first, SKEWED, trades[2], 0.99))
    with pytest.raises(ValueError):
        cow.cow_reserves(
            cow_prices[:3], SKEWED, start, cow.CowSettings(), DynamicInputs(lp_supply=1.0)
        )
