"""Parameter sets in the simulator's internal parameterisation, built on the training side.

A parameter set is a dict ``key -> array``; stacked sets carry a leading set axis ``[S, n]``
(``[S, 1]`` for keys shared by all assets). Keys are the rule's internal names (``logit_lamb``,
``log_k``, ``sp_k``, ...), converted from human units (memory in days, k per day) with the
closed forms of the simulation specification (sections 2.1-2.9), re-implemented here so that
train_service never imports the engine.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from scipy.stats import norm, qmc

from client._generated.quantamm.v1 import types_pb2
from client.tensors import from_tensor, to_tensor

Params = dict[str, np.ndarray]
MINUTES_PER_DAY = 1440
NOISE_METHODS = ("gaussian", "sobol", "lhs", "centered_lhs")
# Keys that `force_scalar` shares across assets (memory and aggressiveness).
SCALAR_KEYS = frozenset({"log_k", "sp_k", "k", "logit_lamb", "memory_days_1", "memory_days_2"})
# Defaults of the fingerprint's initial_* values (human units).
INITIAL_DEFAULTS: dict[str, float] = {
    "memory_length_days": 10.0,
    "memory_length_delta_days": 0.0,
    "k_per_day": 20.0,
    "weights_logits": 1.0,
    "log_amplitude": 0.0,
    "raw_width": 0.0,
    "raw_exponents": 0.0,
    "pre_exp_scaling": 0.5,
}


def memory_days_to_lamb(days: np.ndarray, chunk_period: float) -> np.ndarray:
    """Memory in days -> EWMA decay per chunk (closed-form root of lambda/(1-lambda)^3 = S).

    Shape preserved. 0 days -> 0; divisions by zero give 0, NaN -> 0, +inf -> 1.
    """
    days = np.asarray(days, dtype=np.float64)
    s = (MINUTES_PER_DAY * days / (2.0 * chunk_period)) ** 3 / 6.0
    with np.errstate(all="ignore"):
        root = np.cbrt(np.sqrt(3 * (27 * s**4 + 4 * s**3)) - 9 * s**2)
        scale = np.cbrt(2.0) * 3 ** (2.0 / 3.0) * s
        first = np.divide(root, scale, out=np.zeros_like(root), where=scale != 0)
        second = np.divide(np.cbrt(2.0 / 3.0), root, out=np.zeros_like(root), where=root != 0)
        lamb = np.nan_to_num(first - second + 1.0, nan=0.0, posinf=1.0, neginf=0.0)
    return np.where(days == 0.0, 0.0, lamb)


def logit(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def memory_days_to_logit_lamb(days: np.ndarray, chunk_period: float) -> np.ndarray:
    """Memory in days -> ``logit_lamb`` at the run's chunk period (minutes)."""
    return logit(memory_days_to_lamb(days, chunk_period))


def inverse_squareplus(y: np.ndarray) -> np.ndarray:
    """x with squareplus(x) = (x + sqrt(x^2 + 4)) / 2 = y, for y > 0."""
    y = np.asarray(y, dtype=np.float64)
    return y - 1.0 / y


def k_key(rule: str) -> str | None:
    """The internal key that carries aggressiveness k for ``rule``."""
    return {"momentum": "log_k", "anti_momentum": "log_k", "power_channel": "sp_k",
            "mean_reversion_channel": "sp_k", "difference_momentum": "k"}.get(rule)


def memory_key(rule: str) -> str | None:
    """The internal key that carries the memory length for ``rule``."""
    if rule in ("difference_momentum", "min_variance"):
        return "memory_days_1"
    return "logit_lamb" if k_key(rule) else None


def k_per_day_to_internal(rule: str, k_per_day: np.ndarray) -> np.ndarray:
    """k per day -> the value of ``k_key(rule)``."""
    k_per_day = np.asarray(k_per_day, dtype=np.float64)
    if k_key(rule) == "log_k":
        return np.log2(k_per_day)
    if k_key(rule) == "sp_k":
        return inverse_squareplus(k_per_day)
    return k_per_day


def memory_days_to_internal(rule: str, days: np.ndarray, chunk_period: float) -> np.ndarray:
    """Memory in days -> the value of ``memory_key(rule)``."""
    if memory_key(rule) == "logit_lamb":
        return memory_days_to_logit_lamb(days, chunk_period)
    return np.asarray(days, dtype=np.float64)


def per_asset(values: Mapping[str, float | list[float]], key: str, n_assets: int) -> np.ndarray:
    """Initial value ``key`` (human units, default if absent) broadcast to [n_assets]."""
    value = np.atleast_1d(np.asarray(values.get(key, INITIAL_DEFAULTS[key]), dtype=np.float64))
    return np.broadcast_to(value, (n_assets,)).copy()


