"""The reference's run-fingerprint dict <-> ``quantamm.v1.RunFingerprint``.

Keys are the reference simulator's (``chunk_period``, ``startDateString``, ...); proto fields
carry units in their names (``chunk_period_minutes``, ``start_time``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from google.protobuf import timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from quantamm.core import training
from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT, FingerprintError
from quantamm_api.v1 import types_pb2

# reference key -> proto field, for the optional scalar settings
SETTING_FIELDS: dict[str, str] = {
    "chunk_period": "chunk_period_minutes",
    "weight_interpolation_period": "weight_interpolation_period_minutes",
    "weight_interpolation_method": "weight_interpolation_method",
    "maximum_change": "maximum_change_per_minute",
    "minimum_weight": "minimum_weight",
    "max_memory_days": "max_memory_days",
    "use_alt_lamb": "use_alt_lamb",
    "use_pre_exp_scaling": "use_pre_exp_scaling",
    "initial_pool_value": "initial_pool_value_usd",
    "fees": "fees",
    "gas_cost": "gas_cost_usd",
    "arb_fees": "arb_fees",
    "arb_frequency": "arb_frequency_minutes",
    "arb_quality": "arb_quality",
    "do_arb": "do_arb",
    "noise_trader_ratio": "noise_trader_ratio",
    "protocol_fee_split": "protocol_fee_split",
    "numeraire": "numeraire",
    "return_val": "return_val",
    "use_fused_reserves": "use_fused_reserves",
    "ste_max_change": "ste_max_change",
    "ste_min_max_weight": "ste_min_max_weight",
    "turnover_penalty": "turnover_penalty",
    "price_noise_sigma": "price_noise_sigma",
    "weight_rule_causal": "weight_rule_causal",
}
# reference key -> proto field, for the dates
DATE_FIELDS: dict[str, str] = {
    "startDateString": "start_time",
    "endDateString": "end_time",
    "endTestDateString": "end_test_time",
}
# reference key -> proto field, for every field
PROTO_FIELD_OF: dict[str, str] = {**SETTING_FIELDS, **DATE_FIELDS}
# proto field -> reference key, for every field
REFERENCE_KEY_OF: dict[str, str] = {field: key for key, field in PROTO_FIELD_OF.items()}
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def date_to_timestamp(text: str) -> timestamp_pb2.Timestamp:
    """'YYYY-MM-DD HH:MM:SS' (UTC) -> Timestamp."""
    moment = dt.datetime.strptime(text, DATE_FORMAT).replace(tzinfo=dt.timezone.utc)
    return timestamp_pb2.Timestamp(seconds=int(moment.timestamp()))


def timestamp_to_date(stamp: timestamp_pb2.Timestamp) -> str:
    """Timestamp -> 'YYYY-MM-DD HH:MM:SS' (UTC)."""
    moment = dt.datetime.fromtimestamp(stamp.seconds, dt.timezone.utc)
    return moment.strftime(DATE_FORMAT)


_KIND_OF_TYPE = {  # FieldDescriptor.cpp_type -> what a value must be, in a user's words
    FieldDescriptor.CPPTYPE_BOOL: "bool",
    FieldDescriptor.CPPTYPE_INT32: "int", FieldDescriptor.CPPTYPE_INT64: "int",
    FieldDescriptor.CPPTYPE_UINT32: "int", FieldDescriptor.CPPTYPE_UINT64: "int",
    FieldDescriptor.CPPTYPE_FLOAT: "number", FieldDescriptor.CPPTYPE_DOUBLE: "number",
    FieldDescriptor.CPPTYPE_STRING: "str", FieldDescriptor.CPPTYPE_ENUM: "enum name",
}


def wrong_type(key: str, field: FieldDescriptor, value: Any) -> FingerprintError:
    """The typed error for a value protobuf refused for ``field`` (TypeError / ValueError),
    naming the user's ``key``: ``ste_max_change: must be a bool, got 0.1``."""
    kind = _KIND_OF_TYPE.get(field.cpp_type, str(field.type))
    repeated = getattr(field, "is_repeated", None)
    if repeated is None:  # older protobuf
        repeated = field.label == FieldDescriptor.LABEL_REPEATED
    if repeated:
        return FingerprintError(key, f"must be a list of {kind} values, got {value!r}")
    article = "an" if kind[0] in "aeiou" else "a"
    return FingerprintError(key, f"must be {article} {kind}, got {value!r}")


