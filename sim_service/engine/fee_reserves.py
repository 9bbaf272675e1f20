"""Reserves of G3M/TFMM pools with fees: the per-minute arbitrage scans (spec 6.4, 6.7, 6.11).

Each minute t the pool is arbitraged at the price ``p_t``: TFMM pools in two half-steps (first at
the previous minute's weights, then at the current weights), balancer pools in one. Everything
that does not depend on the reserves (the pair-trade factors of 6.5) is computed for all minutes
before the scan. Shapes: weights, prices [L, n] (balancer weights [n]), reserves [n] -> [L, n].

``arb_frequency`` (6.8) is the caller's business: these functions run on any number of rows.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jax import Array, lax

from sim_service.engine import arbitrage
from sim_service.engine.arbitrage import PairTerms

SCAN_UNROLL = 4


class FeeSettings(NamedTuple):
    """Scalar fee settings of a run (hashable, so it can sit in a static configuration).

    fees: swap fee (gamma = 1 - fees); gas_cost: quote currency per half-step; arb_fees: the
    arbitrageur's external cost rate; noise_trader_ratio: noise volume per arbitrage volume;
    protocol_fee_split: protocol's share of the swap fee.
    """

    fees: float = 0.0
    gas_cost: float = 0.0
    arb_fees: float = 0.0
    noise_trader_ratio: float = 0.0
    protocol_fee_split: float = 0.0


class DynamicInputs(NamedTuple):
    """Per-minute inputs of spec 6.7, each [L] (or a scalar); None -> the scalar setting.

    trades [L, 3]: (token-in index, token-out index, amount in), amount 0 = no trade; None -> no
    trades. do_arb [L] bool: None -> always. lp_supply [L]: None -> constant (TFMM only).
    """

    fees: Array | float | None = None
    gas_cost: Array | float | None = None
    arb_fees: Array | float | None = None
    trades: Array | None = None
    do_arb: Array | None = None
    lp_supply: Array | None = None


class Costs(NamedTuple):
    """What one half-step needs besides the pool state: scalars, or one minute's values."""

    gamma: Array | float
    gas_cost: Array | float
    arb_fees: Array | float
    noise_gamma: Array | float  # gamma of the noise traders' fee income
    do_arb: Array | bool = True


def half_step(
    reserves: Array,
    weights: Array,
    prices: Array,
    terms: PairTerms | None,
    costs: Costs,
    settings: FeeSettings,
    fee_free: Array | bool,
    log_form: bool = True,
) -> tuple[Array, Array | None]:
    """One arbitrage opportunity (spec 6.4 steps 1-5): (reserves [n], protocol fee [n] or None).

    The protocol fee (None when the split is 0) belongs to an executed trade and has not been
    removed from the returned reserves. ``fee_free`` (gamma == 1) selects the zero-fee move; a
    Python bool decides at trace time.
    """
    if fee_free is True:
        trade = arbitrage.zero_fee_trade(reserves, weights, prices, log_form)
    else:
        trade = arbitrage.optimal_pair_trade(reserves, weights, prices, terms, costs.gamma)
        if fee_free is not False:
            zero_fee = arbitrage.zero_fee_trade(reserves, weights, prices, log_form)
            trade = jnp.where(fee_free, zero_fee, trade)
    after = reserves + trade
    if settings.noise_trader_ratio > 0:
        after = arbitrage.with_noise_income(
            after, trade, prices, settings.noise_trader_ratio, costs.noise_gamma
        )
    execute = arbitrage.is_profitable(trade, prices, costs.gas_cost, costs.arb_fees)
    execute &= costs.do_arb
    fee = None
    if settings.protocol_fee_split > 0:
        fee = arbitrage.protocol_fee(trade, costs.gamma, settings.protocol_fee_split)
        fee = jnp.where(execute, fee, 0.0)
    return jnp.where(execute, after, reserves), fee


def static_costs(settings: FeeSettings) -> Costs:
    """Scalar costs of the fixed-settings path; noise income uses gamma' (spec 6.4 step 2)."""
    gamma = 1.0 - settings.fees
    noise_gamma = 1.0 - (1.0 - gamma) * (1.0 - settings.protocol_fee_split)
    return Costs(gamma, settings.gas_cost, settings.arb_fees, noise_gamma)


def per_minute(value: Array | float | None, default: float, length: int) -> Array:
    """A per-minute input broadcast to [length] (``default`` when None)."""
    return jnp.broadcast_to(jnp.asarray(default if value is None else value), (length,))


def dynamic_costs(dynamic: DynamicInputs, settings: FeeSettings, length: int) -> Costs:
    """Per-minute costs [L] of the dynamic path; noise income uses gamma_t itself (spec 6.7)."""
    gamma = 1.0 - per_minute(dynamic.fees, settings.fees, length)
    do_arb = per_minute(dynamic.do_arb, True, length)
    return Costs(
        gamma,
        per_minute(dynamic.gas_cost, settings.gas_cost, length),
        per_minute(dynamic.arb_fees, settings.arb_fees, length),
        gamma,
        do_arb,
    )


def previous_weights(weights: Array) -> Array:
    """Weights of the previous minute [L, n] (the first minute's own weights at t = 0)."""
    return jnp.concatenate([weights[:1], weights[:-1]])


