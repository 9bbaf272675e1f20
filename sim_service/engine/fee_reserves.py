"""Reserves of G3M/TFMM pools with fees: the per-minute arbitrage scans (docs/simulation.md §6.4,
§6.7, §6.11).

Each minute t the pool is arbitraged at the price ``p_t``: TFMM pools in two half-steps (first at
the previous minute's weights, then at the current weights), balancer pools in one. Shapes:
weights, prices [L, n] (balancer weights [n]), reserves [n] -> [L, n].

``lazy`` (default): a half-step evaluates only the pair signatures that might be valid
(``arbitrage.pair_trade``): the same numbers, about 2.5 times faster on CPU; ``lazy=False``
evaluates all of them (``arbitrage.optimal_pair_trade``). ``arb_frequency`` (6.8) is the
caller's business: these functions run on any number of rows.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jax import Array, lax

from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT as DEFAULTS
from sim_service.engine import arbitrage


class FeeSettings(NamedTuple):
    """Scalar fee settings of a run (hashable, so it can sit in a static configuration).

    fees: swap fee (gamma = 1 - fees); gas_cost: quote currency per half-step; arb_fees: the
    arbitrageur's external cost rate; noise_trader_ratio: noise volume per arbitrage volume;
    protocol_fee_split: protocol's share of the swap fee.
    """

    fees: float = DEFAULTS["fees"]
    gas_cost: float = DEFAULTS["gas_cost"]
    arb_fees: float = DEFAULTS["arb_fees"]
    noise_trader_ratio: float = DEFAULTS["noise_trader_ratio"]
    protocol_fee_split: float = DEFAULTS["protocol_fee_split"]


class DynamicInputs(NamedTuple):
    """Per-minute inputs of docs/simulation.md §6.7, each [L] (or a scalar); None -> the scalar
    setting.

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
    """A half-step's market conditions besides the pool: scalars, or one minute's values."""

    gamma: Array | float
    gas_cost: Array | float
    arb_fees: Array | float
    noise_gamma: Array | float  # gamma of the noise traders' fee income
    do_arb: Array | bool = True


def static_costs(settings: FeeSettings) -> Costs:
    """Scalar costs of the fixed-settings path; noise income uses gamma' (docs/simulation.md §6.4
    step 2)."""
    gamma = 1.0 - settings.fees
    noise_gamma = 1.0 - (1.0 - gamma) * (1.0 - settings.protocol_fee_split)
    return Costs(gamma, settings.gas_cost, settings.arb_fees, noise_gamma)


def per_minute(value: Array | float | None, default: float | bool, length: int) -> Array:
    """A per-minute input broadcast to [length] (``default`` when None)."""
    return jnp.broadcast_to(jnp.asarray(default if value is None else value), (length,))


def dynamic_costs(dynamic: DynamicInputs, settings: FeeSettings, length: int) -> Costs:
    """Per-minute costs [L] of the dynamic path; noise income uses gamma_t itself
    (docs/simulation.md §6.7)."""
    gamma = 1.0 - per_minute(dynamic.fees, settings.fees, length)
    return Costs(
        gamma,
        per_minute(dynamic.gas_cost, settings.gas_cost, length),
        per_minute(dynamic.arb_fees, settings.arb_fees, length),
        gamma,
        per_minute(dynamic.do_arb, True, length),
    )


class Stage(NamedTuple):
    """Static choices of a half-step: zero-fee move form (``arbitrage.zero_fee_trade``) and
    whether only the possibly valid signatures are evaluated (``arbitrage.pair_trade``)."""

    log_form: bool = True
    lazy: bool = True


def candidate_trade(
    reserves: Array, weights: Array, prices: Array, gamma, fee_free, stage: Stage
) -> Array:
    """docs/simulation.md §6.4 step 1: the zero-fee move where ``fee_free`` (gamma == 1; a Python
    bool decides
    at trace time), else the optimal pair trade."""
    log_form = stage.log_form
    if fee_free is True:
        return arbitrage.zero_fee_trade(reserves, weights, prices, log_form)
    pair_trade = arbitrage.pair_trade if stage.lazy else arbitrage.optimal_pair_trade
    trade = pair_trade(reserves, weights, prices, gamma)
    if fee_free is False:
        return trade
    zero_fee = arbitrage.zero_fee_trade(reserves, weights, prices, log_form)
    return jnp.where(fee_free, zero_fee, trade)


def execute(
    reserves: Array,
    trade: Array,
    prices: Array,
    costs: Costs,
    settings: FeeSettings,
    fees_due: Array | None,
) -> tuple[Array, Array | None]:
    """docs/simulation.md §6.4 steps 2-5 for a candidate ``trade``: (reserves [n], fees due [n] or
    None).

    The protocol fee of an executed trade leaves the pool at once when ``fees_due`` is None,
    else it is added to ``fees_due``.
    """
    after = reserves + trade
    if settings.noise_trader_ratio > 0:
        after = arbitrage.with_noise_income(
            after, trade, prices, settings.noise_trader_ratio, costs.noise_gamma
        )
    executed = arbitrage.is_profitable(trade, prices, costs.gas_cost, costs.arb_fees)
    executed &= costs.do_arb
    reserves = jnp.where(executed, after, reserves)
    if settings.protocol_fee_split == 0:
        return reserves, fees_due
    fee = arbitrage.protocol_fee(trade, costs.gamma, settings.protocol_fee_split)
    fee = jnp.where(executed, fee, 0.0)
    if fees_due is None:
        return reserves - fee, None
    return reserves, fees_due + fee