def set_field(message: Message, field: str, value: Any, key: str) -> None:
    """``message.field = value``; a value of the wrong Python type (a float for a bool or int
    field, a str for a number) is a FingerprintError naming ``key``, not protobuf's bare
    TypeError."""
    try:
        setattr(message, field, value)
    except (TypeError, ValueError) as error:
        raise wrong_type(key, message.DESCRIPTOR.fields_by_name[field], value) from error


def to_proto(reference: Mapping[str, Any]) -> types_pb2.RunFingerprint:
    """The simulation settings of a reference fingerprint dict as a RunFingerprint (keys that
    only concern training are ignored here; None means "server default"). A value of the wrong
    type is a FingerprintError naming its key."""
    fp = types_pb2.RunFingerprint()
    rule = reference.get("rule")
    set_field(fp, "rule", "" if rule is None else rule, "rule")
    try:
        tokens = reference.get("tokens", [])
        if isinstance(tokens, (str, bytes)):
            raise TypeError("a string, not a list of token names")
        fp.tokens.extend(list(tokens))
    except (TypeError, ValueError) as error:
        raise wrong_type("tokens", fp.DESCRIPTOR.fields_by_name["tokens"],
                         reference.get("tokens")) from error
    for key, field in DATE_FIELDS.items():
        if reference.get(key) is not None:
            try:
                stamp = date_to_timestamp(reference[key])
            except (TypeError, ValueError) as error:
                raise FingerprintError(key, f"must be a 'YYYY-MM-DD HH:MM:SS' string, got "
                                            f"{reference[key]!r}") from error
            getattr(fp, field).CopyFrom(stamp)
    for key, field in SETTING_FIELDS.items():
        if reference.get(key) is not None:
            set_field(fp, field, reference[key], key)
    return fp


def from_proto(fp: types_pb2.RunFingerprint) -> dict[str, Any]:
    """The fields set in a RunFingerprint as a reference fingerprint dict."""
    reference: dict[str, Any] = {"tokens": list(fp.tokens), "rule": fp.rule}
    for key, field in DATE_FIELDS.items():
        if fp.HasField(field):
            reference[key] = timestamp_to_date(getattr(fp, field))
    for key, field in SETTING_FIELDS.items():
        if fp.HasField(field):
            reference[key] = getattr(fp, field)
    return reference


def setting(fp: types_pb2.RunFingerprint, key: str) -> Any:
    """The value of the reference key ``key`` in ``fp``: the field when set, else the default
    (``DEFAULT_RUN_FINGERPRINT``)."""
    field = SETTING_FIELDS[key]
    return getattr(fp, field) if fp.HasField(field) else DEFAULT_RUN_FINGERPRINT[key]


def _settings_keys() -> dict[str, str]:
    """TrainingSettings field path -> the reference's key path (``optimisation_settings...``)."""
    optimisation, optuna = "optimisation_settings", "optimisation_settings.optuna_settings"
    paths = {f"settings.gradient_descent.{key}": f"{optimisation}.{key}"
             for key in training.GRADIENT_KEYS}
    paths.update({f"settings.{field}": f"{optimisation}.{key}"
                  for key, field in training.COMMON_KEYS.items()})
    paths.update({f"settings.optuna.{field}": f"{optuna}.{key}"
                  for key, field in training.OPTUNA_KEYS.items()})
    paths.update({f"settings.optuna.{field}": f"{optuna}.early_stopping.{key}"
                  for key, field in training.OPTUNA_STOPPING_KEYS.items()})
    paths.update({f"settings.initial_values.{field}": key
                  for key, field in training.INITIAL_VALUE_FIELDS.items()})
    paths.update({"settings.bout_offset_minutes": "bout_offset",
                  "settings.optuna.parameter_config": f"{optuna}.parameter_config",
                  "settings.method": f"{optimisation}.method"})
    paths.update({f"fingerprint.{field}": key for field, key in REFERENCE_KEY_OF.items()})
    return paths


_REFERENCE_PATHS = _settings_keys()


def reference_path(field: str) -> str:
    """A request field path in the user's own key names, for calls made with the reference's
    settings dict: ``fingerprint.end_time`` -> ``endDateString``,
    ``settings.gradient_descent.base_lr`` -> ``optimisation_settings.base_lr``; the longest
    known prefix is renamed and the rest kept; unknown paths are returned as they are."""
    for cut in sorted({len(p) for p in _REFERENCE_PATHS if field.startswith(p)}, reverse=True):
        rest = field[cut:]
        if not rest or rest[0] in ".[":
            return _REFERENCE_PATHS[field[:cut]] + rest
    return field
