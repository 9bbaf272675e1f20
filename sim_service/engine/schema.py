"""Parameter schemas: what each rule's parameters are, their defaults and search ranges.

Ranges are in the internal (transformed) space the engine uses (``logit_lamb``, ``log_k``, ...).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence


@dataclasses.dataclass(frozen=True)
class OptunaRange:
    """A search interval; ``log_scale`` samples log-uniformly, ``scalar`` shares one value."""

    low: float
    high: float
    log_scale: bool = False
    scalar: bool = False


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One parameter: default (scalar or per asset), search range, transform name, trainability."""

    initial: float | Sequence[float]
    optuna: OptunaRange | None = None
    transform: str | None = None
    description: str = ""
    trainable: bool = True


COMMON_PARAM_SCHEMA: dict[str, ParamSpec] = {
    "initial_weights_logits": ParamSpec(
        initial=1.0,
        optuna=OptunaRange(-10, 10),
        description="Logit-space initial portfolio weights",
        trainable=False,
    ),
}

_LOGIT_LAMB = ParamSpec(
    initial=4.0,
    optuna=OptunaRange(-4.0, 8.0),
    transform="logit_lamb",
    description="Logit of decay parameter lambda (memory length)",
)
_LOGIT_DELTA_LAMB = ParamSpec(
    initial=0.0,
    optuna=OptunaRange(-5.0, 5.0),
    description="Delta in logit space for alternative lambda calculation",
)

MOMENTUM_PARAM_SCHEMA: dict[str, ParamSpec] = {
    "log_k": ParamSpec(
        initial=4.32,
        optuna=OptunaRange(-6.6, 12.0),
        transform="log2",
        description="Log2 of momentum sensitivity factor (k) per day",
    ),
    "logit_lamb": _LOGIT_LAMB,
    "logit_delta_lamb": _LOGIT_DELTA_LAMB,
}

POWER_CHANNEL_PARAM_SCHEMA: dict[str, ParamSpec] = {
    "sp_k": ParamSpec(
        initial=19.5,
        optuna=OptunaRange(-1.0, 100.0),
        transform="squareplus",
        description="Squareplus-space sensitivity factor (k) per day",
    ),
    "logit_lamb": _LOGIT_LAMB,
    "logit_delta_lamb": _LOGIT_DELTA_LAMB,
    "sp_exponents": ParamSpec(
        initial=0.0,
        optuna=OptunaRange(-2.0, 4.0),
        transform="squareplus",
        description="Squareplus-space exponent of the power law (floored at 1)",
    ),
    "sp_pre_exp_scaling": ParamSpec(
        initial=-1.0,
        optuna=OptunaRange(-3.0, 2.0),
        transform="squareplus",
        description="Squareplus-space scaling of the signal before the power law",
    ),
}

MEAN_REVERSION_CHANNEL_PARAM_SCHEMA: dict[str, ParamSpec] = {
    **POWER_CHANNEL_PARAM_SCHEMA,
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

MIN_VARIANCE_PARAM_SCHEMA: dict[str, ParamSpec] = {
    "memory_days_1": ParamSpec(
        initial=10.0,
        optuna=OptunaRange(0.5, 200.0, log_scale=True),
        description="Memory of the return-variance estimator in days",
    ),
    "memory_days_2": ParamSpec(
        initial=10.0,
        optuna=OptunaRange(0.5, 200.0, log_scale=True),
        description="Memory of the weight smoothing in days",
    ),
}

DIFFERENCE_MOMENTUM_PARAM_SCHEMA: dict[str, ParamSpec] = {
    "k": ParamSpec(
        initial=20.0,
        optuna=OptunaRange(0.1, 1000.0, log_scale=True),
        description="Sensitivity factor per day (multiplied by the longer memory)",
    ),
    **MIN_VARIANCE_PARAM_SCHEMA,
}

RULE_PARAM_SCHEMAS: dict[str, dict[str, ParamSpec]] = {
    "momentum": MOMENTUM_PARAM_SCHEMA,
    "anti_momentum": MOMENTUM_PARAM_SCHEMA,
    "power_channel": POWER_CHANNEL_PARAM_SCHEMA,
    "mean_reversion_channel": MEAN_REVERSION_CHANNEL_PARAM_SCHEMA,
    "difference_momentum": DIFFERENCE_MOMENTUM_PARAM_SCHEMA,
    "min_variance": MIN_VARIANCE_PARAM_SCHEMA,
    "balancer": {},
    "hodl": {},
    "cow": {},
    "gyroscope": {},
}


def get_param_schema(rule: str) -> dict[str, ParamSpec]:
    """The rule's schema merged with the common entries (rule entries first); the Gyroscope's
    geometry has no schema (it is not trained) and its weights are optional."""
    if rule not in RULE_PARAM_SCHEMAS:
        raise ValueError(f"unknown rule {rule!r}; valid: {', '.join(RULE_PARAM_SCHEMAS)}")
    if rule == "gyroscope":
        return {}
    return {**RULE_PARAM_SCHEMAS[rule], **COMMON_PARAM_SCHEMA}


def schema_as_dict(schema: Mapping[str, ParamSpec]) -> dict[str, Any]:
    """A JSON-ready copy of a schema."""
    return {name: dataclasses.asdict(spec) for name, spec in schema.items()}
