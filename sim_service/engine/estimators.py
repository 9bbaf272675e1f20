"""Exponentially weighted estimators over chunk prices, one chunk at a time.

Estimators run over chunk prices ``Q[K, n]`` (one row per ``chunk_period`` minutes from the first
row of the price array) with a per-asset decay ``lamb[n]``; scanned over ``Q[1:]`` from a state
built on ``Q[0]`` they give ``K - 1`` rows: row ``i`` belongs to chunk ``i + 1`` and uses
``Q[0 .. i + 1]`` only (no look-ahead).
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


class EwmaPairState(NamedTuple):
    """Two EWMAs of the same prices with different decays; fields [n]."""

    ewma_1: Array
    ewma_2: Array


def initial_ewma_pair_state(first_price: Array) -> EwmaPairState:
    return EwmaPairState(first_price, first_price)


def ewma_step(ewma: Array, price: Array, lamb: Array) -> Array:
    """One EWMA update: e + (Q - e) / G with G = 1 / (1 - lamb). Shapes [n]."""
    return ewma + (price - ewma) / (1.0 / (1.0 - lamb))


class VarianceState(NamedTuple):
    """Carry of the return-variance estimator; fields [n] (``started`` a bool scalar)."""

    previous_price: Array
    mean: Array
    s: Array
    started: Array


def initial_variance_state(first_price: Array) -> VarianceState:
    """State before the first return is seen."""
    zeros = jnp.zeros_like(first_price)
    return VarianceState(first_price, zeros, zeros, jnp.array(False))


def return_variance_step(
    state: VarianceState, price: Array, lamb: Array
) -> tuple[VarianceState, Array]:
    """One chunk of the EWMA variance of chunk-to-chunk returns r = (Q - Q_prev) / Q_prev.

    The first return initialises the mean (output all ones, as the reference's scan path);
    afterwards d = r - mean, mean += d / G, s = lamb s + d (d (1 - 1/G)), output s (1 - lamb).
    """
    r = (price - state.previous_price) / state.previous_price
    g_inf = 1.0 / (1.0 - lamb)
    d = r - state.mean
    mean = jnp.where(state.started, state.mean + d / g_inf, r)
    s = jnp.where(state.started, lamb * state.s + d * (d * (1 - 1 / g_inf)), 0.0)
    variance = jnp.where(state.started, s * (1.0 - lamb), 1.0)
    return VarianceState(price, mean, s, jnp.array(True)), variance
