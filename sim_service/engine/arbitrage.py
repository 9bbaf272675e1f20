"""Arbitrage of a G3M pool with fees: one half-step's trade, its gate and its side effects.

docs/simulation.md §6.4-§6.6 and §6.10. Shapes: reserves, weights, prices [n] (token units,
fractions, quote
currency per token); ``gamma`` = 1 - swap fee (scalar: a Python float or a traced value). A trade
is the pool's reserve change [n] (positive = paid into the pool). ``S = n (n - 1)`` pair
signatures, ``P = n (n - 1) / 2`` token pairs.

Bit-level agreement with the reference depends on the floating-point operation order of the
pair trade (docs/simulation.md §6.5, numerical note): element-wise powers ``x ** w`` followed by
products taken
left to right, ``gamma^-1`` as a power, and divisions by broadcast quantities as multiplications
by their reciprocal (what XLA makes of the reference's code). Products and sums that the
reference takes over entries that are exactly 1 or 0 are taken over the other entries only,
which rounds identically. Validity (b) has no tolerance.
"""

from __future__ import annotations

import functools
import itertools
import operator
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax

from sim_service.engine.reserves import asset_sum

# Relative margin by which validity (b) must certainly fail for a signature to be skipped.
SKIP_MARGIN = 1e-12
# Pairs up to which every (pair, direction) choice gets its own compiled branch (3**P of
# them); with more pairs (n > 3 assets) a half-step that might trade evaluates all signatures.
MAX_BRANCH_PAIRS = 3


class Signatures(NamedTuple):
    """Static index tables of the pair signatures, in the reference's enumeration order."""

    token_in: np.ndarray  # [S] index of the +1 entry (paid in, fee applies)
    token_out: np.ndarray  # [S] index of the -1 entry (paid out)


class Candidate(NamedTuple):
    """The optimal trade of one signature on the token pair (a, b), a < b (docs/simulation.md §6.5).

    The amounts are reserve changes in token units, zero when the signature is invalid;
    ``profit`` is the arbitrageur's -(trade . p), -0.0 when invalid. Scalars.
    """

    pair: tuple[int, int]
    amount_a: Array
    amount_b: Array
    profit: Array


@functools.cache
def signatures(n_assets: int) -> Signatures:
    """Signatures with exactly one +1 and one -1, ordered as ``itertools.product([1, 0, -1])``."""
    rows = [
        s
        for s in itertools.product([1, 0, -1], repeat=n_assets)
        if s.count(1) == 1 and s.count(-1) == 1
    ]
    return Signatures(np.array([s.index(1) for s in rows]), np.array([s.index(-1) for s in rows]))


@functools.cache
def pairs(n_assets: int) -> tuple[tuple[int, int], ...]:
    """Token pairs (a, b), a < b, in lexicographic order."""
    return tuple(itertools.combinations(range(n_assets), 2))


def product(x: Array) -> Array:
    """Left-to-right product over the last axis: [..., n] -> [...]."""
    return functools.reduce(operator.mul, jnp.unstack(x, axis=-1))


def pair_candidate(
    reserves: Array,
    weights: Array,
    prices: Array,
    gamma: Array | float,
    pair: tuple[int, int],
    a_in: Array | bool,
) -> Candidate:
    """The optimal trade of the signature on ``pair`` whose token paid in is a if ``a_in``
    (a Python or traced bool) else b, and its validity (docs/simulation.md §6.5).

    Works on scalars so that XLA fuses it into few kernels. The reference's products over
    entries that are exactly 1 (inactive tokens) and its sums over zeros are taken over the
    active entries only, which rounds identically; its divisions by broadcast quantities are
    multiplications by their reciprocal, as XLA compiles them.
    """
    a, b = pair

    def oriented(values: Array) -> tuple[Array, Array]:
        return jnp.where(a_in, values[a], values[b]), jnp.where(a_in, values[b], values[a])

    (r_in, r_out), (w_in, w_out), (p_in, p_out) = map(oriented, (reserves, weights, prices))
    inv_total = 1.0 / (w_in + w_out)
    hat_in, hat_out = w_in * inv_total, w_out * inv_total
    invariant = r_in**hat_in * r_out**hat_out
    ratio_in = ((hat_in * gamma) * (1.0 / p_in)) ** (1.0 - w_in * inv_total)
    ratio_out = (hat_out * (1.0 / p_out)) ** (1.0 - w_out * inv_total)
    others_in = (p_out / hat_out) ** hat_out
    others_out = (p_in / (hat_in * gamma)) ** hat_in
    d_in = inverse(gamma) * ((invariant * ratio_in) * others_in - r_in)
    d_out = (invariant * ratio_out) * others_out - r_out
    after_in = (r_in + d_in * jnp.where(d_in > 0.0, gamma, 1.0)) ** w_in
    after_out = (r_out + d_out * jnp.where(d_out > 0.0, gamma, 1.0)) ** w_out
    base = [r**w for r, w in zip(jnp.unstack(reserves), jnp.unstack(weights))]
    factors = list(base)
    factors[a] = jnp.where(a_in, after_in, after_out)
    factors[b] = jnp.where(a_in, after_out, after_in)
    valid = (r_in + d_in > 0.0) & (r_out + d_out > 0.0)
    valid &= functools.reduce(operator.mul, factors) >= functools.reduce(operator.mul, base)
    d_in, d_out = jnp.where(valid, d_in, 0.0), jnp.where(valid, d_out, 0.0)
    amount_a, amount_b = jnp.where(a_in, d_in, d_out), jnp.where(a_in, d_out, d_in)
    return Candidate(pair, amount_a, amount_b, -(d_in * p_in + d_out * p_out))


