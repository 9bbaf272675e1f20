"""Momentum: move weight toward the assets whose price trend (EWMA gradient) is strongest."""

from __future__ import annotations

import numpy as np
from jax import Array

from quantamm.core.rules import InitialGetter, OptunaRange, ParamSpec, RuleSpec, lamb_initial
from sim_service.engine.rules.common import (
    K_ALTERNATIVES,
    LOGIT_DELTA_LAMB,
    LOGIT_LAMB,
    SCALAR_KEYS,
    Params,
    RuleSettings,
    gradient_kernel,
    momentum_k,
    zero_sum_projection,
)

SCHEMA = {
    "log_k": ParamSpec(
        initial=4.32,
        optuna=OptunaRange(-6.6, 12.0),
        transform="log2",
        description="Log2 of momentum sensitivity factor (k) per day",
    ),
    "logit_lamb": LOGIT_LAMB,
    "logit_delta_lamb": LOGIT_DELTA_LAMB,
}


def momentum_initial(initial: InitialGetter, chunk_period: int) -> dict[str, np.ndarray]:
    """log_k = log2(k per day), the lambdas from the memory, the weight logits."""
    return {"log_k": np.log2(initial("initial_k_per_day")), **lamb_initial(initial, chunk_period),
            "initial_weights_logits": initial("initial_weights_logits")}


def output(gradient: Array, params: Params, settings: RuleSettings, memory_days: Array) -> Array:
    """Project the gradient with k."""
    return zero_sum_projection(gradient, momentum_k(params, memory_days), mask_zero_k=True)


RULE = RuleSpec(
    name="momentum",
    description="Moves weight toward assets whose price trend (EWMA gradient) is strongest.",
    pool="tfmm",
    schema=SCHEMA,
    initial=momentum_initial,
    kernel=gradient_kernel(output),
    outputs="delta",
    alternative_keys=K_ALTERNATIVES,
    memory_keys=("logit_lamb",),
    k_key="log_k",
    scalar_keys=SCALAR_KEYS & set(SCHEMA),
    has_readouts=True,
)
