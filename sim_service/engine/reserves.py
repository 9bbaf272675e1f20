"""Zero-fee reserves of G3M/TFMM pools under perfect arbitrage, and HODL reserves.

Each minute the pool is arbitraged first to the new prices at the old weights, then to the new
weights at the new prices. Multiplying the per-minute reserve ratios and telescoping the logs
gives, for every minute t of the window (t = 0 .. L-1):

    log growth  S_t = sum_{tau=1..t} ( w_{tau-1} . dlog p_tau  -  w_tau . dlog w_tau )
    reserves    R_t = V_0 exp(S_t) w_t / p_t,        value  V_t = sum_i R_t,i p_t,i

so the value series needs only one scalar cumulative sum. Shapes: weights and prices [L, n].
"""

from __future__ import annotations

import functools
import operator

import jax.numpy as jnp
from jax import Array


def asset_sum(x: Array) -> Array:
    """Sum over the last (asset) axis, unrolled: [..., n] -> [...].

    XLA's CPU reductions over a short minor axis are several times slower than adding the
    columns (forward and backward).
    """
    return functools.reduce(operator.add, jnp.unstack(x, axis=-1))


def log_growth_increments(weights: Array, log_prices: Array) -> Array:
    """Per-minute log value growth [L - 1] (minute 1 .. L-1) from weights, log prices [L, n]."""
    log_weights = jnp.log(weights)
    price_term = asset_sum(weights[:-1] * jnp.diff(log_prices, axis=0))
    weight_term = asset_sum(weights[1:] * jnp.diff(log_weights, axis=0))
    return price_term - weight_term


def log_growth(weights: Array, log_prices: Array) -> Array:
    """S_t for t = 0 .. L-1 ([L], S_0 = 0)."""
    increments = log_growth_increments(weights, log_prices)
    return jnp.concatenate([jnp.zeros((1,), increments.dtype), jnp.cumsum(increments)])


def tfmm_reserves(
    weights: Array, prices: Array, log_prices: Array, initial_pool_value: float
) -> Array:
    """Zero-fee reserves [L, n] of a pool holding ``weights`` [L, n] at ``prices`` [L, n]."""
    growth = log_growth(weights, log_prices)
    return (initial_pool_value * jnp.exp(growth))[:, None] * weights / prices


def initial_reserves(first_weights: Array, first_prices: Array, pool_value: float) -> Array:
    """R_0 = w_0 V_0 / p_0 (token units) from weights and prices [n]."""
    return first_weights * pool_value / first_prices


def hodl_reserves(first_weights: Array, prices: Array, initial_pool_value: float) -> Array:
    """Constant reserves [L, n] bought at the window's first prices."""
    r0 = initial_reserves(first_weights, prices[0], initial_pool_value)
    return jnp.broadcast_to(r0, prices.shape)


def values_of(reserves: Array, prices: Array) -> Array:
    """Pool value per minute [L] = sum_i R_t,i p_t,i."""
    return asset_sum(reserves * prices)


def hold_between_arbitrages(reserves_sampled: Array, arb_frequency: int, length: int) -> Array:
    """Repeat each sampled reserve row ``arb_frequency`` times and cut to ``length`` rows."""
    return jnp.repeat(reserves_sampled, arb_frequency, axis=0)[:length]
