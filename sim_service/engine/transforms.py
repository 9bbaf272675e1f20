"""Parameter transforms: memory length <-> lambda <-> logit, aggressiveness k, squareplus.

Units: ``memory_days`` in days, ``chunk_period_minutes`` in minutes; lambda is the EWMA decay
per chunk, so the same lambda means more days for a longer chunk period.

Two variants of the days -> lambda closed form exist in the reference and both are kept:
``memory_days_to_lamb`` (JAX, used inside rules; no guards, so it can give -inf or NaN for
extreme inputs) and ``memory_days_to_lamb_np`` (NumPy, used for initialisation and the
min-variance caps; divisions by zero give 0 and NaN -> 0, +inf -> 1, -inf -> 0).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from quantamm.core.units import (  # noqa: F401  (the NumPy variants are part of this API)
    MINUTES_PER_DAY,
    closed_form_terms,
    inverse_squareplus,
    memory_days_to_lamb_np,
    memory_days_to_logit_lamb,
    scaled_memory,
)


def memory_days_to_lamb(memory_days: ArrayLike, chunk_period_minutes: float) -> Array:
    """Days -> lambda (JAX variant, unguarded). Shape preserved; 0 days -> lambda 0."""
    memory_days = jnp.asarray(memory_days)
    num1, den1, num2 = closed_form_terms(scaled_memory(memory_days, chunk_period_minutes), jnp)
    lamb = num1 / den1 - num2 / num1 + 1.0
    return jnp.where(memory_days == 0.0, 0.0, lamb)


def lamb_to_memory_days(lamb: ArrayLike, chunk_period_minutes: float) -> Array:
    """Lambda -> days: cbrt(6 lambda / (1 - lambda)^3) * 2 c / 1440."""
    return jnp.cbrt(6 * lamb / ((1 - lamb) ** 3.0)) * 2 * chunk_period_minutes / MINUTES_PER_DAY


def logit_lamb_to_memory_days(logit_lamb: ArrayLike, chunk_period_minutes: float) -> Array:
    """logit_lamb -> days (uncapped)."""
    return lamb_to_memory_days(jax.nn.sigmoid(logit_lamb), chunk_period_minutes)


def squareplus(x: ArrayLike) -> Array:
    """sp(x) = (x + sqrt(x^2 + 4)) / 2: a smooth map R -> (0, inf) with sp(0) = 1."""
    return 0.5 * (x + jnp.sqrt(jnp.square(x) + 4.0))
