"""What a rule is, as data: its parameters, units, keys and defaults (NumPy only, no JAX).

A rule's whole description is one ``RuleSpec``, declared once in the rule's own engine module
(``sim_service/engine/rules/<name>.py``) next to its kernel. Everything else reads the spec:
the engine's registry and pool classes, the simulator's request checks and ``ListRules``, and
(through ``ListRules``) the training service. This module holds the types and the rule-generic
NumPy code that works on any spec (initial parameters, human units -> engine parameters).

Parameter arrays are ``[S, n]`` (S parameter sets, n assets) unless said otherwise.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from quantamm.core import units
from quantamm.core.training import INITIAL_VALUE_FIELDS

# How a pool turns weights into reserves (the simulator dispatches on it).
POOL_KINDS = ("tfmm", "balancer", "hodl", "cow", "gyroscope")
# What a TFMM rule outputs per chunk: a weight change ("delta") or target weights ("weights").
OUTPUT_KINDS = ("delta", "weights")
# Human-unit parameter names every rule accepts besides its engine keys.
HUMAN_KEYS = frozenset({"memory_days", "k_per_day", "weights", "initial_weights", "exponent",
                        "width", "amplitude", "pre_exp_scaling"})
# k per day beyond this makes the engine's outputs meaningless.
MAX_K_PER_DAY = 1e6


@dataclasses.dataclass(frozen=True)
class OptunaRange:
    """A search interval; ``log_scale`` samples log-uniformly, ``scalar`` shares one value."""

    low: float
    high: float
    log_scale: bool = False
    scalar: bool = False


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One engine parameter: default (scalar or per asset), search range in the engine's space,
    transform name (how the engine maps it: ``logit_lamb``, ``log2``, ``squareplus``, or None),
    description, whether training varies it, and its rows (a parameter of ``rows`` > 1 is
    ``[rows, n]`` per set, e.g. one memory per estimator)."""

    initial: float | Sequence[float]
    optuna: OptunaRange | None = None
    transform: str | None = None
    description: str = ""
    trainable: bool = True
    rows: int = 1


COMMON_PARAM_SCHEMA: dict[str, ParamSpec] = {
    "initial_weights_logits": ParamSpec(
        initial=1.0,
        optuna=OptunaRange(-10, 10),
        description="Logit-space initial portfolio weights",
        trainable=False,
    ),
}

# InitialValues (the fingerprint's ``initial_*`` keys) -> [S, n] per key, defaults applied.
InitialGetter = Callable[[str], np.ndarray]
# (initial values, chunk_period_minutes) -> un-noised engine params [S, n] per key.
InitialBuilder = Callable[[InitialGetter, int], dict[str, np.ndarray]]


