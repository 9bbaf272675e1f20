import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from quantamm_api.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[_types_pb2.RuleInfo]
    def __init__(self, rules: _Optional[_Iterable[_Union[_types_pb2.RuleInfo, _Mapping]]] = ...) -> None: ...

class GetInitialParametersRequest(_message.Message):
    __slots__ = ("rule", "n_assets", "chunk_period_minutes", "initial_values")
    class InitialValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _types_pb2.Tensor
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ...) -> None: ...
    RULE_FIELD_NUMBER: _ClassVar[int]
    N_ASSETS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_PERIOD_MINUTES_FIELD_NUMBER: _ClassVar[int]
    INITIAL_VALUES_FIELD_NUMBER: _ClassVar[int]
    rule: str
    n_assets: int
    chunk_period_minutes: int
    initial_values: _containers.MessageMap[str, _types_pb2.Tensor]
    def __init__(self, rule: _Optional[str] = ..., n_assets: _Optional[int] = ..., chunk_period_minutes: _Optional[int] = ..., initial_values: _Optional[_Mapping[str, _types_pb2.Tensor]] = ...) -> None: ...

class GetInitialParametersResponse(_message.Message):
    __slots__ = ("parameters",)
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    parameters: _types_pb2.ParameterSet
    def __init__(self, parameters: _Optional[_Union[_types_pb2.ParameterSet, _Mapping]] = ...) -> None: ...

class ListDatasetsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDatasetsResponse(_message.Message):
    __slots__ = ("datasets",)
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    datasets: _containers.RepeatedCompositeFieldContainer[_types_pb2.DatasetInfo]
    def __init__(self, datasets: _Optional[_Iterable[_Union[_types_pb2.DatasetInfo, _Mapping]]] = ...) -> None: ...

class GetDatasetRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetDatasetResponse(_message.Message):
    __slots__ = ("dataset",)
    DATASET_FIELD_NUMBER: _ClassVar[int]
    dataset: _types_pb2.DatasetInfo
    def __init__(self, dataset: _Optional[_Union[_types_pb2.DatasetInfo, _Mapping]] = ...) -> None: ...

class RegisterDatasetRequest(_message.Message):
    __slots__ = ("name", "directory", "tokens")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    name: str
    directory: str
    tokens: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., directory: _Optional[str] = ..., tokens: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterDatasetResponse(_message.Message):
    __slots__ = ("dataset",)
    DATASET_FIELD_NUMBER: _ClassVar[int]
    dataset: _types_pb2.DatasetInfo
    def __init__(self, dataset: _Optional[_Union[_types_pb2.DatasetInfo, _Mapping]] = ...) -> None: ...

class UploadHeader(_message.Message):
    __slots__ = ("name", "tokens", "first_minute")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    FIRST_MINUTE_FIELD_NUMBER: _ClassVar[int]
    name: str
    tokens: _containers.RepeatedScalarFieldContainer[str]
    first_minute: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., tokens: _Optional[_Iterable[str]] = ..., first_minute: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UploadDatasetRequest(_message.Message):
    __slots__ = ("header", "prices")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    PRICES_FIELD_NUMBER: _ClassVar[int]
    header: UploadHeader
    prices: _types_pb2.Tensor
    def __init__(self, header: _Optional[_Union[UploadHeader, _Mapping]] = ..., prices: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ...) -> None: ...

class UploadDatasetResponse(_message.Message):
    __slots__ = ("dataset",)
    DATASET_FIELD_NUMBER: _ClassVar[int]
    dataset: _types_pb2.DatasetInfo
    def __init__(self, dataset: _Optional[_Union[_types_pb2.DatasetInfo, _Mapping]] = ...) -> None: ...

