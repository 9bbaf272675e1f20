"""Reserves of a two-asset CoW AMM (FM-AMM) pool (docs/simulation.md §6.13).

The pool holds weights (w0, w1) and quotes token 0 in token 1 at ``pi = (R1 / R0)(w0 / w1)``.
Two arbitrage models are each run as their own scan from R_0 and blended by ``arb_quality``:

- perfect arbitrage: whenever the market price ``P = p0 / p1`` leaves the no-arbitrage band
  around ``pi``, a batch trade at the band edge ``A`` moves ``pi`` to ``A``; the pool keeps the
  swap fee on the inbound leg (gas cost never enters this model);
- a single (monopolist) arbitrageur, FM-AMM paper section 6, who trades only if the profit
  covers gas and external fees.

Shapes: prices [L, 2] (quote currency per token), reserves [2] (token units) -> [L, 2];
``gamma`` = 1 - swap fee. A trade is the pool's reserve change [2] (positive = paid in).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax.numpy as jnp
from jax import Array, lax

from sim_service.engine import arbitrage, fee_reserves
from sim_service.engine.fee_reserves import Costs, DynamicInputs
from sim_service.engine.reserves import asset_sum

Step = Callable[[Array, Array, Costs], Array]


class CowSettings(NamedTuple):
    """Scalar settings of a CoW run (hashable, so it can sit in a static configuration).

    fees: swap fee (gamma = 1 - fees); gas_cost: quote currency per arbitrage (single-arbitrageur
    model only); arb_fees: the arbitrageur's external cost rate; noise_trader_ratio: noise volume
    per arbitrage volume; arb_quality: weight of the perfect-arbitrage model in the blend.
    """

    fees: float = 0.0
    gas_cost: float = 0.0
    arb_fees: float = 0.0
    noise_trader_ratio: float = 0.0
    arb_quality: float = 1.0

    @property
    def uses_fee_path(self) -> bool:
        """Whether the with-fees path runs (docs/simulation.md §6.2): any of fees, gas_cost,
        arb_fees > 0."""
        return self.fees > 0 or self.gas_cost > 0 or self.arb_fees > 0


def quoted_price(reserves: Array, weights: Array) -> Array:
    """Pool price of token 0 in token 1, ``(R1 / R0)(w0 / w1)`` (scalar)."""
    return (reserves[1] / reserves[0]) * (weights[0] / weights[1])


def aligned_reserves(reserves: Array, weights: Array, price: Array) -> Array:
    """Reserves [2] after the batch trade at ``price`` (token 0 in token 1) that makes the quoted
    price equal ``price``: ``R0 + w0 R1/A - w1 R0``, ``R1 + w1 R0 A - w0 R1``."""
    held = reserves * weights[::-1]
    target = jnp.stack([held[0] + held[1] / price, held[0] * price + held[1]])
    return target - 2.0 * held + reserves


def perfect_arb_step(
    reserves: Array, prices: Array, costs: Costs, weights: Array, noise_ratio: float
) -> Array:
    """One minute of the perfect-arbitrage model: reserves [2] at ``prices`` [2].

    Band ``[P gamma (1 - arb_fees), P / gamma / (1 - arb_fees)]``, edges inclusive; outside it the
    pool trades at the nearer edge, keeps ``max(dR, 0)(1 - gamma)/gamma`` as fee and, with noise
    traders, the income of docs/simulation.md §6.6 on that change (at gamma).
    """
    gamma, external = costs.gamma, 1.0 - costs.arb_fees
    quoted = quoted_price(reserves, weights)
    market = prices[0] / prices[1]
    low = market * gamma * external
    high = market / gamma / external
    below, above = quoted <= low, high <= quoted
    edge = jnp.where(above, high, jnp.where(below, low, quoted))
    after = aligned_reserves(reserves, weights, edge)
    after = after + jnp.maximum(0.0, after - reserves) * (1.0 - gamma) / gamma
    if noise_ratio > 0:
        after = arbitrage.with_noise_income(after, after - reserves, prices, noise_ratio, gamma)
    return jnp.where(below | above, after, reserves)


def monopolist_trades(reserves: Array, weight: Array, prices: Array, gamma: Array | float) -> Array:
    """The two candidate trades [2, 2] of a single arbitrageur facing a fee (rows: pool receives
    token 0 / pool receives token 1), from ``C = R0 R1``, ``kappa = (1 - w) w``, w = w0."""
    other = 1.0 - weight
    scaled = other * weight * (reserves[0] * reserves[1])
    market = prices[0] / prices[1]
    root_0 = jnp.sqrt(scaled / (gamma * market))
    root_1 = jnp.sqrt(scaled * market / gamma)
    out_0 = jnp.stack([other * reserves[0] - root_0, other * reserves[0] / gamma - root_0])
    out_1 = jnp.stack([weight * reserves[1] / gamma - root_1, weight * reserves[1] - root_1])
    return -jnp.stack([out_0, out_1], axis=-1)


def single_arb_step(
    reserves: Array, prices: Array, costs: Costs, weight: Array, noise_ratio: float
) -> Array:
    """One minute of the single-arbitrageur model with fees: reserves [2].

    Of the two candidates the one with the **smaller** profit is the feasible one; candidates tied
    on profit are summed (reference behaviour: at gamma = 1 the two coincide, so the executed
    trade is twice the fee-free trade while the gate still sees one trade's profit). Noise income
    (at gamma) is added before the gate ``profit - gas >= arb_fees/2 sum |trade| p``. Unlike the
    perfect model there is no band: with fees the formula trades even at the market price.
    """
    candidates = monopolist_trades(reserves, weight, prices, costs.gamma)
    profits = -asset_sum(candidates * prices)
    # Pairwise tests rather than ``profits == min(profits)``: XLA may round a fused recomputation
    # of ``profits`` differently from the one the minimum was taken of, and then match neither.
    first, second = profits[0] <= profits[1], profits[1] <= profits[0]
    trade = jnp.where(first, candidates[0], 0.0) + jnp.where(second, candidates[1], 0.0)
    profit = jnp.minimum(profits[0], profits[1])
    after = reserves + trade
    if noise_ratio > 0:
        after = arbitrage.with_noise_income(after, trade, prices, noise_ratio, costs.gamma)
    cost = 0.5 * costs.arb_fees * asset_sum(jnp.abs(trade) * prices)
    return jnp.where(profit - costs.gas_cost >= cost, after, reserves)


def fee_free_single_arb_step(reserves: Array, prices: Array, costs: Costs, weight: Array) -> Array:
    """One minute of the single-arbitrageur model without fees: reserves [2] (no noise income).

    Trade ``-(((1 - w) R0 - sqrt(kappa C / P)), (w R1 - sqrt(kappa C P)))``, gated like
    ``single_arb_step``.
    """
    scaled = weight * (1.0 - weight) * (reserves[0] * reserves[1])
    market = prices[0] / prices[1]
    out = jnp.stack(
        [
            (1.0 - weight) * reserves[0] - jnp.sqrt(scaled / market),
            weight * reserves[1] - jnp.sqrt(scaled * market),
        ]
    )
    trade = -out
    execute = arbitrage.is_profitable(trade, prices, costs.gas_cost, costs.arb_fees)
    return jnp.where(execute, reserves + trade, reserves)


def fmamm_swap(reserves: Array, weights: Array, trade: Array, gamma: Array | float) -> Array:
    """Reserve change [2] of an exact-in swap ``trade`` = (token in, token out, amount in) [3] on
    the FM-AMM: out ``R_j a / ((R_i / gamma)(1 - w_i)/w_i + a / w_i)``; amount 0 -> no change."""
    token_in, token_out = trade[0].astype(jnp.int32), trade[1].astype(jnp.int32)
    amount, w_in = trade[2], weights[token_in]
    amount_out = (
        reserves[token_out]
        * amount
        / ((reserves[token_in] / gamma) * ((1.0 - w_in) / w_in) + amount / w_in)
    )
    tokens = jnp.arange(2)
    change = jnp.where(tokens == token_out, -amount_out, jnp.where(tokens == token_in, amount, 0.0))
    return jnp.where(amount != 0, change, 0.0)


def _scan(step: Step, initial_reserves: Array, prices: Array, costs: Costs) -> Array:
    """Reserves [L, 2] of ``step(reserves, prices_t, costs)`` run over every minute from R_0."""

    def minute(reserves, p):
        reserves = step(reserves, p, costs)
        return reserves, reserves

    return lax.scan(minute, initial_reserves, prices)[1]


def blend(quality: float, perfect: Array, single: Array) -> Array:
    """``quality * perfect + (1 - quality) * single`` (the arb-quality mix)."""
    return quality * perfect + (1.0 - quality) * single


def cow_reserves(
    prices: Array,
    weights: Array,
    initial_reserves: Array,
    settings: CowSettings,
    dynamic: DynamicInputs | None = None,
) -> Array:
    """Reserves [L, 2] of a CoW pool with weights [2] at prices [L, 2], from R_0 [2].

    Path (docs/simulation.md §6.2): ``dynamic`` given -> per-minute inputs (§6.7, blend per minute); else fees,
    gas or arb fees > 0 -> both models with gamma = 1 - fees and noise traders; else the
    fee-free models. Static paths blend the two independently simulated sequences.
    ``arb_frequency`` and ``do_arb = False`` are the caller's business.
    """
    if dynamic is not None:
        return _cow_dynamic(prices, weights, initial_reserves, settings, dynamic)
    # The reference's static models rebuild the weights as (w0, 1 - w0).
    pair = jnp.stack([weights[0], 1.0 - weights[0]])
    gamma = 1.0 - settings.fees
    costs = Costs(gamma, settings.gas_cost, settings.arb_fees, gamma)
    noise = settings.noise_trader_ratio
    if settings.uses_fee_path:
        perfect = functools.partial(perfect_arb_step, weights=pair, noise_ratio=noise)
        single = functools.partial(single_arb_step, weight=pair[0], noise_ratio=noise)
    else:
        perfect = functools.partial(perfect_arb_step, weights=pair, noise_ratio=0.0)
        single = functools.partial(fee_free_single_arb_step, weight=pair[0])
    return blend(
        settings.arb_quality,
        _scan(perfect, initial_reserves, prices, costs),
        _scan(single, initial_reserves, prices, costs),
    )


def _cow_dynamic(
    prices: Array,
    weights: Array,
    initial_reserves: Array,
    settings: CowSettings,
    dynamic: DynamicInputs,
) -> Array:
    """docs/simulation.md §6.7 for CoW: per minute both models step from the blended carry (gamma_t, gas_t,
    arb_fees_t, noise at gamma_t; the reference's softmax weights, not (w0, 1 - w0)), then the
    minute's trade is swapped on the FM-AMM. ``do_arb`` [L] gates the arbitrage, not the trade."""
    if dynamic.lp_supply is not None:
        raise ValueError("CoW pools take no LP supply series")
    length = prices.shape[0]
    plain = fee_reserves.FeeSettings(settings.fees, settings.gas_cost, settings.arb_fees)
    costs = fee_reserves.dynamic_costs(dynamic, plain, length)
    noise = settings.noise_trader_ratio

    def minute(reserves, row):
        p, cost, trade = row
        perfect = perfect_arb_step(reserves, p, cost, weights, noise)
        single = single_arb_step(reserves, p, cost, weights[0], noise)
        after = jnp.where(cost.do_arb, blend(settings.arb_quality, perfect, single), reserves)
        if trade is not None:
            after = after + fmamm_swap(after, weights, trade, cost.gamma)
        return after, after

    rows = (prices, costs, dynamic.trades)
    return lax.scan(minute, initial_reserves, rows)[1]
