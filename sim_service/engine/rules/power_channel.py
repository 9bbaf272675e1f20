"""Power channel: momentum on a power of the trend signal."""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array

from quantamm.core.rules import RuleSpec
from sim_service.engine.rules.common import (
    K_ALTERNATIVES,
    LOGIT_DELTA_LAMB,
    LOGIT_LAMB,
    SCALAR_KEYS,
    SP_EXPONENTS,
    SP_K,
    SP_PRE_EXP_SCALING,
    Params,
    RuleSettings,
    channel_initial,
    channel_k,
    exponent_param,
    gradient_kernel,
    power_signal,
    pre_exp_scaling,
    zero_sum_projection,
)

SCHEMA = {
    "sp_k": SP_K,
    "logit_lamb": LOGIT_LAMB,
    "logit_delta_lamb": LOGIT_DELTA_LAMB,
    "sp_exponents": SP_EXPONENTS,
    "sp_pre_exp_scaling": SP_PRE_EXP_SCALING,
}
ALTERNATIVE_KEYS = K_ALTERNATIVES | {"log_k", "raw_exponents", "logit_pre_exp_scaling",
                                     "raw_pre_exp_scaling"}


def output(gradient: Array, params: Params, settings: RuleSettings, memory_days: Array) -> Array:
    """sign(g)|g/(2 s)|^p with p = max(sp(exponent), 1), projected with k."""
    exponent = jnp.maximum(exponent_param(params), 1.0)
    signal = power_signal(gradient, pre_exp_scaling(params, settings), exponent)
    return zero_sum_projection(signal, channel_k(params, memory_days), mask_zero_k=False)


RULE = RuleSpec(
    name="power_channel",
    description="Momentum on a power of the trend signal.",
    pool="tfmm",
    schema=SCHEMA,
    initial=channel_initial,
    kernel=gradient_kernel(output),
    outputs="delta",
    alternative_keys=ALTERNATIVE_KEYS,
    memory_keys=("logit_lamb",),
    k_key="sp_k",
    scalar_keys=SCALAR_KEYS & set(SCHEMA),
    has_readouts=True,
)
