"""Parameter sets in the simulator's internal parameterisation, built on the training side.

A parameter set is a dict ``key -> array``; stacked sets carry a leading set axis ``[S, n]``
(``[S, 1]`` for keys shared by all assets). Keys are the rule's internal names (``logit_lamb``,
``log_k``, ``sp_k``, ...), converted from human units (memory in days, k per day) by the
engine-free shared modules ``sim_service.units`` and ``sim_service.parameters``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from quantamm_api.v1 import types_pb2
from quantamm.wire.tensors import from_tensor, to_tensor
from sim_service.parameters import NOISE_METHODS, base_parameters, perturb  # noqa: F401
from sim_service.units import (  # noqa: F401  (re-exported for the training modules)
    inverse_squareplus,
    memory_days_to_logit_lamb,
)

Params = dict[str, np.ndarray]
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


# InitialValues field -> the engine's initial_* key
ENGINE_INITIAL_KEYS = {
    "memory_length_days": "initial_memory_length",
    "memory_length_delta_days": "initial_memory_length_delta",
    "k_per_day": "initial_k_per_day",
    "weights_logits": "initial_weights_logits",
    "log_amplitude": "initial_log_amplitude",
    "raw_width": "initial_raw_width",
    "raw_exponents": "initial_raw_exponents",
    "pre_exp_scaling": "initial_pre_exp_scaling",
}


def base_set(rule: str, initial: Mapping[str, float | list[float]], chunk_period: int,
             n_assets: int) -> Params:
    """The un-noised initial set (keys of ``rule``, each [n]) from human-unit initial values
    (``INITIAL_DEFAULTS`` keys; missing ones take the defaults)."""
    values = {ENGINE_INITIAL_KEYS[key]: per_asset(initial, key, n_assets)
              for key in INITIAL_DEFAULTS}
    return {key: value[0] for key, value in
            base_parameters(rule, values, chunk_period, n_assets, 1).items()}


def stack(one: Params, n_sets: int, shared: frozenset[str] = frozenset()) -> Params:
    """One set [n] -> ``n_sets`` copies [S, n]; keys in ``shared`` keep one column [S, 1]."""
    return {key: np.tile(value[:1] if key in shared else value, (n_sets, 1))
            for key, value in one.items()}


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
