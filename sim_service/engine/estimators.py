"""Exponentially weighted estimators over chunk prices, in step form and scanned form.

Every estimator runs over chunk prices ``Q[K, n]`` (one row per ``chunk_period`` minutes from the
first row of the price array) with a per-asset decay ``lamb[n]`` and returns ``K - 1`` rows:
row ``i`` belongs to chunk ``i + 1`` and uses ``Q[0 .. i + 1]`` only (no look-ahead).
The scanned forms are ``lax.scan`` over the step forms, so the two agree exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jax import Array, lax

ZERO_A_THRESHOLD = 1e-10


class GradientState(NamedTuple):
    """Carry of the price-gradient estimator; every field has shape [n]."""

    ewma: Array
    alt_ewma: Array
    running_a: Array


class GradientReadout(NamedTuple):
    """Per-chunk estimator outputs; every field has shape [K - 1, n] (or [n] for one step)."""

    gradients: Array
    ewma: Array
    running_a: Array


def initial_gradient_state(first_price: Array) -> GradientState:
    """State before the first update: EWMAs at the first chunk price, running a at 0."""
    return GradientState(first_price, first_price, jnp.zeros_like(first_price))


def gradient_step(
    state: GradientState, price: Array, lamb: Array, alt_lamb: Array | None
) -> tuple[GradientState, GradientReadout]:
    """One chunk of the proportional price-gradient estimator.

    Args:
      state: carry from the previous chunk.
      price: [n] chunk price.
      lamb: [n] decay of the EWMA and of running a (already capped).
      alt_lamb: [n] decay of the denominator EWMA, or None to use ``lamb`` (no alt lambda).

    Returns:
      The new state and the readout (gradient per chunk, ewma, running a), each [n].
    """
    g_inf = 1.0 / (1.0 - lamb)
    saturated_b = lamb / ((1 - lamb) ** 3)
    ewma = state.ewma + (price - state.ewma) / g_inf
    running_a = lamb * state.running_a + g_inf * (price - ewma)
    running_a = jnp.where(jnp.abs(running_a) < ZERO_A_THRESHOLD, 0.0, running_a)
    if alt_lamb is None:
        alt_ewma = ewma
    else:
        alt_ewma = state.alt_ewma + (price - state.alt_ewma) / (1.0 / (1.0 - alt_lamb))
    gradient = running_a / (saturated_b * alt_ewma)
    return GradientState(ewma, alt_ewma, running_a), GradientReadout(gradient, ewma, running_a)


def gradient_scan(chunk_prices: Array, lamb: Array, alt_lamb: Array | None) -> GradientReadout:
    """Scanned gradient estimator over chunk prices [K, n] -> readouts of [K - 1, n]."""

    def step(state: GradientState, price: Array) -> tuple[GradientState, GradientReadout]:
        return gradient_step(state, price, lamb, alt_lamb)

    _, readout = lax.scan(step, initial_gradient_state(chunk_prices[0]), chunk_prices[1:])
    return readout


def ewma_scan(chunk_prices: Array, lamb: Array) -> Array:
    """EWMA of chunk prices [K, n] with decay lamb [n] -> [K - 1, n] (rows 1..K-1)."""

    def step(ewma: Array, price: Array) -> tuple[Array, Array]:
        ewma = ewma + (price - ewma) / (1.0 / (1.0 - lamb))
        return ewma, ewma

    _, ewmas = lax.scan(step, chunk_prices[0], chunk_prices[1:])
    return ewmas


def return_variance_scan(chunk_prices: Array, lamb: Array) -> Array:
    """EWMA variance of chunk-to-chunk returns, chunk prices [K, n] -> [K - 1, n].

    Returns r_j = Q_{j+1} / Q_j - 1; the state (mean, s) starts at (r_0, 0); the first output row
    is all ones (as the reference's scan path), later rows are s (1 - lamb).
    """
    returns = chunk_prices[1:] / chunk_prices[:-1] - 1.0

    g_inf = 1.0 / (1.0 - lamb)

    def step(carry: tuple[Array, Array], r: Array) -> tuple[tuple[Array, Array], Array]:
        mean, s = carry
        d = r - mean
        mean = mean + d / g_inf
        s = lamb * s + d * (d * (1 - 1 / g_inf))
        return (mean, s), s * (1.0 - lamb)

    _, variances = lax.scan(step, (returns[0], jnp.zeros_like(returns[0])), returns[1:])
    return jnp.concatenate([jnp.ones_like(returns[:1]), variances], axis=0)
