import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from quantamm_api.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]
    JOB_STATE_INTERRUPTED: _ClassVar[JobState]

class TrainingMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAINING_METHOD_UNSPECIFIED: _ClassVar[TrainingMethod]
    TRAINING_METHOD_GRADIENT_DESCENT: _ClassVar[TrainingMethod]
    TRAINING_METHOD_OPTUNA: _ClassVar[TrainingMethod]
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState
JOB_STATE_INTERRUPTED: JobState
TRAINING_METHOD_UNSPECIFIED: TrainingMethod
TRAINING_METHOD_GRADIENT_DESCENT: TrainingMethod
TRAINING_METHOD_OPTUNA: TrainingMethod

class InitialValues(_message.Message):
    __slots__ = ("memory_length_days", "memory_length_delta_days", "k_per_day", "weights_logits", "log_amplitude", "raw_width", "raw_exponents", "pre_exp_scaling")
    MEMORY_LENGTH_DAYS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_LENGTH_DELTA_DAYS_FIELD_NUMBER: _ClassVar[int]
    K_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_LOGITS_FIELD_NUMBER: _ClassVar[int]
    LOG_AMPLITUDE_FIELD_NUMBER: _ClassVar[int]
    RAW_WIDTH_FIELD_NUMBER: _ClassVar[int]
    RAW_EXPONENTS_FIELD_NUMBER: _ClassVar[int]
    PRE_EXP_SCALING_FIELD_NUMBER: _ClassVar[int]
    memory_length_days: float
    memory_length_delta_days: float
    k_per_day: float
    weights_logits: _containers.RepeatedScalarFieldContainer[float]
    log_amplitude: float
    raw_width: float
    raw_exponents: float
    pre_exp_scaling: float
    def __init__(self, memory_length_days: _Optional[float] = ..., memory_length_delta_days: _Optional[float] = ..., k_per_day: _Optional[float] = ..., weights_logits: _Optional[_Iterable[float]] = ..., log_amplitude: _Optional[float] = ..., raw_width: _Optional[float] = ..., raw_exponents: _Optional[float] = ..., pre_exp_scaling: _Optional[float] = ...) -> None: ...

class GradientDescentSettings(_message.Message):
    __slots__ = ("optimiser", "base_lr", "weight_decay", "n_iterations", "batch_size", "sample_method", "lr_schedule_type", "lr_decay_ratio", "min_lr", "warmup_steps", "use_plateau_decay", "decay_lr_plateau", "decay_lr_ratio", "use_gradient_clipping", "clip_norm", "force_scalar", "eval_every", "window_sampler")
    OPTIMISER_FIELD_NUMBER: _ClassVar[int]
    BASE_LR_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_DECAY_FIELD_NUMBER: _ClassVar[int]
    N_ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_METHOD_FIELD_NUMBER: _ClassVar[int]
    LR_SCHEDULE_TYPE_FIELD_NUMBER: _ClassVar[int]
    LR_DECAY_RATIO_FIELD_NUMBER: _ClassVar[int]
    MIN_LR_FIELD_NUMBER: _ClassVar[int]
    WARMUP_STEPS_FIELD_NUMBER: _ClassVar[int]
    USE_PLATEAU_DECAY_FIELD_NUMBER: _ClassVar[int]
    DECAY_LR_PLATEAU_FIELD_NUMBER: _ClassVar[int]
    DECAY_LR_RATIO_FIELD_NUMBER: _ClassVar[int]
    USE_GRADIENT_CLIPPING_FIELD_NUMBER: _ClassVar[int]
    CLIP_NORM_FIELD_NUMBER: _ClassVar[int]
    FORCE_SCALAR_FIELD_NUMBER: _ClassVar[int]
    EVAL_EVERY_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SAMPLER_FIELD_NUMBER: _ClassVar[int]
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
    def __init__(self, optimiser: _Optional[str] = ..., base_lr: _Optional[float] = ..., weight_decay: _Optional[float] = ..., n_iterations: _Optional[int] = ..., batch_size: _Optional[int] = ..., sample_method: _Optional[str] = ..., lr_schedule_type: _Optional[str] = ..., lr_decay_ratio: _Optional[float] = ..., min_lr: _Optional[float] = ..., warmup_steps: _Optional[int] = ..., use_plateau_decay: _Optional[bool] = ..., decay_lr_plateau: _Optional[int] = ..., decay_lr_ratio: _Optional[float] = ..., use_gradient_clipping: _Optional[bool] = ..., clip_norm: _Optional[float] = ..., force_scalar: _Optional[bool] = ..., eval_every: _Optional[int] = ..., window_sampler: _Optional[str] = ...) -> None: ...

