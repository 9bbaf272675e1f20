"""Mean-reversion channel: a cubic channel inside a Gaussian envelope plus a power trend."""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import numpy as np
from jax import Array

from quantamm.core.rules import InitialGetter, OptunaRange, ParamSpec
from quantamm.core.units import inverse_squareplus
from sim_service.engine.rules import power_channel
from sim_service.engine.rules.common import (
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
from sim_service.engine.transforms import squareplus

SCHEMA = {
    **power_channel.SCHEMA,
    "sp_amplitude": ParamSpec(
        initial=0.0,
        optuna=OptunaRange(-3.0, 4.0),
        transform="squareplus",
        description="Squareplus-space channel amplitude per memory day",
    ),
    "sp_width": ParamSpec(
        initial=0.0,
        optuna=OptunaRange(-3.0, 3.0),
        transform="squareplus",
        description="Squareplus-space channel width",
    ),
}


def initial(values: InitialGetter, chunk_period: int) -> dict[str, np.ndarray]:
    """The power channel's initial sets plus amplitude and width (2^log2 values)."""
    return {**channel_initial(values, chunk_period),
            "sp_amplitude": inverse_squareplus(2.0 ** values("initial_log_amplitude")),
            "sp_width": inverse_squareplus(2.0 ** values("initial_raw_width"))}


def output(gradient: Array, params: Params, settings: RuleSettings, memory_days: Array) -> Array:
    """Channel term -A e(g) (s - s^3/6) / 0.5415 with s = pi g / (3 w), plus (1 - e(g)) times
    the power trend, projected with k; e(g) = exp(-g^2 / (2 w^2))."""
    if "sp_width" in params:
        width = squareplus(params["sp_width"])
    else:
        width = 2 ** params["raw_width"]
    if "sp_amplitude" in params:
        amplitude = squareplus(params["sp_amplitude"]) * memory_days
    else:
        amplitude = (2 ** params["log_amplitude"]) * memory_days
    envelope = jnp.exp(-(gradient**2) / (2 * width**2))
    scaled = math.pi * gradient / (3 * width)
    channel = -amplitude * envelope * (scaled - scaled**3 / 6) / 0.5415
    trend = (1 - envelope) * power_signal(
        gradient, pre_exp_scaling(params, settings), exponent_param(params)
    )
    return zero_sum_projection(channel + trend, channel_k(params, memory_days), mask_zero_k=False)


RULE = dataclasses.replace(
    power_channel.RULE,
    name="mean_reversion_channel",
    description="Mean reversion inside a channel, power-law trend outside it.",
    schema=SCHEMA,
    initial=initial,
    kernel=gradient_kernel(output),
    alternative_keys=power_channel.ALTERNATIVE_KEYS | {"raw_width", "log_amplitude"},
)
