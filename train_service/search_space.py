"""Optuna's search space from ``parameter_config`` (docs/training.md §4.1.2, with fixes).

- Searched: the rule's trainable keys (``logit_delta_lamb`` only with ``use_alt_lamb``) plus
  any key named in ``parameter_config``. The natural-unit entries ``memory_length`` (days) and
  ``k_per_day`` stand for the rule's memory / k key and are sampled in those units; an entry
  under the internal key wins when both are given.
- Fallback range (fields the user did not give): the default ``parameter_config``'s entry
  (``quantamm.core.training.default_parameter_config``: ``memory_length`` 1..200 days log,
  ``k_per_day`` 0.1..1000 log) for the rule's memory / k key, otherwise the schema's range
  (ListRules), else -10..10.
- Natural-unit entries are absolute ranges in their units. ``expand_around`` turns only the
  bounds the user gave for an internal key into offsets around the starting value of each asset;
  every range is then intersected with the hard bounds (memory 0.5 days .. max_memory_days,
  k_per_day > 0) and an empty range is refused with INVALID_ARGUMENT.
- ``scalar``: one value shared by all assets (``expand_around`` does not apply, as in the
  reference); ``make_scalar`` sets it on every listed entry.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Mapping

import numpy as np

from quantamm.core import training, units
from quantamm_api.v1 import types_pb2
from train_service import parameters
from train_service.errors import invalid
from train_service.parameters import Params
from train_service.settings import SearchRange, SearchSettings

MIN_MEMORY_DAYS = 0.5
MIN_K_PER_DAY = 1e-9
FIELD = "settings.optuna.parameter_config"
NATURAL_INITIAL = {"memory_length": "memory_length_days", "k_per_day": "k_per_day"}
UNSET = SearchRange(None, None, None, None)


@dataclasses.dataclass(frozen=True)
class Dimension:
    """One Optuna parameter: ``name`` (the entry name, ``<name>_<i>`` per asset), its range in
    the sampled units, the internal key and asset it sets (None: all) and the conversion."""

    name: str
    key: str
    low: float
    high: float
    log_scale: bool
    asset: int | None
    to_internal: Callable[[float], float]


@dataclasses.dataclass(frozen=True)
class Context:
    """What ranges depend on besides the config: the rule, the starting set, the human-unit
    initial values, the chunk period (minutes) and max_memory_days."""

    rule: types_pb2.RuleInfo
    start: Params
    initial: Mapping[str, float | list[float]]
    chunk: int
    max_memory_days: float


def _natural_entries(rule: types_pb2.RuleInfo) -> dict[str, str]:
    """internal key -> the natural-unit entry that stands for it in ``rule``."""
    pairs = {rule.memory_keys[0] if rule.memory_keys else "": "memory_length",
             rule.k_key: "k_per_day"}
    return {key: name for key, name in pairs.items() if key}


def natural_default(natural: str) -> SearchRange:
    """The default parameter_config's entry for a natural-unit name."""
    entry = training.default_parameter_config()[natural]
    return SearchRange(float(entry["low"]), float(entry["high"]), bool(entry["log_scale"]),
                       bool(entry["scalar"]))


def _converter(context: Context, key: str, natural: str | None) -> Callable[[float], float]:
    """Sampled value -> the engine value of ``key`` (through its transform for natural units)."""
    if natural is None:
        return float
    transform = {spec.name: spec.transform for spec in context.rule.params}.get(key) or None
    return lambda value: float(units.from_human(transform, value, context.chunk))


def _hard_range(context: Context, key: str, natural: str | None) -> tuple[float, float]:
    """Bounds no search may leave, in the sampled units."""
    if natural == "memory_length" or (natural is None and key.startswith("memory_days_")):
        return MIN_MEMORY_DAYS, context.max_memory_days
    if natural == "k_per_day":
        return MIN_K_PER_DAY, math.inf
    if key == "logit_lamb":
        days = np.array([MIN_MEMORY_DAYS, context.max_memory_days])
        low, high = units.memory_days_to_logit_lamb(days, context.chunk)
        return float(low), float(high)
    return -math.inf, math.inf


def _fallback(context: Context, key: str, natural: str | None,
              hard: tuple[float, float]) -> SearchRange:
    specs = {spec.name: spec for spec in context.rule.params}
    if natural:
        return natural_default(natural)
    if key == "logit_lamb":
        return SearchRange(hard[0], hard[1], False, False)
    if key in specs and specs[key].HasField("optuna"):
        schema = specs[key].optuna
        return SearchRange(schema.low, schema.high, schema.log_scale, schema.scalar)
    return SearchRange(-10.0, 10.0, False, False)


