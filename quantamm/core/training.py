"""Training settings: how the reference's fingerprint keys map onto ``TrainingSettings`` fields,
and their defaults, read from the one declaration in ``DEFAULT_RUN_FINGERPRINT``.

The client maps a user's dict onto the proto with these tables; the training service fills the
fields a request leaves unset with ``default`` (so both always agree). Settings that exist only
here, not in the reference, have their defaults in ``OWN_DEFAULTS``.
"""

from __future__ import annotations

from typing import Any, Mapping

from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT

# optimisation_settings key -> GradientDescentSettings field (the same names).
GRADIENT_KEYS = ("optimiser", "base_lr", "weight_decay", "n_iterations", "batch_size",
                 "sample_method", "lr_schedule_type", "lr_decay_ratio", "min_lr", "warmup_steps",
                 "use_plateau_decay", "decay_lr_plateau", "decay_lr_ratio",
                 "use_gradient_clipping", "clip_norm", "force_scalar", "eval_every",
                 "window_sampler")
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
# fingerprint initial_* key -> InitialValues field.
INITIAL_VALUE_FIELDS = {"initial_memory_length": "memory_length_days",
                        "initial_memory_length_delta": "memory_length_delta_days",
                        "initial_k_per_day": "k_per_day",
                        "initial_weights_logits": "weights_logits",
                        "initial_log_amplitude": "log_amplitude",
                        "initial_raw_width": "raw_width",
                        "initial_raw_exponents": "raw_exponents",
                        "initial_pre_exp_scaling": "pre_exp_scaling"}
# GradientDescentSettings.window_sampler: the reference's JAX threefry draws (partitionable split,
# current JAX's default), the same with the older non-partitionable split, or NumPy's.
WINDOW_SAMPLERS = ("reference", "reference_legacy", "numpy")
# Settings of ours that the reference does not have: (message, field) -> default.
OWN_DEFAULTS: dict[tuple[str, str], Any] = {
    ("gradient_descent", "eval_every"): 1,  # train/validation metrics every k steps
    ("gradient_descent", "window_sampler"): "reference",  # the reference's window draws
    ("settings", "report_every"): 10,  # iterations (or trials) between progress events
    ("optuna", "storage_url"): None,  # the server's job store
}

_OPTIMISATION = DEFAULT_RUN_FINGERPRINT["optimisation_settings"]
_OPTUNA = _OPTIMISATION["optuna_settings"]


def _reverse(table: Mapping[str, str]) -> dict[str, str]:
    return {field: key for key, field in table.items()}


_SOURCES: dict[str, tuple[Mapping[str, Any], Mapping[str, str]]] = {
    "gradient_descent": (_OPTIMISATION, {key: key for key in GRADIENT_KEYS}),
    "settings": ({**_OPTIMISATION, "bout_offset": DEFAULT_RUN_FINGERPRINT["bout_offset"]},
                 {**_reverse(COMMON_KEYS), "bout_offset_minutes": "bout_offset"}),
    "optuna": ({**_OPTUNA, **{f"stopping.{k}": v for k, v in _OPTUNA["early_stopping"].items()}},
               {**_reverse(OPTUNA_KEYS),
                **{field: f"stopping.{key}" for key, field in OPTUNA_STOPPING_KEYS.items()}}),
    "initial_values": (DEFAULT_RUN_FINGERPRINT, _reverse(INITIAL_VALUE_FIELDS)),
}


def default(message: str, field: str) -> Any:
    """The default of ``field`` of TrainingSettings' part ``message`` (``gradient_descent``,
    ``optuna``, ``initial_values``, or ``settings`` for TrainingSettings' own fields)."""
    if (message, field) in OWN_DEFAULTS:
        return OWN_DEFAULTS[(message, field)]
    values, keys = _SOURCES[message]
    return values[keys[field]]


def default_parameter_config() -> dict[str, dict[str, Any]]:
    """The default Optuna ``parameter_config`` (a copy): entry name -> low, high, log_scale,
    scalar."""
    return {name: dict(entry) for name, entry in _OPTUNA["parameter_config"].items()}
