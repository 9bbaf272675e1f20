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

from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT, FingerprintError
from quantamm.core.training import (
    COMMON_KEYS,
    GRADIENT_KEYS,
    INITIAL_VALUE_FIELDS,
    OPTUNA_KEYS,
    OPTUNA_STOPPING_KEYS,
)
from quantamm_api.v1 import training_pb2

METHODS = {
    "gradient_descent": training_pb2.TRAINING_METHOD_GRADIENT_DESCENT,
    "optuna": training_pb2.TRAINING_METHOD_OPTUNA,
}
# Keys read apart from the tables above.
HANDLED = frozenset({"method", "optuna_settings"})
CONFIG_PATH = "optimisation_settings.optuna_settings.parameter_config"


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


def _optuna(settings: Mapping[str, Any],
            given_config: Mapping[str, Mapping[str, Any]]) -> training_pb2.OptunaSettings:
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
    # The entries the user wrote, exactly as written (equal to a default or not): the service
    # applies the default parameter_config to every parameter the user did not configure.
    for name, entry in given_config.items():
        if not isinstance(entry, Mapping):
            raise FingerprintError(f"{CONFIG_PATH}.{name}",
                                   "must be a dict of low, high, log_scale, scalar")
        unknown = sorted(set(entry) - set(training_pb2.ParameterRange.DESCRIPTOR.fields_by_name))
        if unknown:
            raise FingerprintError(f"{CONFIG_PATH}.{name}.{unknown[0]}",
                                   "unknown key; valid: low, high, log_scale, scalar")
        message.parameter_config[name].CopyFrom(training_pb2.ParameterRange(
            **{k: v for k, v in entry.items() if v is not None}))
    return message


def _initial_values(fp: Mapping[str, Any]) -> training_pb2.InitialValues:
    logits = fp["initial_weights_logits"]
    return training_pb2.InitialValues(
        **{field: float(fp[key]) for key, field in INITIAL_VALUE_FIELDS.items()
           if field != "weights_logits"},
        weights_logits=[float(v) for v in (logits if isinstance(logits, (list, tuple))
                                           else [logits])],
    )


def given_parameter_config(run_fingerprint: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``parameter_config`` entries a user's (unfilled) fingerprint writes ({} when none)."""
    optimisation = run_fingerprint.get("optimisation_settings") or {}
    return (optimisation.get("optuna_settings") or {}).get("parameter_config") or {}


def to_training_settings(
    fp: Mapping[str, Any], report_every: int | None = None,
    given_config: Mapping[str, Mapping[str, Any]] | None = None,
) -> training_pb2.TrainingSettings:
    """TrainingSettings from a defaults-filled fingerprint ``fp``
    (``quantamm.core.fingerprint.fill_defaults``); ``report_every``: iterations (or trials)
    between progress events (``iterations_per_print``); ``given_config``: the Optuna
    ``parameter_config`` entries the user wrote (``given_parameter_config`` of the unfilled
    fingerprint), sent as written."""
    settings = fp["optimisation_settings"]
    defaults = DEFAULT_RUN_FINGERPRINT["optimisation_settings"]
    _check_unsupported(settings, defaults, {*GRADIENT_KEYS, *COMMON_KEYS, *HANDLED},
                       "optimisation_settings")
    message = training_pb2.TrainingSettings(
        method=METHODS[method_of(fp)],
        gradient_descent=training_pb2.GradientDescentSettings(
            **{key: settings[key] for key in GRADIENT_KEYS if settings.get(key) is not None}),
        optuna=_optuna(settings["optuna_settings"], given_config or {}),
        bout_offset_minutes=int(fp["bout_offset"]),
        initial_values=_initial_values(fp),
        **{field: settings[key] for key, field in COMMON_KEYS.items()},
    )
    if report_every is not None:
        message.report_every = int(report_every)
    return message
