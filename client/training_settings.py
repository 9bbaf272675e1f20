"""The reference fingerprint's training keys -> ``quantamm.v1.TrainingSettings``.

Users of the reference configure training inside the run fingerprint:
``optimisation_settings`` (gradient descent and common keys), ``optimisation_settings.
optuna_settings`` (Optuna), ``bout_offset`` and the ``initial_*`` starting values. This module maps
a defaults-filled fingerprint onto the proto, field by field. A setting the training service does
not implement (``use_swa``, ``bfgs_settings``, ...) is refused when it differs from its default,
never silently dropped.
"""

from __future__ import annotations

from typing import Any, Mapping

from quantamm_api.v1 import training_pb2
from sim_service.fingerprint import DEFAULT_RUN_FINGERPRINT, FingerprintError

METHODS = {
    "gradient_descent": training_pb2.TRAINING_METHOD_GRADIENT_DESCENT,
    "optuna": training_pb2.TRAINING_METHOD_OPTUNA,
}
# optimisation_settings key -> GradientDescentSettings field (same names).
GRADIENT_KEYS = ("optimiser", "base_lr", "weight_decay", "n_iterations", "batch_size",
                 "sample_method", "lr_schedule_type", "lr_decay_ratio", "min_lr", "warmup_steps",
                 "use_plateau_decay", "decay_lr_plateau", "decay_lr_ratio",
                 "use_gradient_clipping", "clip_norm", "force_scalar", "eval_every")
# optimisation_settings key -> TrainingSettings field.
COMMON_KEYS = {"val_fraction": "val_fraction", "n_parameter_sets": "n_parameter_sets",
               "parameter_init_method": "parameter_init_method", "noise_scale": "noise_scale",
               "initial_random_key": "seed", "early_stopping": "early_stopping",
               "early_stopping_patience": "early_stopping_patience",
               "early_stopping_metric": "early_stopping_metric"}
# optuna_settings key -> OptunaSettings field.
OPTUNA_KEYS = {"n_trials": "n_trials", "n_jobs": "n_jobs", "timeout": "timeout_seconds",
               "n_startup_trials": "n_startup_trials", "multi_objective": "multi_objective",
               "make_scalar": "make_scalar", "expand_around": "expand_around",
               "overfitting_penalty": "overfitting_penalty", "study_name": "study_name"}
# optuna_settings.early_stopping key -> OptunaSettings field.
OPTUNA_STOPPING_KEYS = {"enabled": "early_stopping", "patience": "early_stopping_patience",
                        "min_improvement": "early_stopping_min_improvement"}
# fingerprint initial_* key -> InitialValues field (weights_logits is repeated, handled apart).
INITIAL_KEYS = {"initial_memory_length": "memory_length_days",
                "initial_memory_length_delta": "memory_length_delta_days",
                "initial_k_per_day": "k_per_day", "initial_log_amplitude": "log_amplitude",
                "initial_raw_width": "raw_width", "initial_raw_exponents": "raw_exponents",
                "initial_pre_exp_scaling": "pre_exp_scaling"}
# Keys read apart from the tables above.
HANDLED = frozenset({"method", "optuna_settings"})


def _check_unsupported(settings: Mapping[str, Any], defaults: Mapping[str, Any],
                       handled: set[str], path: str) -> None:
    """Refuse a setting this service does not implement when it is not at its default."""
    for key, value in settings.items():
        if key in handled or value == defaults.get(key):
            continue
        raise FingerprintError(f"{path}.{key}", "is not supported by the training service "
                               f"(only its default {defaults.get(key)!r} is)")


def method_of(fp: Mapping[str, Any]) -> str:
    """``optimisation_settings.method``; the training guide's Optuna example sets it inside
    ``optuna_settings``, which is honoured too."""
    settings = fp["optimisation_settings"]
    method = settings["optuna_settings"].get("method") or settings["method"]
    if method not in METHODS:
        raise FingerprintError("optimisation_settings.method",
                               f"must be one of {', '.join(METHODS)}, got {method!r}")
    return method


def _optuna(settings: Mapping[str, Any]) -> training_pb2.OptunaSettings:
    defaults = DEFAULT_RUN_FINGERPRINT["optimisation_settings"]["optuna_settings"]
    # output_dir: where the reference writes study files; the service keeps studies in its store.
    handled = {*OPTUNA_KEYS, "early_stopping", "parameter_config", "storage", "method",
               "output_dir"}
    _check_unsupported(settings, defaults, handled, "optimisation_settings.optuna_settings")
    message = training_pb2.OptunaSettings(
        **{field: settings[key] for key, field in OPTUNA_KEYS.items() if settings[key] is not None},
        **{field: settings["early_stopping"][key] for key, field in OPTUNA_STOPPING_KEYS.items()},
    )
    if settings["storage"].get("url"):
        message.storage_url = settings["storage"]["url"]
    # Only ranges that differ from the defaults: the service applies the reference's defaults
    # itself, to the parameters of the rule at hand.
    for name, entry in settings["parameter_config"].items():
        if entry != defaults["parameter_config"].get(name):
            message.parameter_config[name].CopyFrom(training_pb2.ParameterRange(
                **{k: v for k, v in entry.items() if v is not None}))
    return message


def _initial_values(fp: Mapping[str, Any]) -> training_pb2.InitialValues:
    logits = fp["initial_weights_logits"]
    return training_pb2.InitialValues(
        **{field: float(fp[key]) for key, field in INITIAL_KEYS.items()},
        weights_logits=[float(v) for v in (logits if isinstance(logits, (list, tuple))
                                           else [logits])],
    )


def to_training_settings(
    fp: Mapping[str, Any], report_every: int | None = None
) -> training_pb2.TrainingSettings:
    """TrainingSettings from a defaults-filled fingerprint ``fp``
    (``sim_service.fingerprint.fill_defaults``); ``report_every``: iterations (or trials)
    between progress events (``iterations_per_print``)."""
    settings = fp["optimisation_settings"]
    defaults = DEFAULT_RUN_FINGERPRINT["optimisation_settings"]
    _check_unsupported(settings, defaults, {*GRADIENT_KEYS, *COMMON_KEYS, *HANDLED},
                       "optimisation_settings")
    message = training_pb2.TrainingSettings(
        method=METHODS[method_of(fp)],
        gradient_descent=training_pb2.GradientDescentSettings(
            **{key: settings[key] for key in GRADIENT_KEYS if settings.get(key) is not None}),
        optuna=_optuna(settings["optuna_settings"]),
        bout_offset_minutes=int(fp["bout_offset"]),
        initial_values=_initial_values(fp),
        **{field: settings[key] for key, field in COMMON_KEYS.items()},
    )
    if report_every is not None:
        message.report_every = int(report_every)
    return message
