"""Helpers of the two-token pool tests (test_cow.py, test_gyroscope.py): price paths and
scalar costs."""

import jax
import jax.numpy as jnp
import numpy as np

from sim_service.engine.fee_reserves import Costs

LENGTH = 2000
POOL_VALUE = 1e6


def random_walk(
    seed: int, length: int = LENGTH, sigma: float = 1e-3, start: float = 1.0
) -> jax.Array:
    """Prices [length, 2]: token 0 a geometric random walk around ``start``, token 1 at 1."""
    steps = np.random.default_rng(seed).normal(0.0, sigma, length)
    steps[0] = 0.0
    return jnp.asarray(np.stack([start * np.exp(np.cumsum(steps)), np.ones(length)], axis=1))


def static_costs(fees: float = 0.0, gas: float = 0.0, arb_fees: float = 0.0) -> Costs:
    """Scalar costs with noise income at gamma (CoW, E-CLP)."""
    gamma = 1.0 - fees
    return Costs(gamma, gas, arb_fees, gamma)
