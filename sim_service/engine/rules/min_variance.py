"""Minimum variance: target the inverse-variance weights of chunk returns, smoothed."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax

from quantamm.core.rules import InitialGetter, RuleSpec
from sim_service.engine import estimators
from sim_service.engine.rules.common import (
    MEMORY_DAYS_1,
    MEMORY_DAYS_2,
    SCALAR_KEYS,
    Params,
    RuleKernel,
    RuleSettings,
    numpy_lamb_max,
)
from sim_service.engine.rules.difference_momentum import days_initial
from sim_service.engine.transforms import memory_days_to_lamb

SCHEMA = {"memory_days_1": MEMORY_DAYS_1, "memory_days_2": MEMORY_DAYS_2}


def initial(values: InitialGetter, chunk_period: int) -> dict[str, np.ndarray]:
    """The two memories (days) and the weight logits."""
    return {**days_initial(values, chunk_period),
            "initial_weights_logits": values("initial_weights_logits")}


def kernel(params: Params, settings: RuleSettings) -> RuleKernel:
    """Target weights = inverse EWMA return variances, normalised."""
    if "memory_days_1" in params:
        lamb = memory_days_to_lamb(params["memory_days_1"], settings.chunk_period)
    else:
        lamb = jax.nn.sigmoid(params["logit_lamb"])
    lamb = jnp.clip(lamb, 0.0, numpy_lamb_max(settings))

    def step(state: estimators.VarianceState, price: Array):
        state, variance = estimators.return_variance_step(state, price, lamb)
        precisions = 1.0 / variance
        return state, precisions / jnp.sum(precisions, axis=-1, keepdims=True)

    return RuleKernel(estimators.initial_variance_state, step)


def smoothing_lamb(params: Params, settings: RuleSettings) -> Array:
    """Smoothing decay of the target weights, capped straight-through to [0, lambda_max(mmd)]."""
    if "memory_days_2" in params:
        lamb = memory_days_to_lamb(params["memory_days_2"], settings.chunk_period)
    else:
        lamb = jax.nn.sigmoid(params["logit_lamb"] + params["logit_delta_lamb"])
    return lamb + lax.stop_gradient(jnp.clip(lamb, 0.0, numpy_lamb_max(settings)) - lamb)


RULE = RuleSpec(
    name="min_variance",
    description="Targets inverse-variance weights of chunk returns.",
    pool="tfmm",
    schema=SCHEMA,
    initial=initial,
    kernel=kernel,
    outputs="weights",
    alternative_keys=frozenset({"logit_lamb", "logit_delta_lamb"}),
    memory_keys=("memory_days_1", "memory_days_2"),
    scalar_keys=SCALAR_KEYS & set(SCHEMA),
)