def base_set(rule: str, initial: Mapping[str, float | list[float]], chunk_period: int,
             n_assets: int) -> Params:
    """The un-noised initial set (keys of ``rule``, each [n]) from human-unit initial values
    (``INITIAL_DEFAULTS`` keys; missing ones take the defaults)."""
    def value(key: str) -> np.ndarray:
        return per_asset(initial, key, n_assets)

    memory, delta = value("memory_length_days"), value("memory_length_delta_days")
    logits = {"initial_weights_logits": value("weights_logits")}
    if rule in ("difference_momentum", "min_variance"):
        k = {"k": value("k_per_day")} if rule == "difference_momentum" else {}
        return {**k, "memory_days_1": memory, "memory_days_2": memory + delta, **logits}
    if not k_key(rule):
        return logits
    logit_lamb = memory_days_to_logit_lamb(memory, chunk_period)
    params = {
        k_key(rule): k_per_day_to_internal(rule, value("k_per_day")),
        "logit_lamb": logit_lamb,
        "logit_delta_lamb": memory_days_to_logit_lamb(memory + delta, chunk_period) - logit_lamb,
        **logits,
    }
    if rule in ("power_channel", "mean_reversion_channel"):
        params["sp_exponents"] = value("raw_exponents")
        params["sp_pre_exp_scaling"] = inverse_squareplus(value("pre_exp_scaling"))
    if rule == "mean_reversion_channel":
        params["sp_amplitude"] = inverse_squareplus(2.0 ** value("log_amplitude"))
        params["sp_width"] = inverse_squareplus(2.0 ** value("raw_width"))
    return params


def stack(one: Params, n_sets: int, shared: frozenset[str] = frozenset()) -> Params:
    """One set [n] -> ``n_sets`` copies [S, n]; keys in ``shared`` keep one column [S, 1]."""
    return {key: np.tile(value[:1] if key in shared else value, (n_sets, 1))
            for key, value in one.items()}


def perturb(params: Params, keys: list[str], method: str, scale: float, seed: int) -> Params:
    """Sets 1.. of ``keys`` plus ``scale`` times noise (set 0 stays the canonical start).

    ``gaussian``: N(0, 1) per entry, key by key from ``RandomState(seed)``; ``sobol`` / ``lhs`` /
    ``centered_lhs``: one low-discrepancy design over all perturbed entries, clipped to
    [1e-6, 1 - 1e-6] and mapped through the normal quantile.
    """
    noisy = {key: np.array(value, dtype=np.float64) for key, value in params.items()}
    n_sets = next(iter(noisy.values())).shape[0]
    if n_sets <= 1 or not keys:
        return noisy
    if method == "gaussian":
        rng = np.random.RandomState(seed)
        for key in keys:
            noisy[key][1:] += scale * rng.standard_normal(noisy[key][1:].shape)
        return noisy
    sizes = [noisy[key][0].size for key in keys]
    if method == "sobol":
        sampler = qmc.Sobol(d=sum(sizes), scramble=True, seed=seed)
        sampler.fast_forward(1)
    else:
        sampler = qmc.LatinHypercube(d=sum(sizes), scramble=method == "lhs", seed=seed)
    points = norm.ppf(np.clip(sampler.random(n_sets - 1), 1e-6, 1 - 1e-6)) * scale
    bounds = np.cumsum([0, *sizes])
    for key, lo, hi in zip(keys, bounds[:-1], bounds[1:], strict=True):
        noisy[key][1:] += points[:, lo:hi].reshape(noisy[key][1:].shape)
    return noisy


def select(params: Params, index: int) -> Params:
    """Set ``index`` of stacked sets: [S, n] -> [n]."""
    return {key: np.asarray(value[index]) for key, value in params.items()}


def non_finite_sets(params: Params, keys: list[str]) -> np.ndarray:
    """[S] bool: sets with a NaN or infinite entry in any of ``keys``."""
    return np.any([~np.isfinite(params[k]).reshape(len(params[k]), -1).all(axis=1) for k in keys],
                  axis=0)


def to_proto(one: Params) -> types_pb2.ParameterSet:
    """One set [n] per key -> ParameterSet."""
    return types_pb2.ParameterSet(values={k: to_tensor(np.asarray(v, dtype=np.float64))
                                          for k, v in one.items()})


def to_protos(params: Params) -> list[types_pb2.ParameterSet]:
    """Stacked sets [S, n] -> one ParameterSet per set."""
    n_sets = next(iter(params.values())).shape[0]
    return [to_proto(select(params, s)) for s in range(n_sets)]


def from_proto(message: types_pb2.ParameterSet, field: str) -> Params:
    """ParameterSet -> one set [n] per key (validation of keys and sizes is the caller's)."""
    return {key: np.asarray(from_tensor(tensor, f"{field}.values[{key!r}]"), dtype=np.float64)
            .reshape(-1) for key, tensor in message.values.items()}
