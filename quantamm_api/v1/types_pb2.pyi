import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DataType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_TYPE_UNSPECIFIED: _ClassVar[DataType]
    DATA_TYPE_FLOAT64: _ClassVar[DataType]
    DATA_TYPE_FLOAT32: _ClassVar[DataType]
    DATA_TYPE_INT64: _ClassVar[DataType]
    DATA_TYPE_INT32: _ClassVar[DataType]
    DATA_TYPE_BOOL: _ClassVar[DataType]
DATA_TYPE_UNSPECIFIED: DataType
DATA_TYPE_FLOAT64: DataType
DATA_TYPE_FLOAT32: DataType
DATA_TYPE_INT64: DataType
DATA_TYPE_INT32: DataType
DATA_TYPE_BOOL: DataType

class Tensor(_message.Message):
    __slots__ = ("shape", "dtype", "data")
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    shape: _containers.RepeatedScalarFieldContainer[int]
    dtype: DataType
    data: bytes
    def __init__(self, shape: _Optional[_Iterable[int]] = ..., dtype: _Optional[_Union[DataType, str]] = ..., data: _Optional[bytes] = ...) -> None: ...

class RunFingerprint(_message.Message):
    __slots__ = ("tokens", "rule", "start_time", "end_time", "end_test_time", "chunk_period_minutes", "weight_interpolation_period_minutes", "weight_interpolation_method", "maximum_change_per_minute", "minimum_weight", "max_memory_days", "use_alt_lamb", "use_pre_exp_scaling", "initial_pool_value_usd", "fees", "gas_cost_usd", "arb_fees", "arb_frequency_minutes", "arb_quality", "do_arb", "noise_trader_ratio", "protocol_fee_split", "numeraire", "return_val", "use_fused_reserves", "ste_max_change", "ste_min_max_weight", "turnover_penalty", "price_noise_sigma", "weight_rule_causal")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TEST_TIME_FIELD_NUMBER: _ClassVar[int]
    CHUNK_PERIOD_MINUTES_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_INTERPOLATION_PERIOD_MINUTES_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_INTERPOLATION_METHOD_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_CHANGE_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    MAX_MEMORY_DAYS_FIELD_NUMBER: _ClassVar[int]
    USE_ALT_LAMB_FIELD_NUMBER: _ClassVar[int]
    USE_PRE_EXP_SCALING_FIELD_NUMBER: _ClassVar[int]
    INITIAL_POOL_VALUE_USD_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    GAS_COST_USD_FIELD_NUMBER: _ClassVar[int]
    ARB_FEES_FIELD_NUMBER: _ClassVar[int]
    ARB_FREQUENCY_MINUTES_FIELD_NUMBER: _ClassVar[int]
    ARB_QUALITY_FIELD_NUMBER: _ClassVar[int]
    DO_ARB_FIELD_NUMBER: _ClassVar[int]
    NOISE_TRADER_RATIO_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FEE_SPLIT_FIELD_NUMBER: _ClassVar[int]
    NUMERAIRE_FIELD_NUMBER: _ClassVar[int]
    RETURN_VAL_FIELD_NUMBER: _ClassVar[int]
    USE_FUSED_RESERVES_FIELD_NUMBER: _ClassVar[int]
    STE_MAX_CHANGE_FIELD_NUMBER: _ClassVar[int]
    STE_MIN_MAX_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    TURNOVER_PENALTY_FIELD_NUMBER: _ClassVar[int]
    PRICE_NOISE_SIGMA_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_RULE_CAUSAL_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedScalarFieldContainer[str]
    rule: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    end_test_time: _timestamp_pb2.Timestamp
    chunk_period_minutes: int
    weight_interpolation_period_minutes: int
    weight_interpolation_method: str
    maximum_change_per_minute: float
    minimum_weight: float
    max_memory_days: float
    use_alt_lamb: bool
    use_pre_exp_scaling: bool
    initial_pool_value_usd: float
    fees: float
    gas_cost_usd: float
    arb_fees: float
    arb_frequency_minutes: int
    arb_quality: float
    do_arb: bool
    noise_trader_ratio: float
    protocol_fee_split: float
    numeraire: str
    return_val: str
    use_fused_reserves: bool
    ste_max_change: bool
    ste_min_max_weight: bool
    turnover_penalty: float
    price_noise_sigma: float
    weight_rule_causal: bool
    def __init__(self, tokens: _Optional[_Iterable[str]] = ..., rule: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_test_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., chunk_period_minutes: _Optional[int] = ..., weight_interpolation_period_minutes: _Optional[int] = ..., weight_interpolation_method: _Optional[str] = ..., maximum_change_per_minute: _Optional[float] = ..., minimum_weight: _Optional[float] = ..., max_memory_days: _Optional[float] = ..., use_alt_lamb: _Optional[bool] = ..., use_pre_exp_scaling: _Optional[bool] = ..., initial_pool_value_usd: _Optional[float] = ..., fees: _Optional[float] = ..., gas_cost_usd: _Optional[float] = ..., arb_fees: _Optional[float] = ..., arb_frequency_minutes: _Optional[int] = ..., arb_quality: _Optional[float] = ..., do_arb: _Optional[bool] = ..., noise_trader_ratio: _Optional[float] = ..., protocol_fee_split: _Optional[float] = ..., numeraire: _Optional[str] = ..., return_val: _Optional[str] = ..., use_fused_reserves: _Optional[bool] = ..., ste_max_change: _Optional[bool] = ..., ste_min_max_weight: _Optional[bool] = ..., turnover_penalty: _Optional[float] = ..., price_noise_sigma: _Optional[float] = ..., weight_rule_causal: _Optional[bool] = ...) -> None: ...

