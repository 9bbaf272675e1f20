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
import numpy as np
from jax import Array
from jax.typing import ArrayLike

MINUTES_PER_DAY = 1440


def _closed_form_terms(scaled: ArrayLike, xp) -> tuple:
    """Numerator/denominator pieces of the cubic's closed-form root (shared by both variants)."""
    numerator_1 = xp.cbrt(xp.sqrt(3 * (27 * scaled**4 + 4 * scaled**3)) - 9 * scaled**2)
    denominator_1 = xp.cbrt(2.0) * 3 ** (2.0 / 3.0) * scaled
    numerator_2 = xp.cbrt(2.0 / 3.0)
    return numerator_1, denominator_1, numerator_2


def _scaled_memory(memory_days: ArrayLike, chunk_period_minutes: float) -> ArrayLike:
    """S = (1440 m / (2 c))^3 / 6, the right-hand side of lambda / (1 - lambda)^3 = S."""
    return (MINUTES_PER_DAY * memory_days / (2.0 * chunk_period_minutes)) ** 3 / 6.0


def memory_days_to_lamb(memory_days: ArrayLike, chunk_period_minutes: float) -> Array:
    """Days -> lambda (JAX variant, unguarded). Shape preserved; 0 days -> lambda 0."""
    memory_days = jnp.asarray(memory_days)
    num1, den1, num2 = _closed_form_terms(_scaled_memory(memory_days, chunk_period_minutes), jnp)
    lamb = num1 / den1 - num2 / num1 + 1.0
    return jnp.where(memory_days == 0.0, 0.0, lamb)


def memory_days_to_lamb_np(memory_days: ArrayLike, chunk_period_minutes: float) -> np.ndarray:
    """Days -> lambda (NumPy variant with the reference's division and inf/NaN guards)."""
    memory_days = np.asarray(memory_days, dtype=np.float64)
    with np.errstate(all="ignore"):
        num1, den1, num2 = _closed_form_terms(
            _scaled_memory(memory_days, chunk_period_minutes), np
        )
        num2 = np.broadcast_to(num2, np.shape(num1))
        div1 = np.divide(num1, den1, out=np.zeros_like(num1), where=den1 != 0)
        div2 = np.divide(num2, num1, out=np.zeros_like(num2), where=num1 != 0)
        lamb = np.nan_to_num(div1 - div2 + 1.0, nan=0.0, posinf=1.0, neginf=0.0)
    return np.where(memory_days == 0.0, 0.0, lamb)


def lamb_to_memory_days(lamb: ArrayLike, chunk_period_minutes: float) -> Array:
    """Lambda -> days: cbrt(6 lambda / (1 - lambda)^3) * 2 c / 1440."""
    return jnp.cbrt(6 * lamb / ((1 - lamb) ** 3.0)) * 2 * chunk_period_minutes / MINUTES_PER_DAY


def memory_days_to_logit_lamb(memory_days: ArrayLike, chunk_period_minutes: float) -> np.ndarray:
    """Days -> logit_lamb, as the reference initialises it (NumPy lambda variant)."""
    lamb = memory_days_to_lamb_np(memory_days, chunk_period_minutes)
    with np.errstate(divide="ignore"):
        return np.log(lamb / (1.0 - lamb))


def logit_lamb_to_memory_days(logit_lamb: ArrayLike, chunk_period_minutes: float) -> Array:
    """logit_lamb -> days (uncapped)."""
    return lamb_to_memory_days(jax.nn.sigmoid(logit_lamb), chunk_period_minutes)


def squareplus(x: ArrayLike) -> Array:
    """sp(x) = (x + sqrt(x^2 + 4)) / 2: a smooth map R -> (0, inf) with sp(0) = 1."""
    return 0.5 * (x + jnp.sqrt(jnp.square(x) + 4.0))


def inverse_squareplus(y: ArrayLike) -> ArrayLike:
    """sp^-1(y) = (y^2 - 1) / y for y > 0 (NumPy or JAX input)."""
    return (y * y - 1.0) / y
