"""Prefix sums and maxima along the last axis, in the form that is fastest per platform.

On CPU a sequential loop wins: XLA compiles a small loop into one kernel (see the option set in
``sim_service.engine``) that reads the data once, while its parallel cumulative reductions
(reduce-window trees) make several passes and are slow on a 2D array. Accelerators keep the
parallel forms. The choice is made when the program is lowered for its device
(``lax.platform_dependent``); both forms give the same maxima and sums equal up to rounding.
"""

from __future__ import annotations

from typing import Callable

import jax.numpy as jnp
from jax import Array, lax


def _sequential(op: Callable[[Array, Array], Array], x: Array) -> Array:
    """Inclusive prefix ``op`` along the last axis by a loop over it. [..., T] -> [..., T]."""
    moved = jnp.moveaxis(x, -1, 0)

    def step(carry: Array, value: Array) -> tuple[Array, Array]:
        carry = op(carry, value)
        return carry, carry

    _, rest = lax.scan(step, moved[0], moved[1:])
    return jnp.moveaxis(jnp.concatenate([moved[:1], rest]), 0, -1)


def cumsum(x: Array) -> Array:
    """Running sum along the last axis: [..., T] -> [..., T] (differentiable)."""
    if x.shape[-1] == 0:
        return x
    return lax.platform_dependent(
        x, cpu=lambda v: _sequential(jnp.add, v), default=lambda v: jnp.cumsum(v, axis=-1)
    )


def cummax(x: Array) -> Array:
    """Running maximum along the last axis: [..., T] -> [..., T] (values only; see
    ``metrics.running_peak`` for the gradient)."""
    if x.shape[-1] == 0:
        return x
    return lax.platform_dependent(
        x, cpu=lambda v: _sequential(jnp.maximum, v), default=lambda v: lax.cummax(v, axis=v.ndim - 1)
    )
