"""Anti-momentum: move weight away from trending assets (momentum with -k)."""

from __future__ import annotations

import dataclasses

from jax import Array

from sim_service.engine.rules import momentum
from sim_service.engine.rules.common import (
    Params,
    RuleSettings,
    gradient_kernel,
    momentum_k,
    zero_sum_projection,
)


def output(gradient: Array, params: Params, settings: RuleSettings, memory_days: Array) -> Array:
    """Project the gradient with -k."""
    return zero_sum_projection(gradient, -momentum_k(params, memory_days), mask_zero_k=True)


RULE = dataclasses.replace(
    momentum.RULE,
    name="anti_momentum",
    description="Moves weight away from trending assets (momentum with -k).",
    kernel=gradient_kernel(output),
)