class SimulateRequest(_message.Message):
    __slots__ = ("dataset", "fingerprint", "parameters", "stride_minutes", "max_rows_per_message", "minute_inputs")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    STRIDE_MINUTES_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_PER_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MINUTE_INPUTS_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    fingerprint: _types_pb2.RunFingerprint
    parameters: _types_pb2.ParameterSet
    stride_minutes: int
    max_rows_per_message: int
    minute_inputs: MinuteInputs
    def __init__(self, dataset: _Optional[str] = ..., fingerprint: _Optional[_Union[_types_pb2.RunFingerprint, _Mapping]] = ..., parameters: _Optional[_Union[_types_pb2.ParameterSet, _Mapping]] = ..., stride_minutes: _Optional[int] = ..., max_rows_per_message: _Optional[int] = ..., minute_inputs: _Optional[_Union[MinuteInputs, _Mapping]] = ...) -> None: ...

class TimeSeries(_message.Message):
    __slots__ = ("unix_ms", "values")
    UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    unix_ms: _types_pb2.Tensor
    values: _types_pb2.Tensor
    def __init__(self, unix_ms: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ..., values: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ...) -> None: ...

class Trades(_message.Message):
    __slots__ = ("unix_ms", "token_in", "token_out", "amount_in")
    UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_IN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_OUT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_IN_FIELD_NUMBER: _ClassVar[int]
    unix_ms: _types_pb2.Tensor
    token_in: _containers.RepeatedScalarFieldContainer[str]
    token_out: _containers.RepeatedScalarFieldContainer[str]
    amount_in: _types_pb2.Tensor
    def __init__(self, unix_ms: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ..., token_in: _Optional[_Iterable[str]] = ..., token_out: _Optional[_Iterable[str]] = ..., amount_in: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ...) -> None: ...

class MinuteInputs(_message.Message):
    __slots__ = ("fees", "gas_cost_usd", "arb_fees", "trades")
    FEES_FIELD_NUMBER: _ClassVar[int]
    GAS_COST_USD_FIELD_NUMBER: _ClassVar[int]
    ARB_FEES_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    fees: TimeSeries
    gas_cost_usd: TimeSeries
    arb_fees: TimeSeries
    trades: Trades
    def __init__(self, fees: _Optional[_Union[TimeSeries, _Mapping]] = ..., gas_cost_usd: _Optional[_Union[TimeSeries, _Mapping]] = ..., arb_fees: _Optional[_Union[TimeSeries, _Mapping]] = ..., trades: _Optional[_Union[Trades, _Mapping]] = ...) -> None: ...

class SimulationSummary(_message.Message):
    __slots__ = ("tokens", "first_minute", "n_minutes", "stride_minutes", "n_rows", "final_value_usd", "initial_reserves", "final_reserves", "metrics", "rule_outputs", "warnings", "final_weights", "final_prices")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    FIRST_MINUTE_FIELD_NUMBER: _ClassVar[int]
    N_MINUTES_FIELD_NUMBER: _ClassVar[int]
    STRIDE_MINUTES_FIELD_NUMBER: _ClassVar[int]
    N_ROWS_FIELD_NUMBER: _ClassVar[int]
    FINAL_VALUE_USD_FIELD_NUMBER: _ClassVar[int]
    INITIAL_RESERVES_FIELD_NUMBER: _ClassVar[int]
    FINAL_RESERVES_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    RULE_OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    FINAL_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    FINAL_PRICES_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedScalarFieldContainer[str]
    first_minute: _timestamp_pb2.Timestamp
    n_minutes: int
    stride_minutes: int
    n_rows: int
    final_value_usd: float
    initial_reserves: _types_pb2.Tensor
    final_reserves: _types_pb2.Tensor
    metrics: _containers.ScalarMap[str, float]
    rule_outputs: _types_pb2.Tensor
    warnings: _containers.RepeatedScalarFieldContainer[str]
    final_weights: _types_pb2.Tensor
    final_prices: _types_pb2.Tensor
    def __init__(self, tokens: _Optional[_Iterable[str]] = ..., first_minute: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., n_minutes: _Optional[int] = ..., stride_minutes: _Optional[int] = ..., n_rows: _Optional[int] = ..., final_value_usd: _Optional[float] = ..., initial_reserves: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ..., final_reserves: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ..., metrics: _Optional[_Mapping[str, float]] = ..., rule_outputs: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ..., warnings: _Optional[_Iterable[str]] = ..., final_weights: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ..., final_prices: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ...) -> None: ...