def _centre(context: Context, key: str, natural: str | None) -> np.ndarray:
    """Starting value per entry (per asset; row-major for a [rows, n] key) in the sampled
    units."""
    size = np.size(context.start[key])
    if natural:
        return np.resize(parameters.per_asset(context.initial, NATURAL_INITIAL[natural],
                                              np.shape(context.start[key])[-1]), size)
    return np.asarray(context.start[key], dtype=np.float64).reshape(-1)


def searched_keys(context: Context, config: Mapping[str, SearchRange],
                  use_alt_lamb: bool) -> list[str]:
    """Internal keys the search varies (INVALID_ARGUMENT for config entries of no key)."""
    natural_of = _natural_entries(context.rule)
    valid = set(context.start) | set(natural_of.values())
    for name in config:
        if name not in valid:
            raise invalid(f"{FIELD}[{name!r}]", f"not a parameter of {context.rule.name}; "
                          f"valid: {', '.join(sorted(valid))}")
    named = {key for key in context.start
             if key in config or natural_of.get(key) in config}
    trainable = {spec.name for spec in context.rule.params if spec.trainable}
    if not use_alt_lamb:
        trainable.discard("logit_delta_lamb")
    return [key for key in context.start if key in named or key in trainable]


def dimensions(context: Context, search: SearchSettings, use_alt_lamb: bool) -> list[Dimension]:
    """The search dimensions of every searched key."""
    config = search.parameter_config
    natural_of = _natural_entries(context.rule)
    result = []
    for key in searched_keys(context, config, use_alt_lamb):
        # The user's internal entry wins; else the natural entry (the user's or the default).
        natural = None if key in config else natural_of.get(key)
        name = natural or key
        hard = _hard_range(context, key, natural)
        result += _key_dimensions(
            name, key, config.get(name), _fallback(context, key, natural, hard), hard, search,
            _centre(context, key, natural), _converter(context, key, natural),
            absolute=natural is not None)
    return result


def _key_dimensions(name: str, key: str, user: SearchRange | None, fallback: SearchRange,
                    hard: tuple[float, float], search: SearchSettings, centre: np.ndarray,
                    convert: Callable[[float], float], absolute: bool) -> list[Dimension]:
    field = f"{FIELD}[{name!r}]"
    given = user or UNSET
    log_scale = fallback.log_scale if given.log_scale is None else given.log_scale
    scalar = fallback.scalar if given.scalar is None else given.scalar
    scalar = scalar or (user is not None and search.make_scalar) or centre.size == 1
    around = search.expand_around and user is not None and not scalar and not absolute
    lows = np.full(centre.size, fallback.low if given.low is None else given.low)
    highs = np.full(centre.size, fallback.high if given.high is None else given.high)
    if around and given.low is not None:
        lows = centre - given.low
    if around and given.high is not None:
        highs = centre + given.high
    lows, highs = np.maximum(lows, hard[0]), np.minimum(highs, hard[1])
    if np.any(lows >= highs):
        raise invalid(field, f"empty search range [{lows.max():.6g}, {highs.min():.6g}] after "
                      f"expand_around and the hard bounds [{hard[0]:.6g}, {hard[1]:.6g}]")
    if log_scale and np.any(lows <= 0):
        raise invalid(field, f"log_scale needs low > 0, got {lows.min():.6g}")
    if scalar:
        return [Dimension(name, key, float(lows[0]), float(highs[0]), log_scale, None, convert)]
    return [Dimension(f"{name}_{i}", key, float(low), float(high), log_scale, i, convert)
            for i, (low, high) in enumerate(zip(lows, highs, strict=True))]


def apply(start: Params, dims: list[Dimension], values: Mapping[str, float]) -> Params:
    """``start`` (one set) with the sampled ``values`` (by dimension name) converted in."""
    params = {key: np.array(value, dtype=np.float64) for key, value in start.items()}
    for dim in dims:
        internal = dim.to_internal(values[dim.name])
        if dim.asset is None:
            params[dim.key][...] = internal
        else:
            params[dim.key].reshape(-1)[dim.asset] = internal  # a view: the arrays are new
    return params
