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

import structlog

from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT, FingerprintError
from quantamm.core.training import (
    COMMON_KEYS,
    GRADIENT_KEYS,
    INITIAL_VALUE_FIELDS,
    OPTUNA_KEYS,
    OPTUNA_STOPPING_KEYS,
)
from quantamm.wire.fingerprints import set_field, wrong_type
from quantamm_api.v1 import training_pb2

METHODS = {
    "gradient_descent": training_pb2.TRAINING_METHOD_GRADIENT_DESCENT,
    "optuna": training_pb2.TRAINING_METHOD_OPTUNA,
}
# Keys read apart from the tables above.
HANDLED = frozenset({"method", "optuna_settings"})
# Keys the reference accepts that change nothing in its gradient descent (nor here): any value is
# accepted, and a non-default one logged with what it means.
NO_EFFECT = {
    "n_cycles": "legacy: unused by the reference's training (walk-forward analysis takes its "
                "own n_cycles argument); no effect here",
    "max_mc_version": "highest Monte-Carlo price version, read only when training_data_kind is "
                      "'mc' (not supported here); no effect with historic data",
}
log = structlog.get_logger(__name__)
OPTUNA_PATH = "optimisation_settings.optuna_settings"


def _whole(value: Any) -> Any:
    """A whole number given as a float (``10080.0``) as an int, as ``int()`` took it before;
    anything else as it is (a wrong type is then refused naming the key)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _message(message_type: type[Any], values: Mapping[str, tuple[str, Any]]) -> Any:
    """``message_type`` with each ``field`` set to ``value`` of ``values[field] = (key,
    value)``; a value of the wrong type is a FingerprintError naming the user's ``key``."""
    message = message_type()
    for field, (key, value) in values.items():
        set_field(message, field, value, key)
    return message
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
    message = _message(training_pb2.OptunaSettings, {
        **{field: (f"{OPTUNA_PATH}.{key}", settings[key])
           for key, field in OPTUNA_KEYS.items() if settings[key] is not None},
        **{field: (f"{OPTUNA_PATH}.early_stopping.{key}", settings["early_stopping"][key])
           for key, field in OPTUNA_STOPPING_KEYS.items()},
    })
    if settings["storage"].get("url"):
        set_field(message, "storage_url", settings["storage"]["url"], f"{OPTUNA_PATH}.storage.url")
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
        message.parameter_config[name].CopyFrom(_message(training_pb2.ParameterRange, {
            k: (f"{CONFIG_PATH}.{name}.{k}", v) for k, v in entry.items() if v is not None}))
    return message


def _initial_values(fp: Mapping[str, Any]) -> training_pb2.InitialValues:
    message = training_pb2.InitialValues()
    fields = message.DESCRIPTOR.fields_by_name
    for key, field in INITIAL_VALUE_FIELDS.items():
        value = fp[key]
        try:
            if field == "weights_logits":
                values = value if isinstance(value, (list, tuple)) else [value]
                message.weights_logits.extend(float(v) for v in values)
            else:
                setattr(message, field, float(value))
        except (TypeError, ValueError) as error:
            raise wrong_type(key, fields[field], value) from error
    return message


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
    _check_unsupported(settings, defaults, {*GRADIENT_KEYS, *COMMON_KEYS, *HANDLED, *NO_EFFECT},
                       "optimisation_settings")
    for key, effect in NO_EFFECT.items():
        if settings.get(key) != defaults[key]:
            log.info("setting accepted without effect", key=f"optimisation_settings.{key}",
                     value=settings.get(key), effect=effect)
    message = _message(training_pb2.TrainingSettings, {
        "bout_offset_minutes": ("bout_offset", _whole(fp["bout_offset"])),
        **{field: (f"optimisation_settings.{key}", settings[key])
           for key, field in COMMON_KEYS.items()},
    })
    message.method = METHODS[method_of(fp)]
    message.gradient_descent.CopyFrom(_message(training_pb2.GradientDescentSettings, {
        key: (f"optimisation_settings.{key}", settings[key])
        for key in GRADIENT_KEYS if settings.get(key) is not None}))
    message.optuna.CopyFrom(_optuna(settings["optuna_settings"], given_config or {}))
    message.initial_values.CopyFrom(_initial_values(fp))
    if report_every is not None:
        set_field(message, "report_every", _whole(report_every), "iterations_per_print")
    return message
