"""Parameter sets in the simulator's internal parameterisation, as the training loops hold them.

A parameter set is a dict ``key -> array``; stacked sets carry a leading set axis ``[S, n]``
(``[S, 1]`` for keys shared by all assets). Keys are the rule's engine names (``logit_lamb``,
``log_k``, ``sp_k``, ...): the simulator builds the initial set (``GetInitialParameters``) and
describes each key (``ListRules``); this module only stacks, selects, perturbs and converts.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from quantamm.core.parameters import NOISE_METHODS, perturb  # noqa: F401  (the loops' API)
from quantamm.core.training import INITIAL_VALUE_FIELDS, default
from quantamm.wire.tensors import from_tensor, to_tensor
from quantamm_api.v1 import types_pb2

Params = dict[str, np.ndarray]
# InitialValues field -> the fingerprint's initial_* key
INITIAL_KEY_OF = {field: key for key, field in INITIAL_VALUE_FIELDS.items()}


def per_asset(values: Mapping[str, float | list[float]], field: str, n_assets: int) -> np.ndarray:
    """Initial value ``field`` (an InitialValues field, human units; its default if absent)
    broadcast to [n_assets]."""
    value = values.get(field, default("initial_values", field))
    value = np.atleast_1d(np.asarray(value, dtype=np.float64))
    return np.broadcast_to(value, (n_assets,)).copy()


def stack(one: Params, n_sets: int, shared: frozenset[str] = frozenset()) -> Params:
    """One set ([n] or [rows, n] per key) -> ``n_sets`` copies [S, ...]; keys in ``shared``
    keep one column ([S, 1] or [S, rows, 1])."""
    return {key: np.repeat((value[..., :1] if key in shared else value)[None], n_sets, axis=0)
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


def to_stacked(params: Params) -> types_pb2.StackedParameters:
    """Stacked sets [S, n] (or [S, 1]) per key -> StackedParameters, as they are."""
    return types_pb2.StackedParameters(values={
        key: to_tensor(np.asarray(value, dtype=np.float64)) for key, value in params.items()})


def from_proto(message: types_pb2.ParameterSet, field: str) -> Params:
    """ParameterSet -> one set per key, shaped as sent (validation of keys and sizes is the
    caller's)."""
    return {key: np.asarray(from_tensor(tensor, f"{field}.values[{key!r}]"), dtype=np.float64)
            for key, tensor in message.values.items()}


def initial_values_request(initial: Mapping[str, float | list[float]]) -> dict:
    """Human-unit InitialValues (fields that a request set) -> GetInitialParameters'
    ``initial_values`` (the fingerprint's initial_* keys -> Tensor)."""
    return {INITIAL_KEY_OF[field]: to_tensor(np.atleast_1d(np.asarray(value, dtype=np.float64)))
            for field, value in initial.items()}
