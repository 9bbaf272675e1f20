"""Parameter transforms: memory length <-> lambda <-> logit, aggressiveness k, squareplus.

Units: ``memory_days`` in days, ``chunk_period_minutes`` in minutes (also accepted under the
reference's keyword ``chunk_period``); lambda is the EWMA decay
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

REFERENCE_DEFAULT_CHUNK_PERIOD = 60  # the reference's memory_days_to_lamb(memory_days, chunk_period=60)


def _chunk_period(chunk_period_minutes: float | None, chunk_period: float | None,
                  default: float | None, function: str) -> float:
    """The chunk period of a call made with our name (``chunk_period_minutes``, positional or
    keyword) or the reference's (``chunk_period``); ``default`` when neither is given (None:
    required, as in the reference)."""
    if chunk_period_minutes is not None and chunk_period is not None:
        raise TypeError(f"{function}() got both chunk_period_minutes and chunk_period")
    period = chunk_period_minutes if chunk_period_minutes is not None else chunk_period
    if period is None:
        if default is None:
            raise TypeError(f"{function}() missing required argument: 'chunk_period_minutes' "
                            "(or the reference's 'chunk_period')")
        return default
    return period


def memory_days_to_lamb(memory_days: ArrayLike, chunk_period_minutes: float | None = None, *,
                        chunk_period: float | None = None) -> Array:
    """Days -> lambda (JAX variant, unguarded). Shape preserved; 0 days -> lambda 0.

    The chunk period may also be given under the reference's name ``chunk_period``; with
    neither it is 60 minutes, the reference's default."""
    chunk_period_minutes = _chunk_period(chunk_period_minutes, chunk_period,
                                         REFERENCE_DEFAULT_CHUNK_PERIOD, "memory_days_to_lamb")
    memory_days = jnp.asarray(memory_days)
    num1, den1, num2 = closed_form_terms(scaled_memory(memory_days, chunk_period_minutes), jnp)
    lamb = num1 / den1 - num2 / num1 + 1.0
    return jnp.where(memory_days == 0.0, 0.0, lamb)


def lamb_to_memory_days(lamb: ArrayLike, chunk_period_minutes: float | None = None, *,
                        chunk_period: float | None = None) -> Array:
    """Lambda -> days: cbrt(6 lambda / (1 - lambda)^3) * 2 c / 1440 (the chunk period is
    required, under either name, as in the reference)."""
    chunk_period_minutes = _chunk_period(chunk_period_minutes, chunk_period, None,
                                         "lamb_to_memory_days")
    return jnp.cbrt(6 * lamb / ((1 - lamb) ** 3.0)) * 2 * chunk_period_minutes / MINUTES_PER_DAY


def logit_lamb_to_memory_days(logit_lamb: ArrayLike, chunk_period_minutes: float | None = None,
                              *, chunk_period: float | None = None) -> Array:
    """logit_lamb -> days (uncapped); the chunk period under either name, required."""
    chunk_period_minutes = _chunk_period(chunk_period_minutes, chunk_period, None,
                                         "logit_lamb_to_memory_days")
    return lamb_to_memory_days(jax.nn.sigmoid(logit_lamb), chunk_period_minutes)


def squareplus(x: ArrayLike) -> Array:
    """sp(x) = (x + sqrt(x^2 + 4)) / 2: a smooth map R -> (0, inf) with sp(0) = 1."""
    return 0.5 * (x + jnp.sqrt(jnp.square(x) + 4.0))
