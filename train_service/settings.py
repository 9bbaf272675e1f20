"""TrainingSettings with the reference's defaults filled in and every value validated.

Unset optional fields take their defaults from ``quantamm.core.training.default`` (the one
declaration, ``DEFAULT_RUN_FINGERPRINT``, so the client and this service always agree), except
where a documented fix applies: ``noise_scale`` (0.1) also spreads freshly initialised sets.
A refused value raises INVALID_ARGUMENT naming the field, e.g.
``settings.gradient_descent.base_lr``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Mapping

from quantamm.core import training
from quantamm.core.vocabulary import OPTIMISERS, SAMPLE_METHODS, SCHEDULES, SELECTION_METRICS
from quantamm.core.parameters import NOISE_METHODS
from quantamm_api.v1 import training_pb2
from train_service.errors import invalid

GRADIENT_DESCENT = training_pb2.TRAINING_METHOD_GRADIENT_DESCENT
OPTUNA = training_pb2.TRAINING_METHOD_OPTUNA


@dataclasses.dataclass(frozen=True)
class Field:
    """A setting's validity test (``rule`` says what is allowed); its default is
    ``quantamm.core.training.default``."""

    check: Callable[[Any], bool] = lambda value: True
    rule: str = ""


def _positive(value: float) -> bool:
    return value > 0


def _at_least(low: float) -> Callable[[float], bool]:
    return lambda value: value >= low


def _one_of(options: tuple[str, ...]) -> Field:
    return Field(lambda value: value in options, f"must be one of {', '.join(options)}")


GRADIENT_FIELDS: dict[str, Field] = {
    "optimiser": Field(lambda v: v in OPTIMISERS, "must be one of adam, adamw, sgd"),
    "base_lr": Field(_positive, "must be > 0"),
    "weight_decay": Field(_at_least(0), "must be >= 0"),
    "n_iterations": Field(_at_least(1), "must be >= 1"),
    "batch_size": Field(_at_least(1), "must be >= 1"),
    "sample_method": _one_of(SAMPLE_METHODS),
    "lr_schedule_type": _one_of(SCHEDULES),
    "lr_decay_ratio": Field(_at_least(1), "must be >= 1"),
    "min_lr": Field(_at_least(0), "must be >= 0"),
    "warmup_steps": Field(_at_least(0), "must be >= 0"),
    "use_plateau_decay": Field(),
    "decay_lr_plateau": Field(_at_least(1), "must be >= 1 iteration"),
    "decay_lr_ratio": Field(lambda v: 0 < v <= 1, "must be in (0, 1]"),
    "use_gradient_clipping": Field(),
    "clip_norm": Field(_positive, "must be > 0"),
    "force_scalar": Field(),
    "eval_every": Field(_at_least(1), "must be >= 1"),
    "window_sampler": _one_of(training.WINDOW_SAMPLERS),
}
OPTUNA_FIELDS: dict[str, Field] = {
    "n_trials": Field(_at_least(1), "must be >= 1"),
    "n_jobs": Field(lambda v: 1 <= v <= 256, "must be in [1, 256]"),
    "timeout_seconds": Field(_positive, "must be > 0 seconds"),
    "n_startup_trials": Field(_at_least(0), "must be >= 0"),
    "early_stopping": Field(),
    "early_stopping_patience": Field(_at_least(1), "must be >= 1 trial"),
    "early_stopping_min_improvement": Field(_at_least(0), "must be >= 0"),
    "multi_objective": Field(),
    "make_scalar": Field(),
    "expand_around": Field(),
    "overfitting_penalty": Field(_at_least(0), "must be >= 0"),
    "study_name": Field(lambda v: v is None or 0 < len(v) <= 200, "1 to 200 characters"),
    "storage_url": Field(lambda v: v is None or "://" in v, "must be an RDB URL"),
}
COMMON_FIELDS: dict[str, Field] = {
    "bout_offset_minutes": Field(_at_least(1), "must be >= 1 minute"),
    "val_fraction": Field(lambda v: 0 <= v < 1, "must be in [0, 1)"),
    "n_parameter_sets": Field(lambda v: 1 <= v <= 4096, "must be in [1, 4096]"),
    "parameter_init_method": Field(lambda v: v in NOISE_METHODS,
                                   f"must be one of {', '.join(NOISE_METHODS)}"),
    "noise_scale": Field(_at_least(0), "must be >= 0"),
    "seed": Field(lambda v: 0 <= v < 2**32, "must be in [0, 2^32)"),
    "early_stopping": Field(),
    "early_stopping_patience": Field(_at_least(1), "must be >= 1 iteration"),
    "early_stopping_metric": Field(lambda v: v in SELECTION_METRICS,
                                   f"must be one of {', '.join(SELECTION_METRICS)}"),
    "report_every": Field(_at_least(1), "must be >= 1"),
}
# InitialValues field -> (allowed, rule); weights_logits is repeated and checked by the caller.
INITIAL_FIELDS: dict[str, Field] = {
    "memory_length_days": Field(_positive, "must be > 0 days"),
    "memory_length_delta_days": Field(),
    "k_per_day": Field(_positive, "must be > 0"),
    "log_amplitude": Field(),
    "raw_width": Field(),
    "raw_exponents": Field(),
    "pre_exp_scaling": Field(_positive, "must be > 0"),
}


@dataclasses.dataclass(frozen=True)
class GradientSettings:
    optimiser: str
    base_lr: float
    weight_decay: float
    n_iterations: int
    batch_size: int
    sample_method: str
    lr_schedule_type: str
    lr_decay_ratio: float
    min_lr: float
    warmup_steps: int
    use_plateau_decay: bool
    decay_lr_plateau: int
    decay_lr_ratio: float
    use_gradient_clipping: bool
    clip_norm: float
    force_scalar: bool
    eval_every: int
    window_sampler: str


@dataclasses.dataclass(frozen=True)
class SearchRange:
    """A user's ``parameter_config`` entry; None = not given (the fallback applies)."""

    low: float | None
    high: float | None
    log_scale: bool | None
    scalar: bool | None


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    n_trials: int
    n_jobs: int
    timeout_seconds: float
    n_startup_trials: int
    early_stopping: bool
    early_stopping_patience: int
    early_stopping_min_improvement: float
    multi_objective: bool
    make_scalar: bool
    expand_around: bool
    overfitting_penalty: float
    study_name: str | None
    storage_url: str | None
    parameter_config: Mapping[str, SearchRange]


