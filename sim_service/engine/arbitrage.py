"""Arbitrage of a G3M pool with fees: one half-step's trade, its gate and its side effects.

Spec 6.4-6.6 and 6.10. Shapes: reserves, weights, prices [n] (token units, fractions, quote
currency per token); ``gamma`` = 1 - swap fee (scalar). A trade is the pool's reserve change [n]
(positive = paid into the pool). ``S = n (n - 1)`` pair signatures, ``P = n (n - 1) / 2`` pairs.

Bit-level agreement with the reference depends on the floating-point operation order of the
pair trade (spec 6.5, numerical note): powers are element-wise ``x ** w`` followed by products
taken left to right, and every product or sum that the reference takes over entries that are
exactly 1 or 0 is taken here over the remaining entries only (which rounds identically).
"""

from __future__ import annotations

import functools
import itertools
import operator
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jax import Array

from sim_service.engine.reserves import asset_sum


SKIP_MARGIN = 1e-12


class Signatures(NamedTuple):
    """Static index tables of the pair signatures, in the reference's enumeration order."""

    token_in: np.ndarray  # [S] index of the +1 entry (paid in, fee applies)
    token_out: np.ndarray  # [S] index of the -1 entry (paid out)


class Candidates(NamedTuple):
    """Pair trades of some signatures (spec 6.5), each [k]; invalid ones are zero."""

    token_in: Array  # [k] token paid in
    token_out: Array  # [k] token paid out
    amount_in: Array  # [k] reserve change of the token paid in (token units)
    amount_out: Array  # [k] reserve change of the token paid out
    profit: Array  # [k] arbitrageur's profit -(trade . p); -0.0 for invalid ones


@functools.cache
def signatures(n_assets: int) -> Signatures:
    """Signatures with exactly one +1 and one -1, ordered as ``itertools.product([1, 0, -1])``."""
    rows = [
        s
        for s in itertools.product([1, 0, -1], repeat=n_assets)
        if s.count(1) == 1 and s.count(-1) == 1
    ]
    return Signatures(np.array([s.index(1) for s in rows]), np.array([s.index(-1) for s in rows]))


def product(x: Array) -> Array:
    """Left-to-right product over the last axis: [..., n] -> [...]."""
    return functools.reduce(operator.mul, jnp.unstack(x, axis=-1))


def pair_candidates(
    reserves: Array,
    weights: Array,
    prices: Array,
    gamma: Array | float,
    token_in: Array,
    token_out: Array,
) -> Candidates:
    """The optimal trades of the signatures (token_in, token_out) [k] and their validity.

    The reference's products over entries that are exactly 1 (inactive tokens) and its sums
    over zeros are taken over the active entries only, which rounds identically; its divisions
    by broadcast quantities are multiplications by their reciprocal, as XLA compiles them.
    """
    r_in, r_out = reserves[token_in], reserves[token_out]
    w_in, w_out = weights[token_in], weights[token_out]
    p_in, p_out = prices[token_in], prices[token_out]
    inv_total = 1.0 / (w_in + w_out)
    hat_in, hat_out = w_in * inv_total, w_out * inv_total
    invariant = r_in**hat_in * r_out**hat_out
    ratio_in = ((hat_in * gamma) * (1.0 / prices)[token_in]) ** (1.0 - w_in * inv_total)
    ratio_out = (hat_out * (1.0 / prices)[token_out]) ** (1.0 - w_out * inv_total)
    others_in = (p_out / hat_out) ** hat_out
    others_out = (p_in / (hat_in * gamma)) ** hat_in
    d_in = gamma**-1.0 * ((invariant * ratio_in) * others_in - r_in)
    d_out = (invariant * ratio_out) * others_out - r_out
    valid = (r_in + d_in > 0.0) & (r_out + d_out > 0.0)
    valid &= invariant_kept(reserves, weights, token_in, token_out, d_in, d_out, gamma)
    d_in, d_out = jnp.where(valid, d_in, 0.0), jnp.where(valid, d_out, 0.0)
    return Candidates(token_in, token_out, d_in, d_out, -(d_in * p_in + d_out * p_out))


def invariant_kept(reserves, weights, token_in, token_out, d_in, d_out, gamma) -> Array:
    """Validity (b) per candidate [k]: prod (R + d gamma^[d > 0])^w >= prod R^w (full weights)."""
    base = reserves**weights
    after_in = (reserves[token_in] + d_in * jnp.where(d_in > 0.0, gamma, 1.0)) ** weights[token_in]
    after_out = (reserves[token_out] + d_out * jnp.where(d_out > 0.0, gamma, 1.0)) ** weights[
        token_out
    ]
    tokens = np.arange(reserves.shape[-1])
    factors = jnp.where(
        tokens == token_in[:, None],
        after_in[:, None],
        jnp.where(tokens == token_out[:, None], after_out[:, None], base),
    )
    return product(factors) >= product(base)


