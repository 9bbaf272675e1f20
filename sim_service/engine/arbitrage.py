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
    pair: np.ndarray  # [S] row of ``pairs`` holding the signature's two tokens
    pairs: np.ndarray  # [P, 2] token pairs (a, b), a < b


class PairTerms(NamedTuple):
    """Reserve-independent factors of the pair trades of one half-step (spec 6.5).

    Leading axes ``[...]`` are free (one row per minute outside the scan). ``q`` of a token is
    ``(p / (gamma^d w_hat))^w_hat``; the leave-one-out product of a token is the other active
    token's ``q``.
    """

    pair_weights: Array  # [..., P, 2] w_hat of each pair's tokens (a, b)
    ratio_in: Array  # [..., S] pi of the token paid in
    ratio_out: Array  # [..., S] pi of the token paid out
    others_in: Array  # [..., S] leave-one-out product for the token paid in (q of the out token)
    others_out: Array  # [..., S] leave-one-out product for the token paid out (q of the in token)


@functools.cache
def signatures(n_assets: int) -> Signatures:
    """Signatures with exactly one +1 and one -1, ordered as ``itertools.product([1, 0, -1])``."""
    rows = [
        s
        for s in itertools.product([1, 0, -1], repeat=n_assets)
        if s.count(1) == 1 and s.count(-1) == 1
    ]
    token_in = np.array([s.index(1) for s in rows])
    token_out = np.array([s.index(-1) for s in rows])
    pairs = np.array(list(itertools.combinations(range(n_assets), 2)))
    pair_row = {tuple(p): i for i, p in enumerate(pairs)}
    pair = np.array([pair_row[tuple(sorted(s))] for s in zip(token_in, token_out)])
    return Signatures(token_in, token_out, pair, pairs)


def product(x: Array) -> Array:
    """Left-to-right product over the last axis: [..., n] -> [...]."""
    return functools.reduce(operator.mul, jnp.unstack(x, axis=-1))


def pair_terms(weights: Array, prices: Array, gamma: Array | float) -> PairTerms:
    """Factors of the pair trades for weights, prices [..., n] and gamma (scalar or [...]).

    Divisions by a per-signature or per-asset quantity are taken as multiplications by its
    reciprocal, as XLA compiles the reference's broadcast divisions.
    """
    sig = signatures(weights.shape[-1])
    gamma = jnp.asarray(gamma)[..., None]
    w_in, w_out = weights[..., sig.token_in], weights[..., sig.token_out]
    p_in, p_out = prices[..., sig.token_in], prices[..., sig.token_out]
    inv_p_in, inv_p_out = (1.0 / prices)[..., sig.token_in], (1.0 / prices)[..., sig.token_out]
    inv_total = 1.0 / (w_in + w_out)
    hat_in, hat_out = w_in * inv_total, w_out * inv_total
    w_a, w_b = weights[..., sig.pairs[:, 0]], weights[..., sig.pairs[:, 1]]
    inv_pair_total = 1.0 / (w_a + w_b)
    pair_weights = jnp.stack([w_a * inv_pair_total, w_b * inv_pair_total], axis=-1)
    return PairTerms(
        pair_weights=pair_weights,
        ratio_in=((hat_in * gamma) * inv_p_in) ** (1.0 - hat_in),
        ratio_out=(hat_out * inv_p_out) ** (1.0 - hat_out),
        others_in=(p_out / hat_out) ** hat_out,
        others_out=(p_in / (hat_in * gamma)) ** hat_in,
    )


def optimal_pair_trade(
    reserves: Array, weights: Array, prices: Array, gamma: Array | float
) -> Array:
    """The most profitable valid pair trade [n] (spec 6.5); ties summed, none valid -> 0."""
    sig = signatures(reserves.shape[-1])
    terms = pair_terms(weights, prices, gamma)
    powered = reserves[sig.pairs] ** terms.pair_weights
    invariant = (powered[:, 0] * powered[:, 1])[sig.pair]
    r_in, r_out = reserves[sig.token_in], reserves[sig.token_out]
    d_in = gamma**-1.0 * ((invariant * terms.ratio_in) * terms.others_in - r_in)
    d_out = (invariant * terms.ratio_out) * terms.others_out - r_out
    positive = r_in + d_in > 0.0
    positive &= r_out + d_out > 0.0
    kept = invariant_kept(reserves, weights, sig, d_in, d_out, gamma)
    valid = positive & kept
    d_in = jnp.where(valid, d_in, 0.0)
    d_out = jnp.where(valid, d_out, 0.0)
    profit = -(d_in * prices[sig.token_in] + d_out * prices[sig.token_out])
    best = profit == jnp.max(profit)
    tokens = np.arange(reserves.shape[-1])
    per_signature = jnp.where(
        tokens == sig.token_in[:, None],
        d_in[:, None],
        jnp.where(tokens == sig.token_out[:, None], d_out[:, None], 0.0),
    )
    chosen = jnp.where(best[:, None], per_signature, 0.0)
    return functools.reduce(operator.add, jnp.unstack(chosen, axis=0))


def invariant_kept(
    reserves: Array, weights: Array, sig: Signatures, d_in: Array, d_out: Array, gamma
) -> Array:
    """Validity (b) per signature [S]: prod (R + d gamma^[d > 0])^w >= prod R^w (full weights)."""
    base = reserves**weights
    r_in, r_out = reserves[sig.token_in], reserves[sig.token_out]
    after_in = (r_in + d_in * jnp.where(d_in > 0.0, gamma, 1.0)) ** weights[sig.token_in]
    after_out = (r_out + d_out * jnp.where(d_out > 0.0, gamma, 1.0)) ** weights[sig.token_out]
    tokens = np.arange(reserves.shape[-1])
    factors = jnp.where(
        tokens == sig.token_in[:, None],
        after_in[:, None],
        jnp.where(tokens == sig.token_out[:, None], after_out[:, None], base),
    )
    return product(factors) >= product(base)


def may_trade(reserves: Array, weights: Array, prices: Array, gamma: Array | float) -> Array:
    """False only if every pair signature certainly fails validity (b) (scalar bool).

    A signature (i in, j out) can pass (b) only if the pool pays, net of the fee, at least the
    market price for token i: x = gamma (R_j p_j / w_j) / (R_i p_i / w_i) >= 1. Below, (b) misses
    by at least (1 - x)(1 - gamma) 2 w_i w_j / (w_i + w_j) relative, far above rounding when that
    exceeds SKIP_MARGIN, so such half-steps can skip the trade computation without changing it.
    """
    sig = signatures(reserves.shape[-1])
    value_per_weight = reserves * prices / weights
    x = gamma * value_per_weight[sig.token_out] / value_per_weight[sig.token_in]
    w_in, w_out = weights[sig.token_in], weights[sig.token_out]
    margin = (1.0 - x) * (1.0 - gamma) * (2.0 * w_in * w_out / (w_in + w_out))
    return jnp.any(margin <= SKIP_MARGIN)


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
