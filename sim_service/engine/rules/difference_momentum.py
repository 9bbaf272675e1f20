"""Difference momentum: momentum on the relative difference of two EWMAs of different memory."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from quantamm.core.rules import InitialGetter, OptunaRange, ParamSpec, RuleSpec
from sim_service.engine import estimators
from sim_service.engine.rules.common import (
    MEMORY_DAYS_1,
    MEMORY_DAYS_2,
    SCALAR_KEYS,
    Params,
    RuleKernel,
    RuleSettings,
    days_to_capped_lamb,
    momentum_k,
    zero_sum_projection,
)
from sim_service.engine.transforms import lamb_to_memory_days

SCHEMA = {
    "k": ParamSpec(
        initial=20.0,
        optuna=OptunaRange(0.1, 1000.0, log_scale=True),
        description="Sensitivity factor per day (multiplied by the longer memory)",
    ),
    "memory_days_1": MEMORY_DAYS_1,
    "memory_days_2": MEMORY_DAYS_2,
}


def days_initial(values: InitialGetter, chunk_period: int) -> dict[str, np.ndarray]:
    """memory_days_1 = the memory, memory_days_2 = the memory plus its delta (days)."""
    memory = values("initial_memory_length")
    return {"memory_days_1": memory,
            "memory_days_2": memory + values("initial_memory_length_delta")}


def initial(values: InitialGetter, chunk_period: int) -> dict[str, np.ndarray]:
    """k per day, the two memories, the weight logits."""
    return {"k": values("initial_k_per_day"), **days_initial(values, chunk_period),
            "initial_weights_logits": values("initial_weights_logits")}


def kernel(params: Params, settings: RuleSettings) -> RuleKernel:
    """x = 1 - ewma_2 / ewma_1 projected with k; days form or logit form of the memories."""
    if "memory_days_1" in params and "memory_days_2" in params:
        days_1, days_2 = params["memory_days_1"], params["memory_days_2"]
        k = params["k"] * jnp.maximum(days_1, days_2)
    else:
        c, mmd = settings.chunk_period, settings.max_memory_days
        lamb = jax.nn.sigmoid(params["logit_lamb"])
        alt_lamb = jax.nn.sigmoid(params["logit_lamb"] + params["logit_delta_lamb"])
        days_1 = jnp.clip(lamb_to_memory_days(lamb, c), 0.0, mmd)
        days_2 = jnp.clip(lamb_to_memory_days(alt_lamb, c), 0.0, mmd)
        k = momentum_k(params, days_1)
    lamb_1 = days_to_capped_lamb(days_1, settings)
    lamb_2 = days_to_capped_lamb(days_2, settings)

    def step(state: estimators.EwmaPairState, price: Array):
        ewma_1 = estimators.ewma_step(state.ewma_1, price, lamb_1)
        ewma_2 = estimators.ewma_step(state.ewma_2, price, lamb_2)
        output = zero_sum_projection(1.0 - ewma_2 / ewma_1, k, mask_zero_k=True)
        return estimators.EwmaPairState(ewma_1, ewma_2), output

    return RuleKernel(estimators.initial_ewma_pair_state, step)


RULE = RuleSpec(
    name="difference_momentum",
    description="Momentum on the difference of two EWMAs of different memory.",
    pool="tfmm",
    schema=SCHEMA,
    initial=initial,
    kernel=kernel,
    outputs="delta",
    alternative_keys=frozenset({"logit_lamb", "logit_delta_lamb", "log_k"}),
    memory_keys=("memory_days_1", "memory_days_2"),
    k_key="k",
    scalar_keys=SCALAR_KEYS & set(SCHEMA),
    signed_k=True,
)