def best_trade(candidates: Candidates, n_assets: int, others_invalid: bool) -> Array:
    """Sum of the most profitable candidates' trades [n] (spec 6.5 selection).

    ``others_invalid``: the signatures left out are invalid, so a zero profit competes too.
    """
    best = functools.reduce(jnp.maximum, jnp.unstack(candidates.profit))
    if others_invalid:
        best = jnp.maximum(best, 0.0)
    tokens = np.arange(n_assets)
    chosen = candidates.profit == best
    per_candidate = jnp.where(
        tokens == candidates.token_in[:, None],
        candidates.amount_in[:, None],
        jnp.where(tokens == candidates.token_out[:, None], candidates.amount_out[:, None], 0.0),
    )
    return functools.reduce(
        operator.add, jnp.unstack(jnp.where(chosen[:, None], per_candidate, 0.0), axis=0)
    )


def optimal_pair_trade(
    reserves: Array, weights: Array, prices: Array, gamma: Array | float
) -> Array:
    """The most profitable valid pair trade [n] over all signatures (spec 6.5); ties summed,
    none valid -> 0."""
    sig = signatures(reserves.shape[-1])
    candidates = pair_candidates(reserves, weights, prices, gamma, sig.token_in, sig.token_out)
    return best_trade(candidates, reserves.shape[-1], others_invalid=False)


def possible_signatures(
    reserves: Array, weights: Array, prices: Array, gamma: Array | float
) -> Array:
    """Signatures [S] (bool) that might pass validity (b); the others certainly fail it.

    A signature (i in, j out) can pass (b) only if the pool pays, net of the fee, at least the
    market price for token i: x = gamma (R_j p_j / w_j) / (R_i p_i / w_i) >= 1. Below, (b) misses
    by at least (1 - x)(1 - gamma) 2 w_i w_j / (w_i + w_j) relative, far above rounding when that
    exceeds SKIP_MARGIN, so leaving such signatures out does not change the trade.
    """
    sig = signatures(reserves.shape[-1])
    value_per_weight = reserves * prices / weights
    x = gamma * value_per_weight[sig.token_out] / value_per_weight[sig.token_in]
    w_in, w_out = weights[sig.token_in], weights[sig.token_out]
    return (1.0 - x) * (1.0 - gamma) * (2.0 * w_in * w_out / (w_in + w_out)) <= SKIP_MARGIN


def first_signatures(possible: Array, n_assets: int, count: int) -> tuple[Array, Array]:
    """(token_in, token_out) [count] of the first ``count`` possible signatures, in order."""
    sig = signatures(n_assets)
    rank = jnp.cumsum(possible) - 1
    slots = np.arange(count)[:, None]
    index = jnp.sum(jnp.where(possible & (rank == slots), np.arange(possible.shape[0]), 0), -1)
    return jnp.asarray(sig.token_in)[index], jnp.asarray(sig.token_out)[index]


def zero_fee_trade(reserves: Array, weights: Array, prices: Array, log_form: bool = True) -> Array:
    """Fee-free move to the pool's equilibrium at ``prices`` [n] (spec 6.4 step 1).

    ``log_form``: the growth factor as ``exp(sum w ln r)`` (TFMM) or ``prod r^w`` (balancer).
    """
    value = asset_sum(reserves * prices)
    ratio = prices / (value * weights / reserves)
    growth = jnp.exp(asset_sum(weights * jnp.log(ratio))) if log_form else product(ratio**weights)
    return reserves * (growth / ratio) - reserves


def is_profitable(
    trade: Array, prices: Array, gas_cost: Array | float, arb_fees: Array | float
) -> Array:
    """Whether the arbitrageur executes ``trade``: -sum trade p - gas >= arb_fees/2 sum |trade| p."""
    profit = -asset_sum(trade * prices) - gas_cost
    return profit >= 0.5 * arb_fees * asset_sum(jnp.abs(trade) * prices)


def with_noise_income(
    reserves: Array, trade: Array, prices: Array, ratio: float, gamma: Array | float
) -> Array:
    """Reserves [n] scaled up by noise traders' fee income ``ratio (1 - gamma) sum max(trade, 0) p``
    (spec 6.6); quoted prices are unchanged."""
    income = ratio * (1.0 - gamma) * asset_sum(jnp.maximum(trade, 0.0) * prices)
    return reserves * (1.0 + income / asset_sum(reserves * prices))


def protocol_fee(trade: Array, gamma: Array | float, split: float) -> Array:
    """Protocol's share of the swap fee on the inbound legs of ``trade``, in token units [n]."""
    return jnp.maximum(trade, 0.0) * (1.0 - gamma) * split


def g3m_swap(reserves: Array, weights: Array, trade: Array, gamma: Array | float) -> Array:
    """Reserve change [n] of an exact-in swap ``trade`` = (token in, token out, amount in) [3]
    (spec 6.10): +amount on the in token, -amount out on the out token; amount 0 -> no change."""
    token_in, token_out = trade[0].astype(jnp.int32), trade[1].astype(jnp.int32)
    amount = trade[2]
    exponent = weights[token_in] / weights[token_out]
    amount_out = reserves[token_out] * (
        1.0 - (1.0 / (1 + gamma * (amount / reserves[token_in]))) ** exponent
    )
    tokens = jnp.arange(reserves.shape[-1])
    change = jnp.where(tokens == token_out, -amount_out, jnp.where(tokens == token_in, amount, 0.0))
    return jnp.where(amount != 0, change, 0.0)
