"""Update rules: estimator outputs per chunk -> raw outputs per chunk.

A *delta* rule (momentum, anti-momentum, power channel, mean-reversion channel, difference
momentum) outputs a weight change per chunk; a *weight* rule (min variance) outputs a target
weight vector. All functions take ``params`` (dict of per-asset arrays [n], or [1] broadcast)
and chunk prices ``Q[K, n]`` and return raw outputs ``u[K - 1, n]`` (row i = chunk i + 1).
Every rule is a recurrence (``RuleKernel``): its vectorised form is the scan of its step form.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, NamedTuple

import jax
import jax.numpy as jnp
from jax import Array, lax

from sim_service.engine import estimators
from sim_service.engine.transforms import (
    lamb_to_memory_days,
    memory_days_to_lamb,
    memory_days_to_lamb_np,
    squareplus,
)

Params = Mapping[str, Array]


class RuleSettings(NamedTuple):
    """Static settings a rule reads from the run fingerprint."""

    chunk_period: int = 1440
    max_memory_days: float = 365.0
    use_alt_lamb: bool = False
    use_pre_exp_scaling: bool = True


# --------------------------------------------------------------------------- parameters


def capped_lambdas(params: Params, settings: RuleSettings) -> tuple[Array, Array | None, Array]:
    """(lambda capped to [0, lambda_max], alt lambda or None, memory days clipped to mmd).

    Memory days for k and amplitudes are the uncapped lambda converted, then clipped.
    """
    lamb_max = memory_days_to_lamb(settings.max_memory_days, settings.chunk_period)
    raw = jax.nn.sigmoid(params["logit_lamb"])
    lamb = jnp.clip(raw, 0.0, lamb_max)
    memory_days = jnp.clip(
        lamb_to_memory_days(raw, settings.chunk_period), 0.0, settings.max_memory_days
    )
    alt_lamb = None
    if settings.use_alt_lamb:
        if "logit_delta_lamb" not in params:
            raise ValueError("use_alt_lamb is set but params has no 'logit_delta_lamb'")
        alt_raw = jax.nn.sigmoid(params["logit_lamb"] + params["logit_delta_lamb"])
        alt_lamb = jnp.clip(alt_raw, 0.0, lamb_max)
    return lamb, alt_lamb, memory_days


def momentum_k(params: Params, memory_days: Array) -> Array:
    """k for momentum-type rules: 2^log_k * days, else absolute_k, else k * days."""
    if "log_k" in params:
        return (2 ** params["log_k"]) * memory_days
    if "absolute_k" in params:
        return params["absolute_k"]
    if "k" in params:
        return params["k"] * memory_days
    raise ValueError("params need one of 'log_k', 'absolute_k' or 'k'")


def channel_k(params: Params, memory_days: Array) -> Array:
    """k for channel rules: sp(sp_k) * days, else the momentum alternatives."""
    if "sp_k" in params:
        return squareplus(params["sp_k"]) * memory_days
    return momentum_k(params, memory_days)


def pre_exp_scaling(params: Params, settings: RuleSettings) -> Array | float:
    """Signal scaling inside the power law: sp / sigmoid / 2^x of the first key present, or 0.5."""
    if settings.use_pre_exp_scaling:
        if "sp_pre_exp_scaling" in params:
            return squareplus(params["sp_pre_exp_scaling"])
        if "logit_pre_exp_scaling" in params:
            return jax.nn.sigmoid(params["logit_pre_exp_scaling"])
        if "raw_pre_exp_scaling" in params:
            return 2 ** params["raw_pre_exp_scaling"]
    return 0.5


def _exponent_param(params: Params) -> Array:
    """sp(sp_exponents), falling back to sp(raw_exponents)."""
    key = "sp_exponents" if "sp_exponents" in params else "raw_exponents"
    return squareplus(params[key])


# --------------------------------------------------------------------------- signals -> outputs


def zero_sum_projection(signal: Array, k: Array, mask_zero_k: bool) -> Array:
    """u = k (x - sum(k x) / sum(k)); sums over the last (asset) axis, so sum(u) = 0."""
    k = jnp.broadcast_to(k, signal.shape)
    offset = jnp.sum(k * signal, axis=-1, keepdims=True) / jnp.sum(k, axis=-1, keepdims=True)
    update = k * (signal - offset)
    if mask_zero_k:
        update = jnp.where(k == 0.0, 0.0, update)
    return update


def _power_signal(gradient: Array, scaling: Array | float, exponent: Array) -> Array:
    """sign(g) |g / (2 s)|^p."""
    return jnp.sign(gradient) * jnp.power(jnp.abs(gradient / (2 * scaling)), exponent)


def momentum_output(gradient: Array, params: Params, settings: RuleSettings, memory_days) -> Array:
    """Momentum: project the gradient with k."""
    return zero_sum_projection(gradient, momentum_k(params, memory_days), mask_zero_k=True)


def anti_momentum_output(gradient, params: Params, settings: RuleSettings, memory_days) -> Array:
    """Anti-momentum: project the gradient with -k."""
    return zero_sum_projection(gradient, -momentum_k(params, memory_days), mask_zero_k=True)


def power_channel_output(gradient, params: Params, settings: RuleSettings, memory_days) -> Array:
    """Power channel: sign(g)|g/(2 s)|^p with p = max(sp(exponent), 1), projected with k."""
    exponent = jnp.maximum(_exponent_param(params), 1.0)
    signal = _power_signal(gradient, pre_exp_scaling(params, settings), exponent)
    return zero_sum_projection(signal, channel_k(params, memory_days), mask_zero_k=False)


def mean_reversion_channel_output(
    gradient, params: Params, settings: RuleSettings, memory_days
) -> Array:
    """Mean-reversion channel: a cubic channel inside a Gaussian envelope plus a power trend."""
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
    trend = (1 - envelope) * _power_signal(
        gradient, pre_exp_scaling(params, settings), _exponent_param(params)
    )
    return zero_sum_projection(channel + trend, channel_k(params, memory_days), mask_zero_k=False)


OutputFn = Callable[[Array, Params, RuleSettings, Array], Array]

GRADIENT_RULES: dict[str, OutputFn] = {
    "momentum": momentum_output,
    "anti_momentum": anti_momentum_output,
    "power_channel": power_channel_output,
    "mean_reversion_channel": mean_reversion_channel_output,
}


# --------------------------------------------------------------------------- kernels


class RuleKernel(NamedTuple):
    """A rule as a recurrence over chunk prices, parameter transforms already applied.

    ``init(first_price [n]) -> state``; ``step(state, price [n]) -> (state, raw output [n])``.
    The vectorised form of every rule is ``lax.scan`` of its step, so the two agree exactly.
    """

    init: Callable[[Array], Any]
    step: Callable[[Any, Array], tuple[Any, Array]]


def _gradient_kernel(rule: str, params: Params, settings: RuleSettings) -> RuleKernel:
    lamb, alt_lamb, memory_days = capped_lambdas(params, settings)
    output_fn = GRADIENT_RULES[rule]

    def step(state: estimators.GradientState, price: Array):
        state, readout = estimators.gradient_step(state, price, lamb, alt_lamb)
        return state, output_fn(readout.gradients, params, settings, memory_days)

    return RuleKernel(estimators.initial_gradient_state, step)


def _days_to_capped_lamb(memory_days: Array, settings: RuleSettings) -> Array:
    """Days (floored at 0) -> lambda capped to [0, lambda_max(max_memory_days)]."""
    lamb = memory_days_to_lamb(jnp.maximum(memory_days, 0.0), settings.chunk_period)
    lamb_max = memory_days_to_lamb(settings.max_memory_days, settings.chunk_period)
    return jnp.clip(lamb, 0.0, lamb_max)


def _difference_momentum_kernel(params: Params, settings: RuleSettings) -> RuleKernel:
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
    lamb_1 = _days_to_capped_lamb(days_1, settings)
    lamb_2 = _days_to_capped_lamb(days_2, settings)

    def step(state: estimators.EwmaPairState, price: Array):
        ewma_1 = estimators.ewma_step(state.ewma_1, price, lamb_1)
        ewma_2 = estimators.ewma_step(state.ewma_2, price, lamb_2)
        output = zero_sum_projection(1.0 - ewma_2 / ewma_1, k, mask_zero_k=True)
        return estimators.EwmaPairState(ewma_1, ewma_2), output

    return RuleKernel(estimators.initial_ewma_pair_state, step)


def _numpy_lamb_max(settings: RuleSettings) -> float:
    return float(memory_days_to_lamb_np(settings.max_memory_days, settings.chunk_period))


def _min_variance_kernel(params: Params, settings: RuleSettings) -> RuleKernel:
    """Target weights = inverse EWMA return variances, normalised."""
    if "memory_days_1" in params:
        lamb = memory_days_to_lamb(params["memory_days_1"], settings.chunk_period)
    else:
        lamb = jax.nn.sigmoid(params["logit_lamb"])
    lamb = jnp.clip(lamb, 0.0, _numpy_lamb_max(settings))

    def step(state: estimators.VarianceState, price: Array):
        state, variance = estimators.return_variance_step(state, price, lamb)
        precisions = 1.0 / variance
        return state, precisions / jnp.sum(precisions, axis=-1, keepdims=True)

    return RuleKernel(estimators.initial_variance_state, step)


def rule_kernel(rule: str, params: Params, settings: RuleSettings) -> RuleKernel:
    """The (init, step) recurrence of any TFMM rule."""
    if rule in GRADIENT_RULES:
        return _gradient_kernel(rule, params, settings)
    if rule == "difference_momentum":
        return _difference_momentum_kernel(params, settings)
    if rule == "min_variance":
        return _min_variance_kernel(params, settings)
    raise ValueError(f"unknown TFMM rule {rule!r}; valid: {', '.join(TFMM_RULES)}")


def rule_outputs(rule: str, params: Params, settings: RuleSettings, chunk_prices: Array) -> Array:
    """Raw outputs [K - 1, n] of any TFMM rule over chunk prices [K, n] (scan of its step)."""
    kernel = rule_kernel(rule, params, settings)
    _, outputs = lax.scan(kernel.step, kernel.init(chunk_prices[0]), chunk_prices[1:])
    return outputs


def gradient_readouts(
    params: Params, settings: RuleSettings, chunk_prices: Array
) -> estimators.GradientReadout:
    """Estimator internals (gradients, ewma, running_a), each [K - 1, n], of a gradient rule."""
    lamb, alt_lamb, _ = capped_lambdas(params, settings)
    return estimators.gradient_scan(chunk_prices, lamb, alt_lamb)


def min_variance_smoothing_lamb(params: Params, settings: RuleSettings) -> Array:
    """Smoothing decay for weight rules, capped straight-through to [0, lambda_max(mmd)]."""
    if "memory_days_2" in params:
        lamb = memory_days_to_lamb(params["memory_days_2"], settings.chunk_period)
    else:
        lamb = jax.nn.sigmoid(params["logit_lamb"] + params["logit_delta_lamb"])
    return lamb + lax.stop_gradient(jnp.clip(lamb, 0.0, _numpy_lamb_max(settings)) - lamb)


TFMM_RULES = (*GRADIENT_RULES, "difference_momentum", "min_variance")
WEIGHT_RULES = frozenset({"min_variance"})
