"""protobuf requests -> engine inputs (validated, errors naming the request field) and back."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Mapping, Sequence

import grpc
import numpy as np
from google.protobuf import timestamp_pb2

from quantamm_api.v1 import simulation_pb2, types_pb2
from quantamm.wire import fingerprints
from quantamm.wire.tensors import from_tensor
from quantamm.core import parameters
from quantamm.core import rules as rule_specs
from sim_service.device import DeviceDataset
from sim_service.datasets import DatasetRegistry
from sim_service.engine import pools, rules, simulation, windows
from quantamm.data.errors import DataError
from quantamm.data.minute_inputs import trade_rows_on_grid, values_on_grid
from sim_service.compat import dynamic_inputs
from sim_service.engine.fee_reserves import DynamicInputs
from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT
from quantamm.core.runs import CHECKS as run_checks
from quantamm.core.runs import RunSpec
from quantamm.wire.errors import RequestError, as_request_error, invalid, not_found


# Engine-space (log, logit, squareplus) parameters: beyond this magnitude they saturate to inf/NaN.
RAW_PREFIXES = ("log", "logit", "sp_", "raw_")
MAX_RAW = 1000.0


def timestamp_to_date(stamp: timestamp_pb2.Timestamp, field: str) -> str:
    if stamp.nanos or stamp.seconds % 60:
        raise invalid(field, "must be a whole minute")
    return windows.format_unix_ms(stamp.seconds * 1000)


def date_to_timestamp(unix_ms: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=unix_ms // 1000)


def run_spec_of(fp: types_pb2.RunFingerprint) -> RunSpec:
    """A validated RunFingerprint as a RunSpec (defaults filled; INVALID_ARGUMENT naming the
    field otherwise)."""
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
    given: dict[str, Any] = {"tokens": tokens, "rule": fp.rule}
    for key, field in fingerprints.DATE_FIELDS.items():
        if fp.HasField(field):
            given[key] = timestamp_to_date(getattr(fp, field), prefix + field)
        elif field != "end_test_time":
            raise invalid(prefix + field, "required")
    if fp.end_time.ToSeconds() <= fp.start_time.ToSeconds() + 60:
        raise invalid(prefix + "end_time", "must be at least two minutes after start_time")
    if fp.HasField("end_test_time") and fp.end_test_time.ToSeconds() <= fp.end_time.ToSeconds() + 60:
        raise invalid(prefix + "end_test_time", "must be at least two minutes after end_time")
    given.update({key: getattr(fp, field) for key, field in fingerprints.SETTING_FIELDS.items()
                  if fp.HasField(field)})
    try:
        return RunSpec.from_settings(given)
    except ValueError as error:
        mapped = as_request_error(error)
        if mapped is None:
            raise
        raise invalid(prefix + fingerprints.PROTO_FIELD_OF.get(mapped.field, mapped.field),
                      mapped.message) from error


def _parameter_array(tensor: types_pb2.Tensor, field: str, shape: tuple[int, ...]) -> np.ndarray:
    """One parameter tensor -> float64 ``shape`` ([n], or [rows, n] for a multi-row parameter):
    a [1] or scalar tensor is repeated, a [rows, 1] one repeated along each row."""
    array = from_tensor(tensor, field)
    if array.dtype.kind not in "fi":
        raise invalid(field, f"must be a float tensor, got {array.dtype}")
    array = array.astype(np.float64)
    if array.size == 1:
        return np.broadcast_to(array.reshape(-1)[0], shape)
    if array.ndim != len(shape) or array.shape[:-1] != shape[:-1] \
            or array.shape[-1] not in (1, shape[-1]):
        allowed = f"[{shape[0]}] or [1]" if len(shape) == 1 else \
            f"[{shape[0]}, {shape[1]}], [{shape[0]}, 1] or [1]"
        raise invalid(field, f"must have shape {allowed}, got {list(array.shape)}")
    return np.broadcast_to(array, shape)


def _stacked_parameter(tensors: Sequence[types_pb2.Tensor], fields: Sequence[str],
                       shape: tuple[int, ...]) -> np.ndarray:
    """One key's tensor from every set -> float64 [S, *shape]. The common case (float64
    tensors of shape [n_assets]) is read as one buffer; others go through ``_parameter_array``."""
    size = 8 * shape[-1]
    if len(shape) == 1 and all(t.dtype == types_pb2.DATA_TYPE_FLOAT64 and len(t.data) == size
                               and len(t.shape) == 1 for t in tensors):
        array = np.frombuffer(b"".join(t.data for t in tensors), "<f8")
        array = array.reshape(len(tensors), *shape)
    else:
        array = np.stack([_parameter_array(t, f, shape) for t, f in zip(tensors, fields)])
    return array


def _refuse_rows(bad: np.ndarray, array: np.ndarray, fields: Sequence[str], problem: str) -> None:
    """INVALID_ARGUMENT naming the first set whose row of ``array`` is ``bad`` (any entry of
    ``bad`` [S, ...] in that set)."""
    bad = bad.reshape(len(bad), -1).any(axis=1)
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


def initial_parameters(run: RunSpec, n_assets: int) -> dict[str, np.ndarray]:
    """The run's initial values as engine params [n] per key."""
    defaults = parameters.base_parameters(rules.get(run.rule), run.initial_values,
                                          run.chunk_period, n_assets, 1)
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
    valid, rule = run_checks["chunk_period"]
    if not valid(chunk_period, n_assets):
        raise invalid("chunk_period_minutes", f"{rule}, got {chunk_period}")
    values = {}
    for key, tensor in request.initial_values.items():
        field = f"initial_values[{key!r}]"
        if key not in rule_specs.INITIAL_KEYS:
            raise invalid(field, f"not an initial value; valid: {', '.join(rule_specs.INITIAL_KEYS)}")
        values[key] = _parameter_array(tensor, field, (n_assets,))
        if not np.all(np.isfinite(values[key])):
            raise invalid(field, f"must be finite, got {values[key].tolist()}")
    base = parameters.base_parameters(spec, values, chunk_period, n_assets, 1)
    return {key: value[0] for key, value in base.items()}


