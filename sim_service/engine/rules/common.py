"""What the rule modules share: settings, the (init, step) kernel type, parameter transforms,
the zero-sum projection and the gradient-estimator kernel of the momentum family.

Functions take ``params`` (dict of per-asset arrays [n], or [1] broadcast); rule outputs are
per chunk, ``[n]`` per step.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

import numpy as np

from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT as DEFAULTS
from quantamm.core.rules import InitialGetter, OptunaRange, ParamSpec, lamb_initial
from quantamm.core.units import inverse_squareplus
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

    chunk_period: int = DEFAULTS["chunk_period"]
    max_memory_days: float = DEFAULTS["max_memory_days"]
    use_alt_lamb: bool = DEFAULTS["use_alt_lamb"]
    use_pre_exp_scaling: bool = DEFAULTS["use_pre_exp_scaling"]


class RuleKernel(NamedTuple):
    """A rule as a recurrence over chunk prices, parameter transforms already applied.

    ``init(first_price [n]) -> state``; ``step(state, price [n]) -> (state, raw output [n])``.
    The vectorised form of every rule is ``lax.scan`` of its step, so the two agree exactly.
    """

    init: Callable[[Array], Any]
    step: Callable[[Any, Array], tuple[Any, Array]]


OutputFn = Callable[[Array, Params, RuleSettings, Array], Array]

# --------------------------------------------------------------------------- schema entries

LOGIT_LAMB = ParamSpec(
    initial=4.0,
    optuna=OptunaRange(-4.0, 8.0),
    transform="logit_lamb",
    description="Logit of decay parameter lambda (memory length)",
)
LOGIT_DELTA_LAMB = ParamSpec(
    initial=0.0,
    optuna=OptunaRange(-5.0, 5.0),
    description="Delta in logit space for alternative lambda calculation",
)
MEMORY_DAYS_1 = ParamSpec(
    initial=10.0,
    optuna=OptunaRange(0.5, 200.0, log_scale=True),
    description="Memory of the return-variance estimator in days",
)
MEMORY_DAYS_2 = ParamSpec(
    initial=10.0,
    optuna=OptunaRange(0.5, 200.0, log_scale=True),
    description="Memory of the weight smoothing in days",
)
SP_K = ParamSpec(
    initial=19.5,
    optuna=OptunaRange(-1.0, 100.0),
    transform="squareplus",
    description="Squareplus-space sensitivity factor (k) per day",
)
SP_EXPONENTS = ParamSpec(
    initial=0.0,
    optuna=OptunaRange(-2.0, 4.0),
    transform="squareplus",
    description="Squareplus-space exponent of the power law (floored at 1)",
)
SP_PRE_EXP_SCALING = ParamSpec(
    initial=-1.0,
    optuna=OptunaRange(-3.0, 2.0),
    transform="squareplus",
    description="Squareplus-space scaling of the signal before the power law",
)
# Engine keys ``force_scalar`` may share across assets (memory and aggressiveness).
SCALAR_KEYS = frozenset({"log_k", "sp_k", "k", "logit_lamb", "memory_days_1", "memory_days_2"})
# Engine keys of the k alternatives every momentum-family rule reads.
K_ALTERNATIVES = frozenset({"absolute_k", "k"})


def channel_initial(initial: InitialGetter, chunk_period: int) -> dict[str, np.ndarray]:
    """Initial sets of the power channel: sp_k, the lambdas, logits, exponents, scaling."""
    return {
        "sp_k": inverse_squareplus(initial("initial_k_per_day")),
        **lamb_initial(initial, chunk_period),
        "initial_weights_logits": initial("initial_weights_logits"),
        "sp_exponents": initial("initial_raw_exponents"),
        "sp_pre_exp_scaling": inverse_squareplus(initial("initial_pre_exp_scaling")),
    }


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


def exponent_param(params: Params) -> Array:
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


def power_signal(gradient: Array, scaling: Array | float, exponent: Array) -> Array:
    """sign(g) |g / (2 s)|^p."""
    return jnp.sign(gradient) * jnp.power(jnp.abs(gradient / (2 * scaling)), exponent)


# --------------------------------------------------------------------------- kernels


def gradient_kernel(output_fn: OutputFn) -> Callable[[Params, RuleSettings], RuleKernel]:
    """The kernel factory of a momentum-family rule: the EWMA-gradient estimator, then
    ``output_fn(gradient, params, settings, memory_days)`` per chunk."""

    def factory(params: Params, settings: RuleSettings) -> RuleKernel:
        lamb, alt_lamb, memory_days = capped_lambdas(params, settings)

        def step(state: estimators.GradientState, price: Array):
            state, readout = estimators.gradient_step(state, price, lamb, alt_lamb)
            return state, output_fn(readout.gradients, params, settings, memory_days)

        return RuleKernel(estimators.initial_gradient_state, step)

    return factory


def days_to_capped_lamb(memory_days: Array, settings: RuleSettings) -> Array:
    """Days (floored at 0) -> lambda capped to [0, lambda_max(max_memory_days)]."""
    lamb = memory_days_to_lamb(jnp.maximum(memory_days, 0.0), settings.chunk_period)
    lamb_max = memory_days_to_lamb(settings.max_memory_days, settings.chunk_period)
    return jnp.clip(lamb, 0.0, lamb_max)


def numpy_lamb_max(settings: RuleSettings) -> float:
    """lambda_max(max_memory_days) by the NumPy closed form (the min-variance caps)."""
    return float(memory_days_to_lamb_np(settings.max_memory_days, settings.chunk_period))