def half_step(
    reserves: Array,
    weights: Array,
    prices: Array,
    costs: Costs,
    settings: FeeSettings,
    fee_free: Array | bool,
    stage: Stage,
    fees_due: Array | None = None,
) -> tuple[Array, Array | None]:
    """One arbitrage opportunity (docs/simulation.md §6.4 steps 1-5): (reserves [n], fees due; see
    execute)."""
    trade = candidate_trade(reserves, weights, prices, costs.gamma, fee_free, stage)
    return execute(reserves, trade, prices, costs, settings, fees_due)


def previous_weights(weights: Array) -> Array:
    """Weights of the previous minute [L, n] (the first minute's own weights at t = 0)."""
    return jnp.concatenate([weights[:1], weights[:-1]])


def tfmm_fee_reserves(
    weights: Array,
    prices: Array,
    initial_reserves: Array,
    settings: FeeSettings,
    dynamic: DynamicInputs | None = None,
    lazy: bool = True,
) -> Array:
    """Reserves [L, n] of a TFMM pool with fees, weights and prices [L, n] (docs/simulation.md §6.4
    / §6.7).

    Fixed settings: each protocol fee leaves the pool right after its half-step. Dynamic inputs:
    the minute's protocol fees leave together at its end, and a provided trade (6.10) sits
    between the two half-steps.
    """
    stage = Stage(lazy=lazy)
    if dynamic is not None:
        return _tfmm_dynamic(weights, prices, initial_reserves, settings, dynamic, stage)
    costs = static_costs(settings)
    fee_free = settings.fees == 0

    def minute(reserves: Array, row) -> tuple[Array, Array]:
        w_before, w, p = row
        reserves, _ = half_step(reserves, w_before, p, costs, settings, fee_free, stage)
        reserves, _ = half_step(reserves, w, p, costs, settings, fee_free, stage)
        return reserves, reserves

    rows = (previous_weights(weights), weights, prices)
    return lax.scan(minute, initial_reserves, rows)[1]


def _tfmm_dynamic(
    weights, prices, initial_reserves, settings, dynamic: DynamicInputs, stage: Stage
) -> Array:
    length = weights.shape[0]
    lp_supply = per_minute(dynamic.lp_supply, 1.0, length)

    def minute(carry, row) -> tuple[tuple[Array, Array], Array]:
        reserves, lp_before = carry
        w_before, w, p, costs, trade, lp = row
        reserves = jnp.where(lp != lp_before, reserves * lp / lp_before, reserves)
        fee_free, due = costs.gamma == 1.0, jnp.zeros_like(reserves)
        reserves, due = half_step(reserves, w_before, p, costs, settings, fee_free, stage, due)
        if trade is not None:
            swap = arbitrage.g3m_swap(reserves, w, trade, costs.gamma)
            reserves = reserves + swap
            due = due + arbitrage.protocol_fee(swap, costs.gamma, settings.protocol_fee_split)
        reserves, due = half_step(reserves, w, p, costs, settings, fee_free, stage, due)
        reserves = reserves - due
        return (reserves, lp), reserves

    costs = dynamic_costs(dynamic, settings, length)
    rows = (previous_weights(weights), weights, prices, costs, dynamic.trades, lp_supply)
    return lax.scan(minute, (initial_reserves, lp_supply[0]), rows)[1]


def balancer_fee_reserves(
    weights: Array,
    prices: Array,
    initial_reserves: Array,
    settings: FeeSettings,
    dynamic: DynamicInputs | None = None,
    lazy: bool = True,
) -> Array:
    """Reserves [L, n] of a balancer pool with fees: constant weights [n], prices [L, n].

    One price-stage half-step per minute, no noise traders, no protocol fee (docs/simulation.md
    §6.11); the
    dynamic variant adds the minute's trade (6.10) after the arbitrage.
    """
    plain = settings._replace(noise_trader_ratio=0.0, protocol_fee_split=0.0)
    stage = Stage(log_form=False, lazy=lazy)
    if dynamic is None:
        costs = static_costs(plain)
        scanned, trades = None, None
    elif dynamic.lp_supply is not None:
        raise ValueError("balancer pools take no LP supply series")
    else:
        scanned, trades = dynamic_costs(dynamic, plain, prices.shape[0]), dynamic.trades

    def minute(reserves: Array, row) -> tuple[Array, Array]:
        p, minute_costs, trade = row
        if minute_costs is None:
            cost, fee_free = costs, plain.fees == 0
        else:
            cost, fee_free = minute_costs, minute_costs.gamma == 1.0
        reserves, _ = half_step(reserves, weights, p, cost, plain, fee_free, stage)
        if trade is not None:
            reserves = reserves + arbitrage.g3m_swap(reserves, weights, trade, cost.gamma)
        return reserves, reserves

    return lax.scan(minute, initial_reserves, (prices, scanned, trades))[1]
