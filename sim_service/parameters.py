"""Initial parameter sets and conversions from human units (days, k per day) to engine params.

NumPy only (no JAX), so the training service shares it without importing the engine.

Parameter sets are dicts of NumPy arrays with a leading set axis: ``[n_parameter_sets, n]``.
Set 0 is the canonical initial value; sets 1.. get noise (``gaussian``, ``sobol``, ``lhs``,
``centered_lhs``) in the internal space. Keys follow the reference's order, which fixes the order
in which the Gaussian draws are taken.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from scipy.stats import norm, qmc

from sim_service.units import inverse_squareplus, memory_days_to_logit_lamb

NOISE_METHODS = ("gaussian", "sobol", "lhs", "centered_lhs")
UNPERTURBED_KEYS = frozenset({"initial_weights_logits", "subsidary_params"})
_INITIAL_VALUE_DEFAULTS: dict[str, Any] = {
    "initial_memory_length": 10.0,
    "initial_memory_length_delta": 0.0,
    "initial_k_per_day": 20.0,
    "initial_weights_logits": 1.0,
    "initial_log_amplitude": 0.0,
    "initial_raw_width": 0.0,
    "initial_raw_exponents": 0.0,
    "initial_pre_exp_scaling": 0.5,
}


def broadcast_initial(value: Any, name: str, n_assets: int, n_sets: int) -> np.ndarray:
    """Scalar -> [S, n]; vector [n] -> repeated; [S, n] as is; else ValueError."""
    array = np.asarray(value, dtype=np.float64)
    if array.size == 1:
        return np.full((n_sets, n_assets), float(array.reshape(-1)[0]))
    if array.shape == (n_assets,):
        return np.tile(array, (n_sets, 1))
    if array.shape == (n_sets, n_assets):
        return array.copy()
    raise ValueError(
        f"{name} must be a scalar, a length-{n_assets} vector or a "
        f"[{n_sets}, {n_assets}] matrix, got shape {array.shape}"
    )


def _initial(values: Mapping[str, Any], key: str) -> Any:
    value = values.get(key)
    return _INITIAL_VALUE_DEFAULTS[key] if value is None else value


def _lamb_params(values: Mapping[str, Any], chunk_period: int, n: int, s: int) -> dict:
    memory = broadcast_initial(_initial(values, "initial_memory_length"), "memory", n, s)
    delta = broadcast_initial(_initial(values, "initial_memory_length_delta"), "delta", n, s)
    logit_lamb = memory_days_to_logit_lamb(memory, chunk_period)
    logit_lamb_delta = memory_days_to_logit_lamb(memory + delta, chunk_period) - logit_lamb
    return {"logit_lamb": logit_lamb, "logit_delta_lamb": logit_lamb_delta}


def base_parameters(
    rule: str, values: Mapping[str, Any], chunk_period: int, n_assets: int, n_sets: int
) -> dict[str, np.ndarray]:
    """Un-noised initial parameters [S, n] per key for ``rule`` from ``initial_*`` values."""

    def per_asset(key: str) -> np.ndarray:
        return broadcast_initial(_initial(values, key), key, n_assets, n_sets)

    logits = {"initial_weights_logits": per_asset("initial_weights_logits")}
    k_per_day = per_asset("initial_k_per_day")
    if rule in ("momentum", "anti_momentum"):
        lamb = _lamb_params(values, chunk_period, n_assets, n_sets)
        return {"log_k": np.log2(k_per_day), **lamb, **logits}
    if rule in ("power_channel", "mean_reversion_channel"):
        params = {
            "sp_k": inverse_squareplus(k_per_day),
            **_lamb_params(values, chunk_period, n_assets, n_sets),
            **logits,
            "sp_exponents": per_asset("initial_raw_exponents"),
            "sp_pre_exp_scaling": inverse_squareplus(per_asset("initial_pre_exp_scaling")),
        }
        if rule == "mean_reversion_channel":
            params["sp_amplitude"] = inverse_squareplus(2.0 ** per_asset("initial_log_amplitude"))
            params["sp_width"] = inverse_squareplus(2.0 ** per_asset("initial_raw_width"))
        return params
    if rule in ("difference_momentum", "min_variance"):
        memory = per_asset("initial_memory_length")
        days = {
            "memory_days_1": memory,
            "memory_days_2": memory + per_asset("initial_memory_length_delta"),
        }
        k = {"k": k_per_day} if rule == "difference_momentum" else {}
        return {**k, **days, **logits}
    if rule in ("balancer", "hodl", "cow"):
        return logits
    if rule == "gyroscope":  # the geometry has no initial values: the caller gives it
        return {}
    raise ValueError(f"unknown rule {rule!r}")


def perturb(
    params: dict[str, np.ndarray], keys: list[str], method: str, scale: float = 1.0, seed: int = 0
) -> dict[str, np.ndarray]:
    """Sets 1.. of ``keys`` plus ``scale`` times noise; set 0 stays the canonical start (a new dict).

    ``gaussian``: N(0, 1) per entry, drawn key by key in the given order from
    ``RandomState(seed)`` (the reference's legacy global generator seeded with ``seed``).
    ``sobol``/``lhs``/``centered_lhs``: one low-discrepancy design over all perturbed entries
    (Sobol scrambled, its first point skipped), clipped to [1e-6, 1 - 1e-6], mapped through the
    normal quantile.
    """
    if method not in NOISE_METHODS:
        raise ValueError(f"noise must be one of {', '.join(NOISE_METHODS)}, got {method!r}")
    noisy = {key: np.array(value, dtype=np.float64) for key, value in params.items()}
    n_sets = next(iter(noisy.values())).shape[0] if noisy else 0
    if n_sets <= 1 or not keys:
        return noisy
    if method == "gaussian":
        rng = np.random.RandomState(seed)
        for key in keys:
            noisy[key][1:] += scale * rng.standard_normal(noisy[key][1:].shape)
        return noisy
    sizes = [noisy[key][0].size for key in keys]  # entries per set
    if method == "sobol":
        sampler = qmc.Sobol(d=sum(sizes), scramble=True, seed=seed)
        sampler.fast_forward(1)
    else:
        sampler = qmc.LatinHypercube(d=sum(sizes), scramble=method == "lhs", seed=seed)
    points = norm.ppf(np.clip(sampler.random(n_sets - 1), 1e-6, 1 - 1e-6)) * scale
    bounds = np.cumsum([0, *sizes])
    for key, low, high in zip(keys, bounds[:-1], bounds[1:], strict=True):
        noisy[key][1:] += points[:, low:high].reshape(noisy[key][1:].shape)
    return noisy


def add_noise(
    params: dict[str, np.ndarray], method: str, scale: float = 1.0, seed: int = 0
) -> dict[str, np.ndarray]:
    """``perturb`` every key except the initial-weight logits, in dict order."""
    return perturb(params, [k for k in params if k not in UNPERTURBED_KEYS], method, scale, seed)


def init_base_parameters(
    rule: str,
    initial_values_dict: Mapping[str, Any],
    run_fingerprint: Mapping[str, Any],
    n_assets: int,
    n_parameter_sets: int = 1,
    noise: str = "gaussian",
    noise_scale: float = 1.0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Initial parameter sets [S, n] per key (``noise_scale`` 1.0 reproduces the reference)."""
    params = base_parameters(
        rule, initial_values_dict, run_fingerprint["chunk_period"], n_assets, n_parameter_sets
    )
    return add_noise(params, noise, noise_scale, seed)


def _per_token(value: Any, name: str, n_assets: int) -> np.ndarray:
    """A scalar, [1] or [..., n_assets] value -> float64 [..., n_assets]."""
    array = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if array.shape == (1,):
        return np.repeat(array, n_assets)
    if array.shape[-1] != n_assets:
        raise ValueError(f"{name}: expected 1 or {n_assets} values, got {array.shape[-1]}")
    return array


def human_to_params(
    rule: str, human: Mapping[str, Any], n_assets: int, chunk_period: int
) -> dict[str, np.ndarray]:
    """Named per-token values in human units -> engine params [..., n] per key (a leading set
    axis, if any, is kept).

    ``memory_days`` -> ``logit_lamb`` (min variance: both memory_days_1/2); ``k_per_day`` ->
    ``log_k`` (momentum family) or ``sp_k`` (channel rules), which give the same k as the
    reference's ``k`` key; ``exponent``/``width``/``pre_exp_scaling`` -> squareplus space;
    ``amplitude`` A -> ``sp_amplitude = sp^-1(A / memory_days)``; ``weights`` ->
    ``initial_weights_logits = log(w)``; other names pass through unchanged.
    """
    values = {name: _per_token(value, name, n_assets) for name, value in human.items()}
    shape = np.broadcast_shapes(*(v.shape for v in values.values())) if values else (n_assets,)
    params: dict[str, np.ndarray] = {}
    channel = rule in ("power_channel", "mean_reversion_channel")
    for name, value in values.items():
        if name == "memory_days":
            if rule == "min_variance":
                params["memory_days_1"] = value
                params["memory_days_2"] = value
            else:
                params["logit_lamb"] = memory_days_to_logit_lamb(value, chunk_period)
        elif name == "k_per_day":
            if rule == "difference_momentum":
                params["k"] = value
            elif channel:
                params["sp_k"] = inverse_squareplus(value)
            else:
                params["log_k"] = np.log2(value)
        elif name in ("exponent", "width", "pre_exp_scaling"):
            params[f"sp_{name}s" if name == "exponent" else f"sp_{name}"] = inverse_squareplus(value)
        elif name == "amplitude":
            if "memory_days" not in values:
                raise ValueError("amplitude needs memory_days (it is given per memory day)")
            params["sp_amplitude"] = inverse_squareplus(value / values["memory_days"])
        elif name in ("weights", "initial_weights"):
            if np.any(value <= 0):
                raise ValueError(f"{name}: weights must be positive")
            params["initial_weights_logits"] = np.log(value / value.sum(axis=-1, keepdims=True))
        else:
            params[name] = value
    if rule != "gyroscope":  # a Gyroscope with weights fits its geometry to them
        params.setdefault("initial_weights_logits", np.zeros(shape))
    if "logit_lamb" in params:
        params.setdefault("logit_delta_lamb", np.zeros(shape))
    return params


def select_set(params: Mapping[str, Any], index: int) -> dict[str, np.ndarray]:
    """One parameter set (leading axis removed) from stacked sets."""
    return {key: np.asarray(value)[index] for key, value in params.items()}


def stack_sets(sets: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Stack parameter sets with identical keys along a new leading axis."""
    keys = list(sets[0])
    for other in sets[1:]:
        if list(other) != keys and set(other) != set(keys):
            raise ValueError("all parameter sets must have the same keys")
    return {key: np.stack([np.asarray(s[key], dtype=np.float64) for s in sets]) for key in keys}