class SimulationChunk(_message.Message):
    __slots__ = ("first_row", "weights", "reserves", "values", "prices")
    FIRST_ROW_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    RESERVES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    PRICES_FIELD_NUMBER: _ClassVar[int]
    first_row: int
    weights: _types_pb2.Tensor
    reserves: _types_pb2.Tensor
    values: _types_pb2.Tensor
    prices: _types_pb2.Tensor
    def __init__(self, first_row: _Optional[int] = ..., weights: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ..., reserves: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ..., values: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ..., prices: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ...) -> None: ...

class SimulateResponse(_message.Message):
    __slots__ = ("summary", "chunk")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    summary: SimulationSummary
    chunk: SimulationChunk
    def __init__(self, summary: _Optional[_Union[SimulationSummary, _Mapping]] = ..., chunk: _Optional[_Union[SimulationChunk, _Mapping]] = ...) -> None: ...

class GetReadoutsRequest(_message.Message):
    __slots__ = ("dataset", "fingerprint", "parameters")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    fingerprint: _types_pb2.RunFingerprint
    parameters: _types_pb2.ParameterSet
    def __init__(self, dataset: _Optional[str] = ..., fingerprint: _Optional[_Union[_types_pb2.RunFingerprint, _Mapping]] = ..., parameters: _Optional[_Union[_types_pb2.ParameterSet, _Mapping]] = ...) -> None: ...

class GetReadoutsResponse(_message.Message):
    __slots__ = ("tokens", "first_chunk_time", "chunk_period_minutes", "readouts")
    class ReadoutsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _types_pb2.Tensor
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ...) -> None: ...
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    FIRST_CHUNK_TIME_FIELD_NUMBER: _ClassVar[int]
    CHUNK_PERIOD_MINUTES_FIELD_NUMBER: _ClassVar[int]
    READOUTS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedScalarFieldContainer[str]
    first_chunk_time: _timestamp_pb2.Timestamp
    chunk_period_minutes: int
    readouts: _containers.MessageMap[str, _types_pb2.Tensor]
    def __init__(self, tokens: _Optional[_Iterable[str]] = ..., first_chunk_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., chunk_period_minutes: _Optional[int] = ..., readouts: _Optional[_Mapping[str, _types_pb2.Tensor]] = ...) -> None: ...

class EvaluateRequest(_message.Message):
    __slots__ = ("dataset", "fingerprint", "parameter_sets", "window_start_offsets_minutes", "window_length_minutes", "with_gradient", "stacked_parameters")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_SETS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_OFFSETS_MINUTES_FIELD_NUMBER: _ClassVar[int]
    WINDOW_LENGTH_MINUTES_FIELD_NUMBER: _ClassVar[int]
    WITH_GRADIENT_FIELD_NUMBER: _ClassVar[int]
    STACKED_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    fingerprint: _types_pb2.RunFingerprint
    parameter_sets: _containers.RepeatedCompositeFieldContainer[_types_pb2.ParameterSet]
    window_start_offsets_minutes: _containers.RepeatedScalarFieldContainer[int]
    window_length_minutes: int
    with_gradient: bool
    stacked_parameters: _types_pb2.StackedParameters
    def __init__(self, dataset: _Optional[str] = ..., fingerprint: _Optional[_Union[_types_pb2.RunFingerprint, _Mapping]] = ..., parameter_sets: _Optional[_Iterable[_Union[_types_pb2.ParameterSet, _Mapping]]] = ..., window_start_offsets_minutes: _Optional[_Iterable[int]] = ..., window_length_minutes: _Optional[int] = ..., with_gradient: _Optional[bool] = ..., stacked_parameters: _Optional[_Union[_types_pb2.StackedParameters, _Mapping]] = ...) -> None: ...

