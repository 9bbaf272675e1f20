"""protobuf requests -> engine inputs (validated, errors naming the request field) and back."""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable, Mapping, Sequence

import grpc
import numpy as np
import pandas as pd
from google.protobuf import timestamp_pb2

from quantamm_api.v1 import simulation_pb2, types_pb2
from quantamm.wire import fingerprints
from quantamm.wire.tensors import from_tensor
from quantamm.core import parameters
from quantamm.core import rules as rule_specs
from sim_service.data.device import DeviceDataset
from sim_service.datasets import DatasetRegistry
from sim_service.engine import metrics, pools, rules, simulation, weights, windows
from sim_service.engine.compat import minute_inputs
from sim_service.engine.fee_reserves import DynamicInputs
from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT, fill_defaults
from quantamm.wire.errors import RequestError, as_request_error, invalid, not_found


Check = tuple[Callable[[Any, int], bool], str]
CHECKS: dict[str, Check] = {
    "chunk_period_minutes": (lambda v, n: 1 <= v <= 1440 * 30, "must be 1 .. 43200 minutes"),
    "weight_interpolation_period_minutes": (lambda v, n: v >= 1, "must be >= 1 minute"),
    "weight_interpolation_method": (
        lambda v, n: v in weights.INTERPOLATION_METHODS,
        f"must be one of {', '.join(weights.INTERPOLATION_METHODS)}",
    ),
    "maximum_change_per_minute": (lambda v, n: 0 < v <= 1, "must be in (0, 1]"),
    "minimum_weight": (lambda v, n: 0 < v < 1 / n, "must be in (0, 1 / n_assets)"),
    "max_memory_days": (lambda v, n: 0 < v <= 3650, "must be in (0, 3650] days"),
    "initial_pool_value_usd": (lambda v, n: 0 < v < 1e15, "must be > 0 (and < 1e15)"),
    "fees": (lambda v, n: 0 <= v < 1, "must be in [0, 1)"),
    "gas_cost_usd": (lambda v, n: v >= 0, "must be >= 0"),
    "arb_fees": (lambda v, n: 0 <= v < 1, "must be in [0, 1)"),
    "arb_frequency_minutes": (lambda v, n: v >= 1, "must be >= 1"),
    "arb_quality": (lambda v, n: 0 <= v <= 1, "must be in [0, 1]"),
    "noise_trader_ratio": (lambda v, n: v >= 0, "must be >= 0"),
    "protocol_fee_split": (lambda v, n: 0 <= v <= 1, "must be in [0, 1]"),
    "return_val": (lambda v, n: v in metrics.RETURN_VALS, "unknown metric; see RETURN_VALS"),
    "turnover_penalty": (lambda v, n: v >= 0, "must be >= 0"),
    "price_noise_sigma": (lambda v, n: v >= 0, "must be >= 0"),
}
# Settings accepted by the API whose engine paths are not available yet: value -> unsupported.
NOT_YET: dict[str, Callable[[Any], bool]] = {
    "turnover_penalty": lambda v: v > 0,
    "price_noise_sigma": lambda v: v > 0,
}
# Engine-space (log, logit, squareplus) parameters: beyond this magnitude they saturate to inf/NaN.
RAW_PREFIXES = ("log", "logit", "sp_", "raw_")
MAX_RAW = 1000.0


def timestamp_to_date(stamp: timestamp_pb2.Timestamp, field: str) -> str:
    if stamp.nanos or stamp.seconds % 60:
        raise invalid(field, "must be a whole minute")
    return windows.format_unix_ms(stamp.seconds * 1000)