def removed(reserves: Array, *fees: Array | None) -> Array:
    """Reserves minus the protocol fees (summed in order; None = no fee)."""
    present = [f for f in fees if f is not None]
    if not present:
        return reserves
    total = present[0]
    for fee in present[1:]:
        total = total + fee
    return reserves - total


def tfmm_fee_reserves(
    weights: Array,
    prices: Array,
    initial_reserves: Array,
    settings: FeeSettings,
    dynamic: DynamicInputs | None = None,
) -> Array:
    """Reserves [L, n] of a TFMM pool with fees, weights and prices [L, n] (spec 6.4 / 6.7)."""
    if dynamic is not None:
        return _tfmm_dynamic(weights, prices, initial_reserves, settings, dynamic)
    costs = static_costs(settings)
    fee_free = settings.fees == 0
    w_prev = previous_weights(weights)
    terms = None
    if not fee_free:
        terms = (
            arbitrage.pair_terms(w_prev, prices, costs.gamma),
            arbitrage.pair_terms(weights, prices, costs.gamma),
        )

    def minute(reserves, row):
        w_before, w, p, stage_terms = row
        terms_a, terms_b = (None, None) if stage_terms is None else stage_terms
        reserves, fee = half_step(reserves, w_before, p, terms_a, costs, settings, fee_free)
        reserves = removed(reserves, fee)
        reserves, fee = half_step(reserves, w, p, terms_b, costs, settings, fee_free)
        reserves = removed(reserves, fee)
        return reserves, reserves

    rows = (w_prev, weights, prices, terms)
    return lax.scan(minute, initial_reserves, rows, unroll=SCAN_UNROLL)[1]


def _tfmm_dynamic(weights, prices, initial_reserves, settings, dynamic: DynamicInputs) -> Array:
    length = weights.shape[0]
    costs = dynamic_costs(dynamic, settings, length)
    fee_free = costs.gamma == 1.0
    w_prev = previous_weights(weights)
    terms = (
        arbitrage.pair_terms(w_prev, prices, costs.gamma),
        arbitrage.pair_terms(weights, prices, costs.gamma),
    )
    lp = per_minute(dynamic.lp_supply, 1.0, length)

    def minute(carry, row):
        reserves, lp_before = carry
        w_before, w, p, (terms_a, terms_b), cost, trade, lp_now = row
        reserves = jnp.where(lp_now != lp_before, reserves * lp_now / lp_before, reserves)
        stage = lambda r, weights_, terms_: half_step(  # noqa: E731
            r, weights_, p, terms_, cost, settings, cost.gamma == 1.0
        )
        reserves, fee_a = stage(reserves, w_before, terms_a)
        fee_trade = None
        if trade is not None:
            swap = arbitrage.g3m_swap(reserves, w, trade, cost.gamma)
            reserves = reserves + swap
            if settings.protocol_fee_split > 0:
                fee_trade = arbitrage.protocol_fee(swap, cost.gamma, settings.protocol_fee_split)
        reserves, fee_b = stage(reserves, w, terms_b)
        reserves = removed(reserves, fee_a, fee_trade, fee_b)
        return (reserves, lp_now), reserves

    del fee_free
    rows = (w_prev, weights, prices, terms, costs, dynamic.trades, lp)
    return lax.scan(minute, (initial_reserves, lp[0]), rows, unroll=SCAN_UNROLL)[1]


def balancer_fee_reserves(
    weights: Array,
    prices: Array,
    initial_reserves: Array,
    settings: FeeSettings,
    dynamic: DynamicInputs | None = None,
) -> Array:
    """Reserves [L, n] of a balancer pool with fees: constant weights [n], prices [L, n].

    One price-stage half-step per minute, no noise traders, no protocol fee (spec 6.11); the
    dynamic variant adds the minute's trade (6.10) after the arbitrage.
    """
    plain = settings._replace(noise_trader_ratio=0.0, protocol_fee_split=0.0)
    length = prices.shape[0]
    if dynamic is None:
        costs, fee_free, trades = static_costs(plain), plain.fees == 0, None
    else:
        if dynamic.lp_supply is not None:
            raise ValueError("balancer pools take no LP supply series")
        costs = dynamic_costs(dynamic, plain, length)
        fee_free, trades = None, dynamic.trades
    terms = None
    if fee_free is not True:
        terms = arbitrage.pair_terms(jnp.broadcast_to(weights, prices.shape), prices, costs.gamma)
    scanned_costs = None if dynamic is None else costs

    def minute(reserves, row):
        p, minute_terms, minute_costs, trade = row
        cost = costs if minute_costs is None else minute_costs
        free = fee_free if minute_costs is None else cost.gamma == 1.0
        reserves, _ = half_step(reserves, weights, p, minute_terms, cost, plain, free, False)
        if trade is not None:
            reserves = reserves + arbitrage.g3m_swap(reserves, weights, trade, cost.gamma)
        return reserves, reserves

    rows = (prices, terms, scanned_costs, trades)
    return lax.scan(minute, initial_reserves, rows, unroll=SCAN_UNROLL)[1]
