"""Triple-threat mean-reversion channel: the mean-reversion channel with its channel, trend and
envelope each driven by a gradient of its own memory (docs/pools.md §3.1).

``logit_lamb`` is ``[3, n]``: row 0 the channel's memory, row 1 the trend's, row 2 the
envelope's; ``logit_lamb_for_ewma`` [n] is the memory of the gradients' denominator EWMA and sets
the memory days that scale k and the amplitude. Per chunk, with g_j the gradient of memory j:
E = exp(-g_2^2 / (2 W^2)), y = pi g_0 / (3 W), channel C = -A E (y - y^3/6) / 0.5415, trend
T = (1 - E) sign(g_1) |g_1 / (2 s)|^p, output k (x - sum(k x) / sum(k)) of x = C + T, with
W = 2^raw_width, A = 2^log_amplitude * days, p = sp(raw_exponents) (no floor), s the pre-exponent
scaling. With three equal rows and ``logit_lamb_for_ewma = logit_lamb`` it is the
mean-reversion channel in its ``2^x`` parameterisation.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from quantamm.core.rules import InitialGetter, OptunaRange, ParamSpec, RuleSpec
from quantamm.core.units import memory_days_to_logit_lamb
from sim_service.engine import estimators
from sim_service.engine.rules.common import (
    K_ALTERNATIVES,
    Params,
    RuleKernel,
    RuleSettings,
    exponent_param,
    momentum_k,
    power_signal,
    pre_exp_scaling,
    zero_sum_projection,
)
from sim_service.engine.transforms import lamb_to_memory_days, memory_days_to_lamb

ESTIMATORS = 3  # channel, trend, envelope

SCHEMA = {
    "log_k": ParamSpec(initial=4.32, optuna=OptunaRange(-6.6, 12.0), transform="log2",
                       description="Log2 of the sensitivity factor (k) per day"),
    "logit_lamb": ParamSpec(initial=4.0, optuna=OptunaRange(-4.0, 8.0), transform="logit_lamb",
                            rows=ESTIMATORS,
                            description="Logit lambda of the channel, trend and envelope "
                                        "gradients (rows 0, 1, 2)"),
    "logit_lamb_for_ewma": ParamSpec(initial=4.0, optuna=OptunaRange(-4.0, 8.0),
                                     transform="logit_lamb",
                                     description="Logit lambda of the gradients' denominator "
                                                 "EWMA (also sets the memory days)"),
    "log_amplitude": ParamSpec(initial=0.0, optuna=OptunaRange(-10.0, 10.0),
                               description="Log2 of the channel amplitude per memory day"),
    "raw_width": ParamSpec(initial=0.0, optuna=OptunaRange(-10.0, 10.0),
                           description="Log2 of the channel width"),
    "raw_exponents": ParamSpec(initial=0.0, optuna=OptunaRange(0.0, 10.0),
                               transform="squareplus",
                               description="Squareplus-space exponent of the trend (no floor)"),
    "raw_pre_exp_scaling": ParamSpec(initial=-1.0, optuna=OptunaRange(-10.0, 10.0),
                                     description="Log2 of the trend's pre-exponent scaling"),
}


def initial(values: InitialGetter, chunk_period: int) -> dict[str, np.ndarray]:
    """The reference's initial sets: one memory in all three rows and the EWMA, k, log2 of the
    amplitude, width and pre-exponent scaling, raw exponents as they are."""
    logit = memory_days_to_logit_lamb(values("initial_memory_length"), chunk_period)
    return {
        "log_k": np.log2(values("initial_k_per_day")),
        "logit_lamb": np.repeat(logit[:, None, :], ESTIMATORS, axis=1),
        "logit_lamb_for_ewma": logit,
        "log_amplitude": values("initial_log_amplitude"),
        "raw_width": values("initial_raw_width"),
        "raw_exponents": values("initial_raw_exponents"),
        "raw_pre_exp_scaling": np.log2(values("initial_pre_exp_scaling")),
        "initial_weights_logits": values("initial_weights_logits"),
    }


def output(gradients: Array, params: Params, settings: RuleSettings, memory_days: Array) -> Array:
    """Raw output [n] from the three gradients [3, n]."""
    channel_g, trend_g, envelope_g = gradients
    width = 2 ** params["raw_width"]
    amplitude = (2 ** params["log_amplitude"]) * memory_days
    envelope = jnp.exp(-(envelope_g**2) / (2 * width**2))
    scaled = math.pi * channel_g / (3 * width)
    channel = -amplitude * envelope * (scaled - scaled**3 / 6) / 0.5415
    trend = (1 - envelope) * power_signal(trend_g, pre_exp_scaling(params, settings),
                                          exponent_param(params))
    return zero_sum_projection(channel + trend, momentum_k(params, memory_days), mask_zero_k=False)


def kernel(params: Params, settings: RuleSettings) -> RuleKernel:
    """Three gradient estimators (one per row of ``logit_lamb``) sharing the denominator EWMA's
    decay, then ``output``."""
    lamb_max = memory_days_to_lamb(settings.max_memory_days, settings.chunk_period)
    lambdas = jnp.clip(jax.nn.sigmoid(params["logit_lamb"]), 0.0, lamb_max)  # [3, n]
    ewma_raw = jax.nn.sigmoid(params["logit_lamb_for_ewma"])
    ewma_lamb = jnp.clip(ewma_raw, 0.0, lamb_max)
    memory_days = jnp.clip(lamb_to_memory_days(ewma_raw, settings.chunk_period), 0.0,
                           settings.max_memory_days)

    def init(first_price: Array) -> estimators.GradientState:
        state = estimators.initial_gradient_state(first_price)
        return jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, lambdas.shape), state)

    def step(state: estimators.GradientState, price: Array):
        state, readout = estimators.gradient_step(state, price, lambdas, ewma_lamb)
        return state, output(readout.gradients, params, settings, memory_days)

    return RuleKernel(init, step)


RULE = RuleSpec(
    name="triple_threat_mean_reversion_channel",
    description="Mean-reversion channel whose channel, trend and envelope each follow a "
                "gradient of their own memory.",
    pool="tfmm",
    schema=SCHEMA,
    initial=initial,
    kernel=kernel,
    outputs="delta",
    alternative_keys=K_ALTERNATIVES | {"logit_pre_exp_scaling"},
    memory_keys=("logit_lamb", "logit_lamb_for_ewma"),
    k_key="log_k",
    scalar_keys=frozenset({"log_k", "logit_lamb", "logit_lamb_for_ewma"}),
)