class EvaluateResponse(_message.Message):
    __slots__ = ("objectives", "mean_objectives", "gradients", "return_val", "fused")
    class GradientsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _types_pb2.Tensor
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ...) -> None: ...
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    MEAN_OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    GRADIENTS_FIELD_NUMBER: _ClassVar[int]
    RETURN_VAL_FIELD_NUMBER: _ClassVar[int]
    FUSED_FIELD_NUMBER: _ClassVar[int]
    objectives: _types_pb2.Tensor
    mean_objectives: _types_pb2.Tensor
    gradients: _containers.MessageMap[str, _types_pb2.Tensor]
    return_val: str
    fused: bool
    def __init__(self, objectives: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ..., mean_objectives: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ..., gradients: _Optional[_Mapping[str, _types_pb2.Tensor]] = ..., return_val: _Optional[str] = ..., fused: _Optional[bool] = ...) -> None: ...

class Period(_message.Message):
    __slots__ = ("name", "start_offset_minutes", "end_offset_minutes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    START_OFFSET_MINUTES_FIELD_NUMBER: _ClassVar[int]
    END_OFFSET_MINUTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    start_offset_minutes: int
    end_offset_minutes: int
    def __init__(self, name: _Optional[str] = ..., start_offset_minutes: _Optional[int] = ..., end_offset_minutes: _Optional[int] = ...) -> None: ...

class EvaluatePeriodsRequest(_message.Message):
    __slots__ = ("dataset", "fingerprint", "parameter_sets", "periods", "state_offsets_minutes", "stacked_parameters")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_SETS_FIELD_NUMBER: _ClassVar[int]
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    STATE_OFFSETS_MINUTES_FIELD_NUMBER: _ClassVar[int]
    STACKED_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    fingerprint: _types_pb2.RunFingerprint
    parameter_sets: _containers.RepeatedCompositeFieldContainer[_types_pb2.ParameterSet]
    periods: _containers.RepeatedCompositeFieldContainer[Period]
    state_offsets_minutes: _containers.RepeatedScalarFieldContainer[int]
    stacked_parameters: _types_pb2.StackedParameters
    def __init__(self, dataset: _Optional[str] = ..., fingerprint: _Optional[_Union[_types_pb2.RunFingerprint, _Mapping]] = ..., parameter_sets: _Optional[_Iterable[_Union[_types_pb2.ParameterSet, _Mapping]]] = ..., periods: _Optional[_Iterable[_Union[Period, _Mapping]]] = ..., state_offsets_minutes: _Optional[_Iterable[int]] = ..., stacked_parameters: _Optional[_Union[_types_pb2.StackedParameters, _Mapping]] = ...) -> None: ...

class PeriodMetrics(_message.Message):
    __slots__ = ("name", "metrics", "daily_returns")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    DAILY_RETURNS_FIELD_NUMBER: _ClassVar[int]
    name: str
    metrics: _containers.ScalarMap[str, float]
    daily_returns: _types_pb2.Tensor
    def __init__(self, name: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., daily_returns: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ...) -> None: ...

class SetPeriods(_message.Message):
    __slots__ = ("periods", "weights", "reserves")
    PERIODS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    RESERVES_FIELD_NUMBER: _ClassVar[int]
    periods: _containers.RepeatedCompositeFieldContainer[PeriodMetrics]
    weights: _types_pb2.Tensor
    reserves: _types_pb2.Tensor
    def __init__(self, periods: _Optional[_Iterable[_Union[PeriodMetrics, _Mapping]]] = ..., weights: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ..., reserves: _Optional[_Union[_types_pb2.Tensor, _Mapping]] = ...) -> None: ...

class EvaluatePeriodsResponse(_message.Message):
    __slots__ = ("tokens", "sets")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    SETS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedScalarFieldContainer[str]
    sets: _containers.RepeatedCompositeFieldContainer[SetPeriods]
    def __init__(self, tokens: _Optional[_Iterable[str]] = ..., sets: _Optional[_Iterable[_Union[SetPeriods, _Mapping]]] = ...) -> None: ...
