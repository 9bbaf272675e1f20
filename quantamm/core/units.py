"""Human units <-> the engine's parameterisation, in NumPy (no JAX: both services use it).

Memory length in days <-> lambda (EWMA decay per chunk) by the reference's closed-form root of
lambda / (1 - lambda)^3 = S with S = (1440 days / (2 chunk_period_minutes))^3 / 6. This NumPy
variant makes each division by zero 0 and maps NaN -> 0, +inf -> 1, -inf -> 0 (the reference's
initialisation and min-variance caps); the engine's JAX variant reuses the same terms unguarded.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
from numpy.typing import ArrayLike

MINUTES_PER_DAY = 1440


def closed_form_terms(scaled: ArrayLike, xp: ModuleType = np) -> tuple:
    """(numerator 1, denominator 1, numerator 2) of the cubic's closed-form root."""
    numerator_1 = xp.cbrt(xp.sqrt(3 * (27 * scaled**4 + 4 * scaled**3)) - 9 * scaled**2)
    denominator_1 = xp.cbrt(2.0) * 3 ** (2.0 / 3.0) * scaled
    numerator_2 = xp.cbrt(2.0 / 3.0)
    return numerator_1, denominator_1, numerator_2


def scaled_memory(memory_days: ArrayLike, chunk_period_minutes: float) -> ArrayLike:
    """S = (1440 m / (2 c))^3 / 6, the right-hand side of lambda / (1 - lambda)^3 = S."""
    return (MINUTES_PER_DAY * memory_days / (2.0 * chunk_period_minutes)) ** 3 / 6.0


def memory_days_to_lamb_np(memory_days: ArrayLike, chunk_period_minutes: float) -> np.ndarray:
    """Days -> lambda with the reference's division and inf/NaN guards. Shape preserved."""
    memory_days = np.asarray(memory_days, dtype=np.float64)
    with np.errstate(all="ignore"):
        num1, den1, num2 = closed_form_terms(scaled_memory(memory_days, chunk_period_minutes))
        num2 = np.broadcast_to(num2, np.shape(num1))
        div1 = np.divide(num1, den1, out=np.zeros_like(num1), where=den1 != 0)
        div2 = np.divide(num2, num1, out=np.zeros_like(num2), where=num1 != 0)
        lamb = np.nan_to_num(div1 - div2 + 1.0, nan=0.0, posinf=1.0, neginf=0.0)
    return np.where(memory_days == 0.0, 0.0, lamb)


def memory_days_to_logit_lamb(memory_days: ArrayLike, chunk_period_minutes: float) -> np.ndarray:
    """Days -> logit_lamb, as the reference initialises it."""
    lamb = memory_days_to_lamb_np(memory_days, chunk_period_minutes)
    with np.errstate(divide="ignore"):
        return np.log(lamb / (1.0 - lamb))


def inverse_squareplus(y: ArrayLike) -> ArrayLike:
    """sp^-1(y) = (y^2 - 1) / y for y > 0 (NumPy or JAX input)."""
    return (y * y - 1.0) / y


def from_human(transform: str | None, value: ArrayLike,
               chunk_period_minutes: float | None = None) -> np.ndarray:
    """A human-unit value -> the engine's parameter of transform ``transform``: ``logit_lamb``
    (memory days -> logit lambda at the chunk period), ``log2`` (k per day -> log2 k),
    ``squareplus`` (-> its inverse), None (unchanged). Shape preserved."""
    value = np.asarray(value, dtype=np.float64)
    if transform == "logit_lamb":
        if chunk_period_minutes is None:
            raise ValueError("the logit_lamb transform needs the chunk period")
        return memory_days_to_logit_lamb(value, chunk_period_minutes)
    if transform == "log2":
        return np.log2(value)
    if transform == "squareplus":
        return inverse_squareplus(value)
    if transform is None:
        return value
    raise ValueError(f"unknown transform {transform!r}")
