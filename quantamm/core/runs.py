"""A run's settings, typed and checked once (``RunSpec``), and the seeds'
``do_run_on_historic_data`` arguments read once for both of its back ends (the services,
``client.compat``; the engine in process, ``sim_service.compat``).

The reference's settings dict is read here and in ``quantamm.core.fingerprint`` only: the
simulator and the engine work on ``RunSpec``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Mapping, Sequence

from quantamm.core import vocabulary
from quantamm.core.fingerprint import (FingerprintError, UnknownReturnValError, fill_defaults,
                                       sorted_tokens)
from quantamm.core.rules import INITIAL_KEYS

# Valid values of the settings (reference key -> (test of value and n_assets, the rule)).
Check = tuple[Callable[[Any, int], bool], str]
CHECKS: dict[str, Check] = {
    "chunk_period": (lambda v, n: 1 <= v <= 1440 * 30, "must be 1 .. 43200 minutes"),
    "weight_interpolation_period": (lambda v, n: v >= 1, "must be >= 1 minute"),
    "weight_interpolation_method": (
        lambda v, n: v in vocabulary.INTERPOLATION_METHODS,
        f"must be one of {', '.join(vocabulary.INTERPOLATION_METHODS)}",
    ),
    "maximum_change": (lambda v, n: 0 < v <= 1, "must be in (0, 1]"),
    "minimum_weight": (lambda v, n: v is None or 0 < v < 1 / n, "must be in (0, 1 / n_assets)"),
    "max_memory_days": (lambda v, n: 0 < v <= 3650, "must be in (0, 3650] days"),
    "initial_pool_value": (lambda v, n: 0 < v < 1e15, "must be > 0 (and < 1e15)"),
    "fees": (lambda v, n: 0 <= v < 1, "must be in [0, 1)"),
    "gas_cost": (lambda v, n: v >= 0, "must be >= 0"),
    "arb_fees": (lambda v, n: 0 <= v < 1, "must be in [0, 1)"),
    "arb_frequency": (lambda v, n: v >= 1, "must be >= 1"),
    "arb_quality": (lambda v, n: 0 <= v <= 1, "must be in [0, 1]"),
    "noise_trader_ratio": (lambda v, n: v >= 0, "must be >= 0"),
    "protocol_fee_split": (lambda v, n: 0 <= v <= 1, "must be in [0, 1]"),
    "turnover_penalty": (lambda v, n: v >= 0, "must be >= 0"),
    "price_noise_sigma": (lambda v, n: v >= 0, "must be >= 0"),
}


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """The settings of one run, typed: tokens (sorted, the engine's asset order), the rule, the
    dates (``YYYY-MM-DD HH:MM:SS`` UTC), every simulation setting under its reference key
    (defaults from ``DEFAULT_RUN_FINGERPRINT``) and the ``initial_*`` values."""

    tokens: tuple[str, ...]
    rule: str
    start: str
    end: str
    end_test: str | None
    chunk_period: int
    weight_interpolation_period: int
    weight_interpolation_method: str
    maximum_change: float
    minimum_weight: float | None
    max_memory_days: float
    use_alt_lamb: bool
    use_pre_exp_scaling: bool
    ste_max_change: bool
    ste_min_max_weight: bool
    initial_pool_value: float
    arb_frequency: int
    do_arb: bool
    return_val: str
    use_fused_reserves: bool
    weight_rule_causal: bool
    fees: float
    gas_cost: float
    arb_fees: float
    noise_trader_ratio: float
    protocol_fee_split: float
    arb_quality: float
    numeraire: str | None
    turnover_penalty: float
    price_noise_sigma: float
    initial_values: Mapping[str, Any]

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> RunSpec:
        """The spec of a reference settings dict (defaults filled; FingerprintError naming the
        key when a key is unknown or a value invalid)."""
        fp = fill_defaults(settings)
        tokens = tuple(sorted_tokens(fp))
        for key, (valid, rule) in CHECKS.items():
            value = fp[key]
            if isinstance(value, float) and not math.isfinite(value):
                raise FingerprintError(key, f"must be finite, got {value}")
            if not valid(value, len(tokens)):
                raise FingerprintError(key, f"{rule}, got {value!r}")
        problem = vocabulary.choice_problem(fp["return_val"], vocabulary.RETURN_VALS,
                                            "return_val")
        if problem:
            raise UnknownReturnValError("return_val", problem)
        own = {field.name for field in dataclasses.fields(cls)} - {
            "tokens", "start", "end", "end_test", "initial_values"}
        return cls(tokens=tokens, start=fp["startDateString"], end=fp["endDateString"],
                   end_test=fp["endTestDateString"],
                   initial_values={key: fp[key] for key in INITIAL_KEYS},
                   **{key: fp[key] for key in own})

    def date(self, key: str) -> str | None:
        """The date of a reference date key (``startDateString``, ``endDateString``,
        ``endTestDateString``)."""
        return {"startDateString": self.start, "endDateString": self.end,
                "endTestDateString": self.end_test}[key]



@dataclasses.dataclass(frozen=True)
class RunCall:
    """A call's fingerprint (defaults filled, scalar cost overrides applied), its parameter
    sets (one for a single dict), whether one dict was given, and the per-minute tables."""

    fingerprint: dict[str, Any]
    parameter_sets: list[Mapping[str, Any]]
    single: bool
    tables: dict[str, Any]

    def shaped(self, results: list[Any]) -> Any:
        """One result per set -> what the caller gave: one result, or the list."""
        return results[0] if self.single else results


def run_call(run_fingerprint: Mapping[str, Any],
             params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
             costs: Mapping[str, float | None], tables: Mapping[str, Any],
             lp_supply_df: Any, do_test_period: bool) -> RunCall:
    """Read the arguments: ``costs`` override the fingerprint's fees / gas_cost / arb_fees when
    not None; ``tables`` are the per-minute ``<key>_df`` tables by fingerprint key (None: not
    given). Refuses ``lp_supply_df`` (the reference's runner never passes it) and a test period
    without ``endTestDateString``."""
    if lp_supply_df is not None:
        raise FingerprintError("lp_supply_df",
                               "not supported (the reference's runner never passes it either)")
    overrides = {key: value for key, value in costs.items() if value is not None}
    fp = fill_defaults({**run_fingerprint, **overrides})
    if do_test_period and fp["endTestDateString"] is None:
        raise FingerprintError("endTestDateString", "is required with do_test_period")
    single = isinstance(params, Mapping)
    return RunCall(fp, [params] if single else list(params), single, dict(tables))