@dataclasses.dataclass(frozen=True)
class RuleSpec:
    """Everything known about one rule.

    Attributes:
      name: the fingerprint's ``rule`` value.
      description: one line for ``ListRules`` and ``quantamm rules``.
      pool: how weights become reserves (``POOL_KINDS``).
      schema: the rule's engine parameters in the reference's order (common entries excluded).
      initial: builds the un-noised initial sets from the fingerprint's ``initial_*`` values.
      kernel: the engine's ``(params, RuleSettings) -> RuleKernel`` factory (TFMM rules only).
      outputs: ``delta`` or ``weights`` for TFMM rules, None otherwise.
      alternative_keys: other engine keys the rule reads (``k``, ``raw_width``, ...).
      required_keys: keys without a default that every parameter set must give.
      memory_keys: engine keys that ``memory_days`` sets (the first carries the memory).
      k_key: the engine key that ``k_per_day`` sets, or None.
      scalar_keys: keys ``force_scalar`` shares across assets.
      signed_k: ``k_per_day`` may be negative.
      has_readouts: the estimator internals can be read out (``GetReadouts``).
      n_assets: the number of assets the pool requires, or None for any.
      common_params: whether the common entries (initial weight logits) belong to the schema.
    """

    name: str
    description: str
    pool: str
    schema: Mapping[str, ParamSpec]
    initial: InitialBuilder
    kernel: Callable[..., Any] | None = None
    outputs: str | None = None
    alternative_keys: frozenset[str] = frozenset()
    required_keys: tuple[str, ...] = ()
    memory_keys: tuple[str, ...] = ()
    k_key: str | None = None
    scalar_keys: frozenset[str] = frozenset()
    signed_k: bool = False
    has_readouts: bool = False
    n_assets: int | None = None
    common_params: bool = True

    def __post_init__(self) -> None:
        if self.pool not in POOL_KINDS:
            raise ValueError(f"{self.name}: pool must be one of {POOL_KINDS}, got {self.pool!r}")
        if (self.pool == "tfmm") != (self.kernel is not None and self.outputs in OUTPUT_KINDS):
            raise ValueError(f"{self.name}: a tfmm rule needs a kernel and its outputs kind")

    @property
    def memory_key(self) -> str | None:
        """The engine key that carries the memory length, or None."""
        return self.memory_keys[0] if self.memory_keys else None

    @property
    def param_schema(self) -> dict[str, ParamSpec]:
        """The rule's schema followed by the common entries (when they apply)."""
        return {**self.schema, **(COMMON_PARAM_SCHEMA if self.common_params else {})}

    def value_shape(self, key: str, n_assets: int) -> tuple[int, ...]:
        """The shape of parameter ``key`` in one set: ``[n]``, or ``[rows, n]``."""
        spec = self.schema.get(key)
        return (spec.rows, n_assets) if spec is not None and spec.rows > 1 else (n_assets,)

    @property
    def accepted_keys(self) -> frozenset[str]:
        """Every parameter name a parameter set may give for this rule."""
        return frozenset(self.param_schema) | self.alternative_keys | HUMAN_KEYS


# --------------------------------------------------------------------------- initial values

# The fingerprint's initial_* keys a builder may read (defaults in DEFAULT_RUN_FINGERPRINT).
INITIAL_KEYS = tuple(INITIAL_VALUE_FIELDS)


def lamb_initial(initial: InitialGetter, chunk_period: int) -> dict[str, np.ndarray]:
    """``logit_lamb`` and ``logit_delta_lamb`` from the initial memory and its delta (days)."""
    memory = initial("initial_memory_length")
    logit_lamb = units.memory_days_to_logit_lamb(memory, chunk_period)
    delta = initial("initial_memory_length_delta")
    return {"logit_lamb": logit_lamb,
            "logit_delta_lamb": units.memory_days_to_logit_lamb(memory + delta, chunk_period)
            - logit_lamb}


def weights_initial(initial: InitialGetter, chunk_period: int) -> dict[str, np.ndarray]:
    """The initial-weight logits alone (fixed-weight pools)."""
    return {"initial_weights_logits": initial("initial_weights_logits")}


def no_initial(initial: InitialGetter, chunk_period: int) -> dict[str, np.ndarray]:
    """No initial values (the caller gives every parameter)."""
    return {}


# --------------------------------------------------------------------------- human units