class ParameterSet(_message.Message):
    __slots__ = ("values",)
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Tensor
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Tensor, _Mapping]] = ...) -> None: ...
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.MessageMap[str, Tensor]
    def __init__(self, values: _Optional[_Mapping[str, Tensor]] = ...) -> None: ...

class StackedParameters(_message.Message):
    __slots__ = ("values",)
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Tensor
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Tensor, _Mapping]] = ...) -> None: ...
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.MessageMap[str, Tensor]
    def __init__(self, values: _Optional[_Mapping[str, Tensor]] = ...) -> None: ...

class OptunaRange(_message.Message):
    __slots__ = ("low", "high", "log_scale", "scalar")
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOG_SCALE_FIELD_NUMBER: _ClassVar[int]
    SCALAR_FIELD_NUMBER: _ClassVar[int]
    low: float
    high: float
    log_scale: bool
    scalar: bool
    def __init__(self, low: _Optional[float] = ..., high: _Optional[float] = ..., log_scale: _Optional[bool] = ..., scalar: _Optional[bool] = ...) -> None: ...

class ParamSpec(_message.Message):
    __slots__ = ("name", "initial", "optuna", "transform", "description", "trainable", "rows")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INITIAL_FIELD_NUMBER: _ClassVar[int]
    OPTUNA_FIELD_NUMBER: _ClassVar[int]
    TRANSFORM_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TRAINABLE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    name: str
    initial: _containers.RepeatedScalarFieldContainer[float]
    optuna: OptunaRange
    transform: str
    description: str
    trainable: bool
    rows: int
    def __init__(self, name: _Optional[str] = ..., initial: _Optional[_Iterable[float]] = ..., optuna: _Optional[_Union[OptunaRange, _Mapping]] = ..., transform: _Optional[str] = ..., description: _Optional[str] = ..., trainable: _Optional[bool] = ..., rows: _Optional[int] = ...) -> None: ...

class RuleInfo(_message.Message):
    __slots__ = ("name", "description", "params", "dynamic_weights", "outputs_weights", "has_readouts", "pool", "memory_keys", "k_key", "scalar_keys", "alternative_keys", "required_keys", "human_keys", "n_assets")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    DYNAMIC_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    HAS_READOUTS_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    MEMORY_KEYS_FIELD_NUMBER: _ClassVar[int]
    K_KEY_FIELD_NUMBER: _ClassVar[int]
    SCALAR_KEYS_FIELD_NUMBER: _ClassVar[int]
    ALTERNATIVE_KEYS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_KEYS_FIELD_NUMBER: _ClassVar[int]
    HUMAN_KEYS_FIELD_NUMBER: _ClassVar[int]
    N_ASSETS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    params: _containers.RepeatedCompositeFieldContainer[ParamSpec]
    dynamic_weights: bool
    outputs_weights: bool
    has_readouts: bool
    pool: str
    memory_keys: _containers.RepeatedScalarFieldContainer[str]
    k_key: str
    scalar_keys: _containers.RepeatedScalarFieldContainer[str]
    alternative_keys: _containers.RepeatedScalarFieldContainer[str]
    required_keys: _containers.RepeatedScalarFieldContainer[str]
    human_keys: _containers.RepeatedScalarFieldContainer[str]
    n_assets: int
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., params: _Optional[_Iterable[_Union[ParamSpec, _Mapping]]] = ..., dynamic_weights: _Optional[bool] = ..., outputs_weights: _Optional[bool] = ..., has_readouts: _Optional[bool] = ..., pool: _Optional[str] = ..., memory_keys: _Optional[_Iterable[str]] = ..., k_key: _Optional[str] = ..., scalar_keys: _Optional[_Iterable[str]] = ..., alternative_keys: _Optional[_Iterable[str]] = ..., required_keys: _Optional[_Iterable[str]] = ..., human_keys: _Optional[_Iterable[str]] = ..., n_assets: _Optional[int] = ...) -> None: ...

class DatasetInfo(_message.Message):
    __slots__ = ("name", "tokens", "first_minute", "last_minute", "n_minutes", "source")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    FIRST_MINUTE_FIELD_NUMBER: _ClassVar[int]
    LAST_MINUTE_FIELD_NUMBER: _ClassVar[int]
    N_MINUTES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    tokens: _containers.RepeatedScalarFieldContainer[str]
    first_minute: _timestamp_pb2.Timestamp
    last_minute: _timestamp_pb2.Timestamp
    n_minutes: int
    source: str
    def __init__(self, name: _Optional[str] = ..., tokens: _Optional[_Iterable[str]] = ..., first_minute: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_minute: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., n_minutes: _Optional[int] = ..., source: _Optional[str] = ...) -> None: ...