def date_to_timestamp(unix_ms: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=unix_ms // 1000)


def fingerprint_to_reference(fp: types_pb2.RunFingerprint) -> dict[str, Any]:
    """A validated RunFingerprint as the reference's settings dict (defaults filled)."""
    prefix = "fingerprint."
    tokens = list(fp.tokens)
    if not tokens or any(not t.strip() for t in tokens):
        raise invalid(prefix + "tokens", "name at least one non-empty token")
    if len(set(tokens)) != len(tokens):
        raise invalid(prefix + "tokens", f"duplicate tokens in {tokens}")
    if not fp.rule:
        raise invalid(prefix + "rule", f"required; one of {', '.join(rules.names())}")
    if fp.rule not in rules.registry():
        raise not_found(prefix + "rule",
                        f"unknown rule {fp.rule!r}; one of {', '.join(rules.names())}")
    reference: dict[str, Any] = {"tokens": tokens, "rule": fp.rule}
    for key, field in fingerprints.DATE_FIELDS.items():
        if fp.HasField(field):
            reference[key] = timestamp_to_date(getattr(fp, field), prefix + field)
        elif field != "end_test_time":
            raise invalid(prefix + field, "required")
    if fp.end_time.ToSeconds() <= fp.start_time.ToSeconds() + 60:
        raise invalid(prefix + "end_time", "must be at least two minutes after start_time")
    if fp.HasField("end_test_time") and fp.end_test_time.ToSeconds() <= fp.end_time.ToSeconds() + 60:
        raise invalid(prefix + "end_test_time", "must be at least two minutes after end_time")
    for key, field in fingerprints.SETTING_FIELDS.items():
        if not fp.HasField(field):
            continue
        value = getattr(fp, field)
        if isinstance(value, float) and not math.isfinite(value):
            raise invalid(prefix + field, f"must be finite, got {value}")
        check = CHECKS.get(field)
        if check and not check[0](value, len(tokens)):
            raise invalid(prefix + field, f"{check[1]}, got {value!r}")
        if field in NOT_YET and NOT_YET[field](value):
            raise RequestError(grpc.StatusCode.UNIMPLEMENTED, prefix + field,
                               "non-zero values are not supported by this server version yet")
        reference[key] = value
    try:
        return fill_defaults(reference)
    except ValueError as error:
        mapped = as_request_error(error)
        if mapped is None:
            raise
        raise invalid(prefix + fingerprints.PROTO_FIELD_OF.get(mapped.field, mapped.field),
                      str(error).split(": ", 1)[-1]) from error


def _parameter_array(tensor: types_pb2.Tensor, field: str, n_assets: int) -> np.ndarray:
    """One parameter tensor -> float64 [n_assets] (a [1] or scalar tensor is repeated)."""
    array = from_tensor(tensor, field)
    if array.dtype.kind not in "fi":
        raise invalid(field, f"must be a float tensor, got {array.dtype}")
    if array.size not in (1, n_assets) or array.ndim > 1:
        raise invalid(field, f"must have shape [{n_assets}] or [1], got {list(array.shape)}")
    return np.broadcast_to(array.astype(np.float64).reshape(-1), (n_assets,))


def _stacked_parameter(tensors: Sequence[types_pb2.Tensor], fields: Sequence[str],
                       n_assets: int) -> np.ndarray:
    """One key's tensor from every set -> float64 [S, n_assets]. The common case (float64
    tensors of shape [n_assets]) is read as one buffer; others go through ``_parameter_array``."""
    size = 8 * n_assets
    if all(t.dtype == types_pb2.DATA_TYPE_FLOAT64 and len(t.data) == size
           and len(t.shape) == 1 for t in tensors):
        array = np.frombuffer(b"".join(t.data for t in tensors), "<f8")
        array = array.reshape(len(tensors), n_assets)
    else:
        array = np.stack([_parameter_array(t, f, n_assets) for t, f in zip(tensors, fields)])
    _refuse_rows(~np.isfinite(array).all(axis=1), array, fields, "must be finite")
    return array


def _refuse_rows(bad: np.ndarray, array: np.ndarray, fields: Sequence[str], problem: str) -> None:
    """INVALID_ARGUMENT naming the first set whose row of ``array`` is ``bad`` [S]."""
    if bad.any():
        row = int(np.argmax(bad))
        raise invalid(fields[row], f"{problem}, got {array[row].tolist()}")


def _out_of_range(spec: rule_specs.RuleSpec, key: str,
                  values: np.ndarray) -> tuple[np.ndarray, str]:
    """([S, n] bool: entries outside the valid range of parameter ``key``, the range)."""
    if key in rule_specs.HUMAN_KEYS:
        return rule_specs.human_value_problem(spec, key, values)
    if key.startswith(RAW_PREFIXES):
        return np.abs(values) > MAX_RAW, f"must be in [-{MAX_RAW:g}, {MAX_RAW:g}]"
    return np.zeros(values.shape, dtype=bool), ""


def initial_parameters(fp: Mapping[str, Any], n_assets: int) -> dict[str, np.ndarray]:
    """The fingerprint's initial values as engine params [n] per key."""
    defaults = parameters.base_parameters(rules.get(fp["rule"]), fp, fp["chunk_period"],
                                          n_assets, 1)
    return {key: value[0] for key, value in defaults.items()}


def initial_parameter_set(request: simulation_pb2.GetInitialParametersRequest,
                          ) -> dict[str, np.ndarray]:
    """A GetInitialParametersRequest -> the rule's un-noised initial set, [n] per key."""
    if request.rule not in rules.registry():
        raise not_found("rule", f"unknown rule {request.rule!r}; one of {', '.join(rules.names())}")
    spec = rules.get(request.rule)
    n_assets = request.n_assets
    if n_assets < 1 or (spec.n_assets is not None and n_assets != spec.n_assets):
        want = spec.n_assets if spec.n_assets is not None else ">= 1"
        raise invalid("n_assets", f"{spec.name} needs {want} assets, got {n_assets}")
    chunk_period = request.chunk_period_minutes if request.HasField("chunk_period_minutes") \
        else DEFAULT_RUN_FINGERPRINT["chunk_period"]
    if not CHECKS["chunk_period_minutes"][0](chunk_period, n_assets):
        raise invalid("chunk_period_minutes",
                      f"{CHECKS['chunk_period_minutes'][1]}, got {chunk_period}")
    values = {}
    for key, tensor in request.initial_values.items():
        field = f"initial_values[{key!r}]"
        if key not in rule_specs.INITIAL_KEYS:
            raise invalid(field, f"not an initial value; valid: {', '.join(rule_specs.INITIAL_KEYS)}")
        values[key] = _parameter_array(tensor, field, n_assets)
        if not np.all(np.isfinite(values[key])):
            raise invalid(field, f"must be finite, got {values[key].tolist()}")
    base = parameters.base_parameters(spec, values, chunk_period, n_assets, 1)
    return {key: value[0] for key, value in base.items()}


def _convert_sets(sets: Sequence[types_pb2.ParameterSet], indices: Sequence[int],
                  names: Sequence[str], fp: Mapping[str, Any], n_assets: int, field: str,
                  defaults: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The sets at ``indices``, all naming ``names``, -> engine params [len(indices), n]."""
    spec = rules.get(fp["rule"])
    arrays = {}
    for key in names:
        fields = [f"{field}[{i}].values[{key!r}]" for i in indices]
        arrays[key] = _stacked_parameter([sets[i].values[key] for i in indices], fields, n_assets)
        bad, problem = _out_of_range(spec, key, arrays[key])
        _refuse_rows(np.any(bad, axis=1), arrays[key], fields, problem)
    missing = [key for key in spec.required_keys if key not in arrays]
    if missing:
        raise invalid(f"{field}[{indices[0]}].values",
                      f"{spec.name} needs {', '.join(missing)} (no defaults)")
    try:
        engine = rule_specs.human_to_params(spec, arrays, n_assets, fp["chunk_period"])
    except ValueError as error:
        raise invalid(f"{field}[{indices[0]}].values", str(error)) from error
    shape = (len(indices), n_assets)
    return {key: np.broadcast_to(value, shape)
            for key, value in {**defaults, **engine}.items()}


def stack_parameter_sets(sets: Sequence[types_pb2.ParameterSet], fp: Mapping[str, Any],
                         n_assets: int, field: str,
                         defaults: Mapping[str, np.ndarray] | None = None,
                         ) -> dict[str, np.ndarray]:
    """Repeated ParameterSet -> engine params [S, n] per key (sorted keys). Names are schema
    keys, alternative engine keys or human-unit keys (``quantamm.core.rules.human_to_params``); missing
    keys take ``defaults`` [n] per key (the fingerprint's initial values when None); unknown
    ones are refused with the valid ones. Sets naming the same keys are converted together (one
    array operation per key)."""
    if not sets:
        raise invalid(field, "give at least one parameter set")
    rule = fp["rule"]
    allowed = rules.get(rule).accepted_keys
    groups: dict[frozenset[str], list[int]] = {}
    for i, parameter_set in enumerate(sets):
        for key in parameter_set.values:
            if key not in allowed:
                raise invalid(f"{field}[{i}].values[{key!r}]",
                              f"not a parameter of {rule}; valid: {', '.join(sorted(allowed))}")
        groups.setdefault(frozenset(parameter_set.values), []).append(i)
    if defaults is None:
        defaults = initial_parameters(fp, n_assets)
    converted = [(indices, _convert_sets(sets, indices, sorted(names), fp, n_assets, field,
                                         defaults))
                 for names, indices in groups.items()]
    keys = sorted(converted[0][1])
    if len(converted) == 1:
        return {key: converted[0][1][key] for key in keys}
    stacked = {key: np.empty((len(sets), n_assets)) for key in keys}
    for indices, engine in converted:
        if sorted(engine) != keys:
            raise invalid(f"{field}[{indices[0]}]", "every set must give the same parameters "
                          f"({', '.join(keys)} after conversion and defaults)")
        for key in keys:
            stacked[key][indices] = engine[key]
    return stacked


@dataclasses.dataclass(frozen=True)
class Run:
    """A resolved request: settings, token order, device prices of the slice, window plan."""

    fingerprint: dict[str, Any]
    tokens: list[str]
    data: DeviceDataset
    plan: windows.WindowPlan
    config: simulation.SimConfig

    @property
    def prices(self):
        return self.data.rows(self.plan.first_row, self.plan.last_row)[0]

    @property
    def log_prices(self):
        return self.data.rows(self.plan.first_row, self.plan.last_row)[1]

    @functools.cached_property
    def initial_parameters(self) -> dict[str, np.ndarray]:
        """The fingerprint's initial values, engine params [n] per key (computed once a run)."""
        return initial_parameters(self.fingerprint, len(self.tokens))

    def parameter_sets(self, sets: Sequence[types_pb2.ParameterSet],
                       field: str) -> dict[str, np.ndarray]:
        """``stack_parameter_sets`` for this run's fingerprint and tokens."""
        return stack_parameter_sets(sets, self.fingerprint, len(self.tokens), field,
                                    self.initial_parameters)

    def unix_ms(self, row_in_slice: int) -> int:
        return self.data.series.unix_ms_at(self.plan.first_row + row_in_slice)


def resolve_run(
    registry: DatasetRegistry, dataset: str, fp_proto, end_key: str = "endDateString",
    window_minutes: int | None = None,
) -> Run:
    """Validate the fingerprint, select the dataset's tokens, and plan the slice from the start
    to ``fp[end_key]``; windows of ``window_minutes`` (default: the whole span) are checked to
    have the rule's last chunk inside the data."""
    fp = fingerprint_to_reference(fp_proto)
    if end_key == "endTestDateString" and fp["endTestDateString"] is None:
        end_key = "endDateString"
    tokens = sorted(fp["tokens"])
    data = registry.select(dataset or "default", tokens)
    series = data.series
    try:
        start_row = windows.row_of(windows.parse_date(fp["startDateString"], "start_time"),
                                   series.start_unix_ms, series.n_minutes, "start_time")
        end_field = fingerprints.PROTO_FIELD_OF[end_key]
        end_row = windows.row_of(windows.parse_date(fp[end_key], end_field),
                                 series.start_unix_ms, series.n_minutes, end_field)
        span = end_row - start_row + 1
        if window_minutes is not None and window_minutes > span - 1:
            raise invalid("window_length_minutes",
                          f"{window_minutes} minutes is longer than the fingerprint's period "
                          f"({span - 1} minutes)")
        config = pools.sim_config(fp, len(tokens), bout_length=(window_minutes or span - 1) + 1)
        plan = windows.plan_window(start_row, end_row, series.n_minutes, fp["max_memory_days"],
                                   config.min_price_rows)
    except windows.WindowError as error:
        field = fingerprints.PROTO_FIELD_OF.get(error.field, error.field)
        raise invalid("fingerprint." + field, str(error).split(": ", 1)[-1]) from error
    except ValueError as error:
        raise invalid("fingerprint", str(error)) from error
    return Run(fp, tokens, data, plan, config)


# proto MinuteInputs field -> the engine runner's table name
MINUTE_TABLES = {"fees": "fees", "gas_cost_usd": "gas_cost", "arb_fees": "arb_fees"}
# the runner's error fields -> MinuteInputs fields
MINUTE_ERROR_FIELDS = {"fees_df": "fees", "gas_cost_df": "gas_cost_usd",
                       "arb_fees_df": "arb_fees", "raw_trades": "trades"}


def _vector(tensor: types_pb2.Tensor, field: str, kind: str, length: int | None) -> np.ndarray:
    array = from_tensor(tensor, field)
    if array.ndim != 1 or array.dtype.kind != kind or (length is not None and
                                                       array.size != length):
        want = f"[{length if length is not None else 'K'}] {'int64' if kind == 'i' else 'float64'}"
        raise invalid(field, f"must be a {want} tensor, got {list(array.shape)} {array.dtype}")
    return array


def minute_dynamic(run: Run, inputs: simulation_pb2.MinuteInputs) -> DynamicInputs | None:
    """The per-minute inputs of a Simulate request on the run's minute grid (None: none given)."""
    tables: dict[str, Any] = {}
    for field, key in MINUTE_TABLES.items():
        if inputs.HasField(field):
            series = getattr(inputs, field)
            prefix = f"minute_inputs.{field}"
            times = _vector(series.unix_ms, f"{prefix}.unix_ms", "i", None)
            values = _vector(series.values, f"{prefix}.values", "f", times.size)
            tables[key] = pd.DataFrame({"unix": times, "value": values})
    trades = None
    if inputs.HasField("trades"):
        prefix = "minute_inputs.trades"
        times = _vector(inputs.trades.unix_ms, f"{prefix}.unix_ms", "i", None)
        amounts = _vector(inputs.trades.amount_in, f"{prefix}.amount_in", "f", times.size)
        if not len(inputs.trades.token_in) == len(inputs.trades.token_out) == times.size:
            raise invalid(prefix, f"token_in, token_out and unix_ms need {times.size} entries each")
        if not np.all(np.isfinite(amounts)) or np.any(amounts < 0):
            raise invalid(f"{prefix}.amount_in", "amounts must be finite and >= 0")
        trades = pd.DataFrame({"unix": times, "token_in": list(inputs.trades.token_in),
                               "token_out": list(inputs.trades.token_out), "amount_in": amounts})
    if not tables and trades is None:
        return None
    try:
        return minute_inputs(run.data, run.plan, run.config, tables, trades)
    except ValueError as error:
        field = MINUTE_ERROR_FIELDS.get(getattr(error, "field", ""), "")
        raise invalid(f"minute_inputs.{field}".rstrip("."),
                      str(error).split(": ", 1)[-1]) from error