def _per_token(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A scalar, [1] or [..., *shape] value (shape: [n] or [rows, n]) -> float64 [..., *shape]."""
    array = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if array.shape == (1,):
        return np.broadcast_to(array, shape).copy()
    if array.shape[-1] != shape[-1]:
        raise ValueError(f"{name}: expected 1 or {shape[-1]} values, got {array.shape[-1]}")
    if len(shape) > 1 and array.shape[-len(shape):] != shape:
        raise ValueError(f"{name}: expected shape {list(shape)}, got {list(array.shape)}")
    return array


def k_per_day_to_engine(spec: RuleSpec, k_per_day: np.ndarray) -> np.ndarray:
    """k per day -> the value of ``spec.k_key`` (by its transform)."""
    transform = spec.schema[spec.k_key].transform if spec.k_key in spec.schema else None
    return units.from_human(transform, np.asarray(k_per_day, dtype=np.float64))


def memory_days_to_engine(spec: RuleSpec, days: np.ndarray, chunk_period: int,
                          key: str | None = None) -> np.ndarray:
    """Memory in days -> the value of memory key ``key`` (default ``spec.memory_key``), by its
    transform."""
    transform = spec.schema[key or spec.memory_key].transform
    return units.from_human(transform, np.asarray(days, dtype=np.float64), chunk_period)


def human_to_params(spec: RuleSpec, human: Mapping[str, Any], n_assets: int,
                    chunk_period: int) -> dict[str, np.ndarray]:
    """Named per-token values in human units -> engine params [..., n] per key (a leading set
    axis, if any, is kept).

    ``memory_days`` -> every key of ``spec.memory_keys`` (``logit_lamb``, or the days keys of
    the min-variance family); ``k_per_day`` -> ``spec.k_key`` through its transform (the same k
    as the reference's ``k`` key); ``exponent``/``width``/``pre_exp_scaling`` -> squareplus
    space; ``amplitude`` A -> ``sp_amplitude = sp^-1(A / memory_days)``; ``weights`` ->
    ``initial_weights_logits = log(w)``; other names pass through unchanged.
    """
    shapes = {name: spec.value_shape(name, n_assets) for name in human}
    values = {name: _per_token(value, name, shapes[name]) for name, value in human.items()}
    # The set axes (if any) in front of each value's own shape, broadcast, then [n].
    lead = np.broadcast_shapes(*(v.shape[:v.ndim - len(shapes[k])] for k, v in values.items()))
    shape = (*lead, n_assets)
    params: dict[str, np.ndarray] = {}
    for name, value in values.items():
        if name == "memory_days":
            if not spec.memory_keys:
                raise ValueError(f"memory_days: {spec.name} has no memory parameter")
            for key in spec.memory_keys:
                engine = memory_days_to_engine(spec, value, chunk_period, key)
                rows = spec.value_shape(key, n_assets)[:-1]  # one memory for every row
                params[key] = np.broadcast_to(engine[..., None, :], (*engine.shape[:-1], *rows,
                                                                      n_assets)) \
                    if rows else engine
        elif name == "k_per_day":
            if spec.k_key is None:
                raise ValueError(f"k_per_day: {spec.name} has no k parameter")
            params[spec.k_key] = k_per_day_to_engine(spec, value)
        elif name in ("exponent", "width", "pre_exp_scaling"):
            key = "sp_exponents" if name == "exponent" else f"sp_{name}"
            params[key] = units.inverse_squareplus(value)
        elif name == "amplitude":
            if "memory_days" not in values:
                raise ValueError("amplitude needs memory_days (it is given per memory day)")
            params["sp_amplitude"] = units.inverse_squareplus(value / values["memory_days"])
        elif name in ("weights", "initial_weights"):
            if np.any(value <= 0):
                raise ValueError(f"{name}: weights must be positive")
            params["initial_weights_logits"] = np.log(value / value.sum(axis=-1, keepdims=True))
        else:
            params[name] = value
    if spec.common_params:  # a Gyroscope with weights fits its geometry to them
        params.setdefault("initial_weights_logits", np.zeros(shape))
    if "logit_lamb" in params and "logit_delta_lamb" in {*spec.schema, *spec.alternative_keys}:
        params.setdefault("logit_delta_lamb", np.zeros(shape))
    return params


def human_value_problem(spec: RuleSpec, name: str, value: np.ndarray) -> tuple[np.ndarray, str]:
    """([...] bool: entries outside the valid range of human-unit parameter ``name``, the rule
    as a sentence); nothing is out of range for names without a range."""
    if name == "memory_days":
        return ~((value > 0) & (value <= 3650)), "must be in (0, 3650] days"
    if name == "k_per_day":
        inside = np.abs(value) <= MAX_K_PER_DAY if spec.signed_k \
            else (value > 0) & (value <= MAX_K_PER_DAY)
        return ~inside, f"must be in (0, {MAX_K_PER_DAY:g}]"
    if name in ("weights", "initial_weights"):
        return ~(value > 0), "weights must be positive"
    if name in ("exponent", "width", "amplitude", "pre_exp_scaling"):
        return ~(value > 0), "must be > 0"
    return np.zeros(np.shape(value), dtype=bool), ""