def best_trade(candidates: list[Candidate], n_assets: int, others_invalid: bool) -> Array:
    """Sum of the most profitable candidates' trades [n] (docs/simulation.md §6.5 selection).

    ``others_invalid``: the signatures left out are invalid, so a zero profit competes too.
    """
    best = functools.reduce(jnp.maximum, [c.profit for c in candidates])
    if others_invalid:
        best = jnp.maximum(best, 0.0)
    shares = [[] for _ in range(n_assets)]
    for c in candidates:
        chosen = c.profit == best
        shares[c.pair[0]].append(jnp.where(chosen, c.amount_a, 0.0))
        shares[c.pair[1]].append(jnp.where(chosen, c.amount_b, 0.0))
    zero = jnp.zeros_like(best)
    return jnp.stack([functools.reduce(operator.add, s) if s else zero for s in shares])


def optimal_pair_trade(
    reserves: Array, weights: Array, prices: Array, gamma: Array | float
) -> Array:
    """The most profitable valid pair trade [n] over all signatures (docs/simulation.md §6.5); ties summed,
    none valid -> 0."""
    sig = signatures(reserves.shape[-1])
    candidates = [
        pair_candidate(reserves, weights, prices, gamma, (min(i, j), max(i, j)), bool(i < j))
        for i, j in zip(sig.token_in.tolist(), sig.token_out.tolist())
    ]
    return best_trade(candidates, reserves.shape[-1], others_invalid=False)


def pair_states(
    reserves: Array, weights: Array, prices: Array, gamma: Array | float
) -> tuple[list[Array], Array]:
    """Per pair (a, b), which of its two signatures might pass validity (b): 0 neither, 1 a in,
    2 b in (P scalars); and whether both might for some pair. The others certainly fail.

    A signature (i in, j out) can pass (b) only if the pool pays, net of the fee, at least the
    market price for token i: x = gamma (R_j p_j / w_j) / (R_i p_i / w_i) >= 1. Below, (b) misses
    by at least (1 - x)(1 - gamma) 2 w_i w_j / (w_i + w_j) relative, far above rounding when that
    exceeds SKIP_MARGIN, so leaving such signatures out does not change the trade.
    """
    value_per_weight = jnp.unstack(reserves * prices / weights)
    w = jnp.unstack(weights)
    states, both = [], []
    for a, b in pairs(reserves.shape[-1]):
        scale = (1.0 - gamma) * (2.0 * w[a] * w[b] / (w[a] + w[b]))
        a_in = (1.0 - gamma * value_per_weight[b] / value_per_weight[a]) * scale <= SKIP_MARGIN
        b_in = (1.0 - gamma * value_per_weight[a] / value_per_weight[b]) * scale <= SKIP_MARGIN
        states.append(a_in * 1 + b_in * 2)
        both.append(a_in & b_in)
    return states, functools.reduce(operator.or_, both)