@dataclasses.dataclass(frozen=True)
class Settings:
    method: int
    gradient: GradientSettings
    search: SearchSettings
    bout_offset_minutes: int
    val_fraction: float
    n_parameter_sets: int
    parameter_init_method: str
    noise_scale: float
    seed: int
    early_stopping: bool
    early_stopping_patience: int
    early_stopping_metric: str
    report_every: int
    # Human-unit initial values (InitialValues fields) that the request set.
    initial_values: Mapping[str, float | list[float]]


def fill(message, fields: Mapping[str, Field], prefix: str,
         section: str | None) -> dict[str, Any]:
    """Each field's value (or the default of ``section``'s field, None without a section),
    validated; errors name ``prefix + field``."""
    values = {}
    for name, field in fields.items():
        if message.HasField(name):
            value = getattr(message, name)
        else:
            value = training.default(section, name) if section else None
        if isinstance(value, float) and not math.isfinite(value):
            raise invalid(prefix + name, f"must be finite, got {value}")
        if value is not None and not field.check(value):
            raise invalid(prefix + name, f"{field.rule}, got {value!r}")
        values[name] = value
    return values


def _search_range(entry: training_pb2.ParameterRange, field: str) -> SearchRange:
    values = {name: getattr(entry, name) if entry.HasField(name) else None
              for name in ("low", "high", "log_scale", "scalar")}
    for name in ("low", "high"):
        if values[name] is not None and not math.isfinite(values[name]):
            raise invalid(f"{field}.{name}", f"must be finite, got {values[name]}")
    return SearchRange(**values)


def _initial_values(message: training_pb2.InitialValues, n_assets: int) -> dict[str, Any]:
    prefix = "settings.initial_values."
    values = {k: v for k, v in fill(message, INITIAL_FIELDS, prefix, None).items() if v is not None}
    logits = list(message.weights_logits)
    if logits:
        if len(logits) not in (1, n_assets) or not all(math.isfinite(v) for v in logits):
            raise invalid(prefix + "weights_logits",
                          f"give 1 or {n_assets} finite values, got {len(logits)}")
        values["weights_logits"] = logits
    memory = {field: values.get(field, training.default("initial_values", field))
              for field in ("memory_length_days", "memory_length_delta_days")}
    if memory["memory_length_days"] + memory["memory_length_delta_days"] <= 0:
        raise invalid(prefix + "memory_length_delta_days", "memory + delta must be > 0 days")
    return values


def _check_gradient(settings: Settings) -> None:
    gradient, prefix = settings.gradient, "settings.gradient_descent."
    warmup = gradient.lr_schedule_type == "warmup_cosine"
    if warmup and gradient.warmup_steps >= gradient.n_iterations:
        raise invalid(prefix + "warmup_steps",
                      f"must be < n_iterations ({gradient.n_iterations}) for warmup_cosine")
    if gradient.batch_size > settings.bout_offset_minutes:
        raise invalid(prefix + "batch_size", f"{gradient.batch_size} distinct window starts do "
                      f"not fit in bout_offset_minutes ({settings.bout_offset_minutes})")
    if settings.early_stopping and settings.val_fraction == 0:
        raise invalid("settings.early_stopping",
                      "with val_fraction 0 there is no validation period and early stopping "
                      "would watch the test period; set val_fraction > 0 or early_stopping false")


def _check_search(settings: Settings) -> None:
    search = settings.search
    if settings.val_fraction == 0 and (search.early_stopping or search.overfitting_penalty > 0):
        raise invalid("settings.val_fraction",
                      "Optuna's overfitting penalty and early stopping are judged on validation: "
                      "set val_fraction > 0, or overfitting_penalty 0 and early_stopping false")


def resolve(message: training_pb2.TrainingSettings, n_assets: int) -> Settings:
    """Validated settings with defaults (INVALID_ARGUMENT naming the field otherwise)."""
    method = message.method or GRADIENT_DESCENT
    if method not in (GRADIENT_DESCENT, OPTUNA):
        raise invalid("settings.method", f"unknown training method {method}")
    prefix = "settings.optuna.parameter_config"
    search = fill(message.optuna, OPTUNA_FIELDS, "settings.optuna.", "optuna")
    search["parameter_config"] = {
        key: _search_range(entry, f"{prefix}[{key!r}]")
        for key, entry in sorted(message.optuna.parameter_config.items())
    }
    settings = Settings(
        method=method,
        gradient=GradientSettings(**fill(message.gradient_descent, GRADIENT_FIELDS,
                                         "settings.gradient_descent.", "gradient_descent")),
        search=SearchSettings(**search),
        initial_values=_initial_values(message.initial_values, n_assets),
        **fill(message, COMMON_FIELDS, "settings.", "settings"),
    )
    (_check_gradient if method == GRADIENT_DESCENT else _check_search)(settings)
    return settings
