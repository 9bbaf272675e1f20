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
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax

from sim_service.engine import prefix


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
    return jnp.concatenate([jnp.zeros((1,), increments.dtype), prefix.cumsum(increments)])


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


# --------------------------------------------------------------------------- block form (6.16)
#
# On the fused daily path the minute weights of block j (minutes jc .. jc + c - 1 of the window)
# are the ramp  w = s_j + min(i, m) d_j  (i = 0 .. c - 1, m = min(c - 1, N - 1)). Summing the
# per-minute increments of ``log_growth_increments`` over the minutes jc + 1 .. (j + 1) c gives,
# per asset and exactly (summation by parts),
#
#   price part   s_j (lp_end - lp_start) + d_j sum_{i=1..m} (lp_end - lp_{jc+i})
#   weight part  e log e - s log s - d sum_{k=0..m-1} log(s + k d) + s' (log s' - log e)
#
# with e = s + m d the block's last weight and s' = s_{j+1}. The price sums do not depend on the
# parameters (computed once per window); the rest needs only block-level arrays, so nothing of
# minute length is differentiated.

RAMP_GROUPS = 16  # ramp logs are taken of products of this many weights (a 16x saving in logs)


class BlockPrices(NamedTuple):
    """Parameter-free log-price sums of a window's blocks, each [g, n]: ``moves`` = lp at the
    block end minus lp at its start; ``ramp`` = sum_{i=1..m} (lp_end - lp_{start + i})."""

    moves: Array
    ramp: Array


def block_prices(log_prices: Array, block: int, ramp_minutes: int, n_blocks: int) -> BlockPrices:
    """Sums of ``n_blocks`` blocks of ``block`` minutes from row 0 of ``log_prices`` [>= g c + 1,
    n]; ``ramp_minutes`` = m, the minutes over which a block's weights move."""
    rows = log_prices[: n_blocks * block + 1]
    ends = rows[block::block]
    body = rows[:-1].reshape(n_blocks, block, -1)[:, 1 : ramp_minutes + 1]
    return BlockPrices(ends - rows[:-1:block], jnp.sum(ends[:, None, :] - body, axis=1))


def _ramp_table(ramp_minutes: int) -> tuple[np.ndarray, np.ndarray]:
    """Ramp indices k [RAMP_GROUPS, M] (M groups of products) padded past m, and the mask k < m."""
    padded = -(-ramp_minutes // RAMP_GROUPS) * RAMP_GROUPS
    k = np.arange(padded, dtype=np.float64).reshape(RAMP_GROUPS, padded // RAMP_GROUPS)
    inside = k < ramp_minutes
    return np.where(inside, k, 0.0), inside


def _ramp_weights(start: Array, step: Array, ramp_minutes: int) -> Array:
    """start + k step [..., RAMP_GROUPS, M], 1 on padding."""
    k, inside = _ramp_table(ramp_minutes)
    return jnp.where(inside, start[..., None, None] + k * step[..., None, None], 1.0)


@partial(jax.custom_jvp, nondiff_argnums=(2,))
def ramp_log_sum(start: Array, step: Array, ramp_minutes: int) -> Array:
    """sum_{k=0..m-1} log(start + k step), elementwise over start, step [...] (m = ramp_minutes).

    The logs are of products of RAMP_GROUPS weights (weights >= the guardrail floor, so the
    products stay normal); the result only ever enters multiplied by ``step``, which shrinks its
    rounding below that of the per-minute form.
    """
    return jnp.sum(jnp.log(jnp.prod(_ramp_weights(start, step, ramp_minutes), axis=-2)), axis=-1)


@ramp_log_sum.defjvp
def _ramp_log_sum_jvp(ramp_minutes, primals, tangents):
    start, step = primals
    d_start, d_step = tangents
    k, inside = _ramp_table(ramp_minutes)
    inverse = jnp.where(inside, 1.0 / _ramp_weights(start, step, ramp_minutes), 0.0)
    # One variadic reduction: two separate sums of a shared array are not fused on CPU.
    axes = (start.ndim, start.ndim + 1)
    total, weighted = lax.reduce((inverse, inverse * k), (0.0, 0.0), _add_pairs, axes)
    return ramp_log_sum(start, step, ramp_minutes), d_start * total + d_step * weighted


def _add_pairs(a: tuple[Array, Array], b: tuple[Array, Array]) -> tuple[Array, Array]:
    return a[0] + b[0], a[1] + b[1]


def block_log_growth(
    starts: Array, steps: Array, next_starts: Array, prices: BlockPrices, ramp_minutes: int
) -> Array:
    """Log value growth [g] over each block from its weight ramp (starts, steps [g, n]), the
    next block's first weights ``next_starts`` [g, n] and the window's block price sums."""
    ends = starts + ramp_minutes * steps
    price_part = starts * prices.moves + steps * prices.ramp
    inside = ends * jnp.log(ends) - starts * jnp.log(starts)
    inside = inside - steps * ramp_log_sum(starts, steps, ramp_minutes)
    crossing = next_starts * (jnp.log(next_starts) - jnp.log(ends))
    return asset_sum(price_part) - asset_sum(inside + crossing)