def _convert_arrays(arrays: Mapping[str, np.ndarray], fields: Mapping[str, Sequence[str]],
                    set_field: str, run: RunSpec, n_assets: int,
                    defaults: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Given parameters [S, n] per name (``fields[name][s]``: the request field of row s;
    ``set_field``: the field of the sets as a whole) -> engine params [S, n] per key, range
    checks and human units applied, missing keys from ``defaults`` [n]."""
    spec = rules.get(run.rule)
    for key, array in arrays.items():
        _refuse_rows(~np.isfinite(array), array, fields[key], "must be finite")
        bad, problem = _out_of_range(spec, key, array)
        _refuse_rows(bad, array, fields[key], problem)
    missing = [key for key in spec.required_keys if key not in arrays]
    if missing:
        raise invalid(set_field, f"{spec.name} needs {', '.join(missing)} (no defaults)")
    try:
        engine = rule_specs.human_to_params(spec, arrays, n_assets, run.chunk_period)
    except ValueError as error:
        raise invalid(set_field, str(error)) from error
    n_sets = next(iter(arrays.values())).shape[0] if arrays else 1
    return {key: np.broadcast_to(value, (n_sets, *spec.value_shape(key, n_assets)))
            for key, value in {**defaults, **engine}.items()}


def _refuse_unknown(names: Sequence[str], rule: str, field_of: Callable[[str], str]) -> None:
    allowed = rules.get(rule).accepted_keys
    for key in names:
        if key not in allowed:
            raise invalid(field_of(key),
                          f"not a parameter of {rule}; valid: {', '.join(sorted(allowed))}")


def stack_parameter_sets(sets: Sequence[types_pb2.ParameterSet], run: RunSpec,
                         n_assets: int, field: str,
                         defaults: Mapping[str, np.ndarray] | None = None,
                         ) -> dict[str, np.ndarray]:
    """Repeated ParameterSet -> engine params [S, n] per key (sorted keys). Names are schema
    keys, alternative engine keys or human-unit keys (``quantamm.core.rules.human_to_params``);
    missing keys take ``defaults`` [n] per key (the fingerprint's initial values when None);
    unknown ones are refused with the valid ones. Sets naming the same keys are converted
    together (one array operation per key)."""
    if not sets:
        raise invalid(field, "give at least one parameter set")
    groups: dict[frozenset[str], list[int]] = {}
    for i, parameter_set in enumerate(sets):
        _refuse_unknown(list(parameter_set.values), run.rule,
                        lambda key, i=i: f"{field}[{i}].values[{key!r}]")
        groups.setdefault(frozenset(parameter_set.values), []).append(i)
    if defaults is None:
        defaults = initial_parameters(run, n_assets)
    converted = []
    for names, indices in groups.items():
        fields = {key: [f"{field}[{i}].values[{key!r}]" for i in indices] for key in names}
        spec = rules.get(run.rule)
        arrays = {key: _stacked_parameter([sets[i].values[key] for i in indices], fields[key],
                                          spec.value_shape(key, n_assets))
                  for key in sorted(names)}
        converted.append((indices, _convert_arrays(arrays, fields, f"{field}[{indices[0]}].values",
                                                   run, n_assets, defaults)))
    keys = sorted(converted[0][1])
    if len(converted) == 1:
        return {key: converted[0][1][key] for key in keys}
    stacked = {key: np.empty((len(sets), *converted[0][1][key].shape[1:])) for key in keys}
    for indices, engine in converted:
        if sorted(engine) != keys:
            raise invalid(f"{field}[{indices[0]}]", "every set must give the same parameters "
                          f"({', '.join(keys)} after conversion and defaults)")
        for key in keys:
            stacked[key][indices] = engine[key]
    return stacked


def stacked_parameters(message: types_pb2.StackedParameters, run: RunSpec,
                       n_assets: int, field: str,
                       defaults: Mapping[str, np.ndarray] | None = None,
                       ) -> dict[str, np.ndarray]:
    """StackedParameters (name -> [S, n], [S, 1] or [S]) -> engine params [S, n] per key
    (sorted keys), checked and converted as ``stack_parameter_sets``."""
    if not message.values:
        raise invalid(f"{field}.values", "give at least one parameter")
    _refuse_unknown(list(message.values), run.rule,
                    lambda key: f"{field}.values[{key!r}]")
    spec = rules.get(run.rule)
    arrays, n_sets = {}, None
    for key in sorted(message.values):
        name = f"{field}.values[{key!r}]"
        shape = spec.value_shape(key, n_assets)
        array = from_tensor(message.values[key], name)
        if array.dtype.kind not in "fi":
            raise invalid(name, f"must be a float tensor, got {array.dtype}")
        array = array.astype(np.float64)
        array = array[:, None] if array.ndim == 1 else array
        if array.ndim != 1 + len(shape) or array.shape[-1] not in (1, n_assets) \
                or array.shape[1:-1] != shape[:-1] or array.shape[0] < 1:
            want = ", ".join(map(str, shape[:-1]))
            want = f"{want}, " if want else ""
            raise invalid(name, f"must have shape [S, {want}{n_assets}], [S, {want}1] or [S], "
                          f"got {list(message.values[key].shape)}")
        if n_sets is not None and array.shape[0] != n_sets:
            raise invalid(name, f"has {array.shape[0]} sets, the others {n_sets}")
        n_sets = array.shape[0]
        arrays[key] = np.broadcast_to(array, (n_sets, *shape))
    fields = {key: [f"{field}.values[{key!r}][{s}]" for s in range(n_sets)] for key in arrays}
    if defaults is None:
        defaults = initial_parameters(run, n_assets)
    engine = _convert_arrays(arrays, fields, f"{field}.values", run, n_assets, defaults)
    return {key: engine[key] for key in sorted(engine)}


def request_set_count(request: Any) -> int:
    """How many parameter sets an Evaluate / EvaluatePeriods request gives (before conversion,
    for the limits): the stacked tensors' leading size, else the repeated sets."""
    if request.HasField("stacked_parameters"):
        shapes = [list(t.shape) for t in request.stacked_parameters.values.values()]
        return max((shape[0] if shape else 1 for shape in shapes), default=0)
    return len(request.parameter_sets)


@dataclasses.dataclass(frozen=True)
class Run:
    """A resolved request: settings, token order, device prices of the slice, window plan."""

    spec: RunSpec
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
        """The run's initial values, engine params [n] per key (computed once a run)."""
        return initial_parameters(self.spec, len(self.tokens))

    def parameter_sets(self, sets: Sequence[types_pb2.ParameterSet],
                       field: str) -> dict[str, np.ndarray]:
        """``stack_parameter_sets`` for this run's fingerprint and tokens."""
        return stack_parameter_sets(sets, self.spec, len(self.tokens), field,
                                    self.initial_parameters)

    def request_sets(self, request: Any) -> dict[str, np.ndarray]:
        """The parameter sets of an Evaluate / EvaluatePeriods request, given as
        ``parameter_sets`` or ``stacked_parameters`` (one of them), [S, n] per key."""
        if request.HasField("stacked_parameters"):
            if len(request.parameter_sets):
                raise invalid("stacked_parameters", "give parameter_sets or stacked_parameters, "
                              "not both")
            return stacked_parameters(request.stacked_parameters, self.spec,
                                      len(self.tokens), "stacked_parameters",
                                      self.initial_parameters)
        return self.parameter_sets(request.parameter_sets, "parameter_sets")

    def unix_ms(self, row_in_slice: int) -> int:
        return self.data.series.unix_ms_at(self.plan.first_row + row_in_slice)


def resolve_run(
    registry: DatasetRegistry, dataset: str, fp_proto, end_key: str = "endDateString",
    window_minutes: int | None = None,
) -> Run:
    """Validate the fingerprint, select the dataset's tokens, and plan the slice from the start
    to the date ``end_key``; windows of ``window_minutes`` (default: the whole span) are checked
    to have the rule's last chunk inside the data."""
    spec = run_spec_of(fp_proto)
    if end_key == "endTestDateString" and spec.end_test is None:
        end_key = "endDateString"
    tokens = list(spec.tokens)
    data = registry.select(dataset or "default", tokens)
    series = data.series
    try:
        start_row = windows.row_of(windows.parse_date(spec.start, "start_time"),
                                   series.start_unix_ms, series.n_minutes, "start_time")
        end_field = fingerprints.PROTO_FIELD_OF[end_key]
        end_row = windows.row_of(windows.parse_date(spec.date(end_key), end_field),
                                 series.start_unix_ms, series.n_minutes, end_field)
        span = end_row - start_row + 1
        if window_minutes is not None and window_minutes > span - 1:
            raise invalid("window_length_minutes",
                          f"{window_minutes} minutes is longer than the fingerprint's period "
                          f"({span - 1} minutes)")
        config = pools.sim_config(spec, len(tokens), bout_length=(window_minutes or span - 1) + 1)
        plan = windows.plan_window(start_row, end_row, series.n_minutes, spec.max_memory_days,
                                   config.min_price_rows)
    except windows.WindowError as error:
        field = fingerprints.PROTO_FIELD_OF.get(error.field, error.field)
        raise invalid("fingerprint." + field, str(error).split(": ", 1)[-1]) from error
    except NotImplementedError as error:
        key, _, message = str(error).partition(": ")
        raise RequestError(grpc.StatusCode.UNIMPLEMENTED,
                           "fingerprint." + fingerprints.PROTO_FIELD_OF.get(key, key),
                           message) from error
    except ValueError as error:
        raise invalid("fingerprint", str(error)) from error
    return Run(spec, tokens, data, plan, config)


# proto MinuteInputs field -> DynamicInputs field
MINUTE_SERIES = {"fees": "fees", "gas_cost_usd": "gas_cost", "arb_fees": "arb_fees"}


def _vector(tensor: types_pb2.Tensor, field: str, kind: str, length: int | None) -> np.ndarray:
    array = from_tensor(tensor, field)
    if array.ndim != 1 or array.dtype.kind != kind or (length is not None and
                                                       array.size != length):
        want = f"[{length if length is not None else 'K'}] {'int64' if kind == 'i' else 'float64'}"
        raise invalid(field, f"must be a {want} tensor, got {list(array.shape)} {array.dtype}")
    return array


def minute_dynamic(run: Run, inputs: simulation_pb2.MinuteInputs) -> DynamicInputs | None:
    """The per-minute inputs of a Simulate request, decoded straight onto the run's minute grid
    (None: none given)."""
    first = run.data.series.unix_ms_at(run.plan.window_first_row)
    n_minutes = run.config.n_minutes
    grids: dict[str, np.ndarray] = {}
    trades = None
    try:
        for field, key in MINUTE_SERIES.items():
            if inputs.HasField(field):
                series, prefix = getattr(inputs, field), f"minute_inputs.{field}"
                times = _vector(series.unix_ms, f"{prefix}.unix_ms", "i", None)
                values = _vector(series.values, f"{prefix}.values", "f", times.size)
                grids[key] = values_on_grid(times, values, first, n_minutes, prefix)
        if inputs.HasField("trades"):
            prefix = "minute_inputs.trades"
            times = _vector(inputs.trades.unix_ms, f"{prefix}.unix_ms", "i", None)
            amounts = _vector(inputs.trades.amount_in, f"{prefix}.amount_in", "f", times.size)
            if not len(inputs.trades.token_in) == len(inputs.trades.token_out) == times.size:
                raise invalid(prefix,
                              f"token_in, token_out and unix_ms need {times.size} entries each")
            if not np.all(np.isfinite(amounts)) or np.any(amounts < 0):
                raise invalid(f"{prefix}.amount_in", "amounts must be finite and >= 0")
            trades = trade_rows_on_grid(times, list(inputs.trades.token_in),
                                        list(inputs.trades.token_out), amounts,
                                        run.data.series.tokens, first, n_minutes, prefix)
    except DataError as error:
        raise invalid(error.field, error.message) from error
    if not grids and trades is None:
        return None
    return dynamic_inputs(run.config, grids, trades)