class ParameterRange(_message.Message):
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

class OptunaSettings(_message.Message):
    __slots__ = ("n_trials", "n_jobs", "timeout_seconds", "n_startup_trials", "early_stopping", "early_stopping_patience", "early_stopping_min_improvement", "multi_objective", "make_scalar", "expand_around", "overfitting_penalty", "parameter_config", "study_name", "storage_url")
    class ParameterConfigEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ParameterRange
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ParameterRange, _Mapping]] = ...) -> None: ...
    N_TRIALS_FIELD_NUMBER: _ClassVar[int]
    N_JOBS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    N_STARTUP_TRIALS_FIELD_NUMBER: _ClassVar[int]
    EARLY_STOPPING_FIELD_NUMBER: _ClassVar[int]
    EARLY_STOPPING_PATIENCE_FIELD_NUMBER: _ClassVar[int]
    EARLY_STOPPING_MIN_IMPROVEMENT_FIELD_NUMBER: _ClassVar[int]
    MULTI_OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    MAKE_SCALAR_FIELD_NUMBER: _ClassVar[int]
    EXPAND_AROUND_FIELD_NUMBER: _ClassVar[int]
    OVERFITTING_PENALTY_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_CONFIG_FIELD_NUMBER: _ClassVar[int]
    STUDY_NAME_FIELD_NUMBER: _ClassVar[int]
    STORAGE_URL_FIELD_NUMBER: _ClassVar[int]
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
    parameter_config: _containers.MessageMap[str, ParameterRange]
    study_name: str
    storage_url: str
    def __init__(self, n_trials: _Optional[int] = ..., n_jobs: _Optional[int] = ..., timeout_seconds: _Optional[float] = ..., n_startup_trials: _Optional[int] = ..., early_stopping: _Optional[bool] = ..., early_stopping_patience: _Optional[int] = ..., early_stopping_min_improvement: _Optional[float] = ..., multi_objective: _Optional[bool] = ..., make_scalar: _Optional[bool] = ..., expand_around: _Optional[bool] = ..., overfitting_penalty: _Optional[float] = ..., parameter_config: _Optional[_Mapping[str, ParameterRange]] = ..., study_name: _Optional[str] = ..., storage_url: _Optional[str] = ...) -> None: ...

class TrainingSettings(_message.Message):
    __slots__ = ("method", "gradient_descent", "optuna", "bout_offset_minutes", "val_fraction", "n_parameter_sets", "parameter_init_method", "noise_scale", "seed", "early_stopping", "early_stopping_patience", "early_stopping_metric", "initial_values", "report_every")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    GRADIENT_DESCENT_FIELD_NUMBER: _ClassVar[int]
    OPTUNA_FIELD_NUMBER: _ClassVar[int]
    BOUT_OFFSET_MINUTES_FIELD_NUMBER: _ClassVar[int]
    VAL_FRACTION_FIELD_NUMBER: _ClassVar[int]
    N_PARAMETER_SETS_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_INIT_METHOD_FIELD_NUMBER: _ClassVar[int]
    NOISE_SCALE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    EARLY_STOPPING_FIELD_NUMBER: _ClassVar[int]
    EARLY_STOPPING_PATIENCE_FIELD_NUMBER: _ClassVar[int]
    EARLY_STOPPING_METRIC_FIELD_NUMBER: _ClassVar[int]
    INITIAL_VALUES_FIELD_NUMBER: _ClassVar[int]
    REPORT_EVERY_FIELD_NUMBER: _ClassVar[int]
    method: TrainingMethod
    gradient_descent: GradientDescentSettings
    optuna: OptunaSettings
    bout_offset_minutes: int
    val_fraction: float
    n_parameter_sets: int
    parameter_init_method: str
    noise_scale: float
    seed: int
    early_stopping: bool
    early_stopping_patience: int
    early_stopping_metric: str
    initial_values: InitialValues
    report_every: int
    def __init__(self, method: _Optional[_Union[TrainingMethod, str]] = ..., gradient_descent: _Optional[_Union[GradientDescentSettings, _Mapping]] = ..., optuna: _Optional[_Union[OptunaSettings, _Mapping]] = ..., bout_offset_minutes: _Optional[int] = ..., val_fraction: _Optional[float] = ..., n_parameter_sets: _Optional[int] = ..., parameter_init_method: _Optional[str] = ..., noise_scale: _Optional[float] = ..., seed: _Optional[int] = ..., early_stopping: _Optional[bool] = ..., early_stopping_patience: _Optional[int] = ..., early_stopping_metric: _Optional[str] = ..., initial_values: _Optional[_Union[InitialValues, _Mapping]] = ..., report_every: _Optional[int] = ...) -> None: ...