def pair_choices(n_pairs: int) -> list[tuple[int, ...]]:
    """Per-pair states (0: no possible signature, 1: a in, 2: b in); choice m holds m's base-3
    digits. Only the all-zero choice when there are more than MAX_BRANCH_PAIRS pairs."""
    if n_pairs > MAX_BRANCH_PAIRS:
        return [(0,) * n_pairs]
    return [tuple(m // 3**q % 3 for q in range(n_pairs)) for m in range(3**n_pairs)]


def chosen_pair_trade(
    reserves: Array, weights: Array, prices: Array, gamma, choice: tuple[int, ...]
) -> Array:
    """The best trade [n] among the signatures of ``choice`` (``pair_choices``); the other
    signatures are invalid."""
    n_assets = reserves.shape[-1]
    found = [
        pair_candidate(reserves, weights, prices, gamma, pair, a_in=state == 1)
        for pair, state in zip(pairs(n_assets), choice)
        if state
    ]
    if not found:
        return jnp.zeros_like(reserves)
    return best_trade(found, n_assets, others_invalid=True)


@functools.partial(jax.custom_jvp, nondiff_argnums=(3,))
def pair_trade(reserves: Array, weights: Array, prices: Array, gamma) -> Array:
    """``optimal_pair_trade``, evaluating only the signatures that might be valid.

    Each set of possible signatures (``pair_states``) has its own compiled branch, working on
    scalars so that XLA fuses it into a few kernels; the derivative is that of
    ``optimal_pair_trade`` (the same function). Under ``vmap`` every branch runs.
    """
    n_pairs = len(pairs(reserves.shape[-1]))
    states, both = pair_states(reserves, weights, prices, gamma)
    choices = pair_choices(n_pairs)
    branches = [functools.partial(chosen_pair_trade, gamma=gamma, choice=c) for c in choices]
    branches.append(functools.partial(optimal_pair_trade, gamma=gamma))
    if len(choices) > 1:
        branch = functools.reduce(operator.add, [s * 3**q for q, s in enumerate(states)])
    else:
        branch = functools.reduce(operator.or_, [s > 0 for s in states]).astype(int)
    branch = jnp.where(both, len(branches) - 1, branch)
    return lax.switch(branch, branches, reserves, weights, prices)


@pair_trade.defjvp
def _pair_trade_jvp(gamma, primals, tangents):
    def all_signatures(reserves, weights, prices):
        return optimal_pair_trade(reserves, weights, prices, gamma)

    return pair_trade(*primals, gamma), jax.jvp(all_signatures, primals, tangents)[1]


def inverse(gamma: Array | float) -> Array | float:
    """gamma^-1 as the power the reference evaluates (glibc ``pow``), not 1 / gamma: they differ
    in the last bit for some fees (e.g. 0.002). The traced exponent keeps XLA from rewriting
    the power as a division."""
    if isinstance(gamma, float):
        return gamma**-1.0
    return gamma ** (gamma * 0.0 - 1.0)


def zero_fee_trade(reserves: Array, weights: Array, prices: Array, log_form: bool = True) -> Array:
    """Fee-free move to the pool's equilibrium at ``prices`` [n] (docs/simulation.md §6.4 step 1).

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
    (docs/simulation.md §6.6); quoted prices are unchanged."""
    income = ratio * (1.0 - gamma) * asset_sum(jnp.maximum(trade, 0.0) * prices)
    return reserves * (1.0 + income / asset_sum(reserves * prices))


def protocol_fee(trade: Array, gamma: Array | float, split: float) -> Array:
    """Protocol's share of the swap fee on the inbound legs of ``trade``, in token units [n]."""
    return jnp.maximum(trade, 0.0) * (1.0 - gamma) * split


def g3m_swap(reserves: Array, weights: Array, trade: Array, gamma: Array | float) -> Array:
    """Reserve change [n] of an exact-in swap ``trade`` = (token in, token out, amount in) [3]
    (docs/simulation.md §6.10): +amount on the in token, -amount out on the out token; amount 0 ->
    no change."""
    token_in, token_out = trade[0].astype(jnp.int32), trade[1].astype(jnp.int32)
    amount = trade[2]
    exponent = weights[token_in] / weights[token_out]
    amount_out = reserves[token_out] * (
        1.0 - (1.0 / (1 + gamma * (amount / reserves[token_in]))) ** exponent
    )
    tokens = jnp.arange(reserves.shape[-1])
    change = jnp.where(tokens == token_out, -amount_out, jnp.where(tokens == token_in, amount, 0.0))
    return jnp.where(amount != 0, change, 0.0)