class StartJobRequest(_message.Message):
    __slots__ = ("dataset", "fingerprint", "settings", "initial_parameters", "display_name")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    INITIAL_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    fingerprint: _types_pb2.RunFingerprint
    settings: TrainingSettings
    initial_parameters: _containers.RepeatedCompositeFieldContainer[_types_pb2.ParameterSet]
    display_name: str
    def __init__(self, dataset: _Optional[str] = ..., fingerprint: _Optional[_Union[_types_pb2.RunFingerprint, _Mapping]] = ..., settings: _Optional[_Union[TrainingSettings, _Mapping]] = ..., initial_parameters: _Optional[_Iterable[_Union[_types_pb2.ParameterSet, _Mapping]]] = ..., display_name: _Optional[str] = ...) -> None: ...

class StartJobResponse(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class JobProgress(_message.Message):
    __slots__ = ("iteration", "total_iterations", "objective", "validation_metric", "best_metric", "best_iteration", "learning_rate", "elapsed_seconds", "train_metrics", "validation_metrics")
    class TrainMetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class ValidationMetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ITERATION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_METRIC_FIELD_NUMBER: _ClassVar[int]
    BEST_METRIC_FIELD_NUMBER: _ClassVar[int]
    BEST_ITERATION_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TRAIN_METRICS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_METRICS_FIELD_NUMBER: _ClassVar[int]
    iteration: int
    total_iterations: int
    objective: float
    validation_metric: float
    best_metric: float
    best_iteration: int
    learning_rate: float
    elapsed_seconds: float
    train_metrics: _containers.ScalarMap[str, float]
    validation_metrics: _containers.ScalarMap[str, float]
    def __init__(self, iteration: _Optional[int] = ..., total_iterations: _Optional[int] = ..., objective: _Optional[float] = ..., validation_metric: _Optional[float] = ..., best_metric: _Optional[float] = ..., best_iteration: _Optional[int] = ..., learning_rate: _Optional[float] = ..., elapsed_seconds: _Optional[float] = ..., train_metrics: _Optional[_Mapping[str, float]] = ..., validation_metrics: _Optional[_Mapping[str, float]] = ...) -> None: ...

class TrialSummary(_message.Message):
    __slots__ = ("number", "state", "values", "parameters", "validation_value")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_VALUE_FIELD_NUMBER: _ClassVar[int]
    number: int
    state: str
    values: _containers.RepeatedScalarFieldContainer[float]
    parameters: _types_pb2.ParameterSet
    validation_value: float
    def __init__(self, number: _Optional[int] = ..., state: _Optional[str] = ..., values: _Optional[_Iterable[float]] = ..., parameters: _Optional[_Union[_types_pb2.ParameterSet, _Mapping]] = ..., validation_value: _Optional[float] = ...) -> None: ...

class PeriodStatistics(_message.Message):
    __slots__ = ("mean", "std", "worst")
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STD_FIELD_NUMBER: _ClassVar[int]
    WORST_FIELD_NUMBER: _ClassVar[int]
    mean: float
    std: float
    worst: float
    def __init__(self, mean: _Optional[float] = ..., std: _Optional[float] = ..., worst: _Optional[float] = ...) -> None: ...

class TrainingResult(_message.Message):
    __slots__ = ("best_parameters", "best_iteration", "best_param_index", "best_metric_value", "selection_method", "selection_metric", "train_metrics", "validation_metrics", "test_metrics", "iterations_done", "final_objective", "elapsed_seconds", "trials", "pareto_front", "period_statistics", "study_name")
    class TrainMetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class ValidationMetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class TestMetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    BEST_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    BEST_ITERATION_FIELD_NUMBER: _ClassVar[int]
    BEST_PARAM_INDEX_FIELD_NUMBER: _ClassVar[int]
    BEST_METRIC_VALUE_FIELD_NUMBER: _ClassVar[int]
    SELECTION_METHOD_FIELD_NUMBER: _ClassVar[int]
    SELECTION_METRIC_FIELD_NUMBER: _ClassVar[int]
    TRAIN_METRICS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_METRICS_FIELD_NUMBER: _ClassVar[int]
    TEST_METRICS_FIELD_NUMBER: _ClassVar[int]
    ITERATIONS_DONE_FIELD_NUMBER: _ClassVar[int]
    FINAL_OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TRIALS_FIELD_NUMBER: _ClassVar[int]
    PARETO_FRONT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_STATISTICS_FIELD_NUMBER: _ClassVar[int]
    STUDY_NAME_FIELD_NUMBER: _ClassVar[int]
    best_parameters: _types_pb2.ParameterSet
    best_iteration: int
    best_param_index: int
    best_metric_value: float
    selection_method: str
    selection_metric: str
    train_metrics: _containers.ScalarMap[str, float]
    validation_metrics: _containers.ScalarMap[str, float]
    test_metrics: _containers.ScalarMap[str, float]
    iterations_done: int
    final_objective: float
    elapsed_seconds: float
    trials: _containers.RepeatedCompositeFieldContainer[TrialSummary]
    pareto_front: _containers.RepeatedScalarFieldContainer[int]
    period_statistics: PeriodStatistics
    study_name: str
    def __init__(self, best_parameters: _Optional[_Union[_types_pb2.ParameterSet, _Mapping]] = ..., best_iteration: _Optional[int] = ..., best_param_index: _Optional[int] = ..., best_metric_value: _Optional[float] = ..., selection_method: _Optional[str] = ..., selection_metric: _Optional[str] = ..., train_metrics: _Optional[_Mapping[str, float]] = ..., validation_metrics: _Optional[_Mapping[str, float]] = ..., test_metrics: _Optional[_Mapping[str, float]] = ..., iterations_done: _Optional[int] = ..., final_objective: _Optional[float] = ..., elapsed_seconds: _Optional[float] = ..., trials: _Optional[_Iterable[_Union[TrialSummary, _Mapping]]] = ..., pareto_front: _Optional[_Iterable[int]] = ..., period_statistics: _Optional[_Union[PeriodStatistics, _Mapping]] = ..., study_name: _Optional[str] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("job_id", "display_name", "state", "created_time", "updated_time", "dataset", "fingerprint", "settings", "progress", "result", "message")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATED_TIME_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    display_name: str
    state: JobState
    created_time: _timestamp_pb2.Timestamp
    updated_time: _timestamp_pb2.Timestamp
    dataset: str
    fingerprint: _types_pb2.RunFingerprint
    settings: TrainingSettings
    progress: JobProgress
    result: TrainingResult
    message: str
    def __init__(self, job_id: _Optional[str] = ..., display_name: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., created_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dataset: _Optional[str] = ..., fingerprint: _Optional[_Union[_types_pb2.RunFingerprint, _Mapping]] = ..., settings: _Optional[_Union[TrainingSettings, _Mapping]] = ..., progress: _Optional[_Union[JobProgress, _Mapping]] = ..., result: _Optional[_Union[TrainingResult, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchJobResponse(_message.Message):
    __slots__ = ("job_id", "state", "progress")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    state: JobState
    progress: JobProgress
    def __init__(self, job_id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., progress: _Optional[_Union[JobProgress, _Mapping]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("state", "page_size")
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    state: JobState
    page_size: int
    def __init__(self, state: _Optional[_Union[JobState, str]] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ...) -> None: ...

class ResumeJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ResumeJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...
