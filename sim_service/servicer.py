"""SimulationService: protobuf <-> engine arrays, nothing else."""

from __future__ import annotations

import dataclasses
import math
import pathlib
import threading
from typing import Iterator

import grpc
import jax
import jax.numpy as jnp
import numpy as np

from quantamm_api.v1 import simulation_pb2, simulation_pb2_grpc, types_pb2
from quantamm.wire.tensors import from_tensor, to_tensor
from quantamm.data import PriceSeries
from sim_service.datasets import DatasetRegistry
from quantamm.core.rules import HUMAN_KEYS
from sim_service.engine import metrics, rules, simulation, windows
from quantamm.wire.errors import RequestError, invalid
from sim_service.translate import (
    Run,
    date_to_timestamp,
    initial_parameter_set,
    request_set_count,
    minute_dynamic,
    resolve_run,
    timestamp_to_date,
)

MAX_CACHED_RUNS = 64
# Default chunking keeps each streamed message under ~3 MiB (gRPC clients accept 4 MiB).
DEFAULT_MESSAGE_BYTES = 3 * 1024 * 1024
def dataset_info(registry: DatasetRegistry, name: str) -> types_pb2.DatasetInfo:
    dataset = registry.get(name)
    series = dataset.series
    return types_pb2.DatasetInfo(
        name=name,
        tokens=list(registry.tokens(name)),
        first_minute=date_to_timestamp(series.start_unix_ms),
        last_minute=date_to_timestamp(series.end_unix_ms),
        n_minutes=series.n_minutes,
        source=dataset.source,
    )


def rule_info(rule: str) -> types_pb2.RuleInfo:
    """The registry's spec of ``rule`` as a RuleInfo."""
    spec = rules.get(rule)
    params = [
        types_pb2.ParamSpec(
            name=name,
            initial=list(np.atleast_1d(np.asarray(param.initial, dtype=np.float64))),
            optuna=types_pb2.OptunaRange(**vars(param.optuna)) if param.optuna else None,
            transform=param.transform or "",
            description=param.description,
            trainable=param.trainable,
            rows=param.rows,
        )
        for name, param in spec.param_schema.items()
    ]
    return types_pb2.RuleInfo(
        name=rule,
        description=spec.description,
        params=params,
        dynamic_weights=spec.pool == "tfmm",
        outputs_weights=spec.outputs == "weights",
        has_readouts=spec.has_readouts,
        pool=spec.pool,
        memory_keys=list(spec.memory_keys),
        k_key=spec.k_key or "",
        scalar_keys=sorted(spec.scalar_keys),
        alternative_keys=sorted(spec.alternative_keys),
        required_keys=list(spec.required_keys),
        human_keys=sorted(HUMAN_KEYS),
        n_assets=spec.n_assets or 0,
    )


def _single_set(run: Run, parameter_set: types_pb2.ParameterSet) -> dict:
    stacked = run.parameter_sets([parameter_set], "parameters")
    return {key: value[0] for key, value in stacked.items()}


def ensure_time_left(context: grpc.ServicerContext | None) -> None:
    """Refuse to start work whose deadline has already passed."""
    remaining = context.time_remaining() if context is not None else None
    if remaining is not None and remaining <= 0:
        raise RequestError(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline", "expired before start")


def _float_metrics(values: dict) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if np.ndim(v) == 0}


def default_memory_budget() -> float:
    """Bytes one call may use: 3/4 of an accelerator's memory, else half of the host memory
    available now (``MemAvailable``)."""
    stats = jax.devices()[0].memory_stats() or {}
    if stats.get("bytes_limit"):
        return 0.75 * stats["bytes_limit"]
    for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return 0.5 * int(line.split()[1]) * 1024
    raise OSError("no MemAvailable in /proc/meminfo; give --memory-budget-mib")


@dataclasses.dataclass(frozen=True)
class Limits:
    """Per-call size limits: cells = parameter sets x windows x minutes x assets, and an
    estimate of the call's peak memory (bytes per cell, measured on the engine, x cells)."""

    max_cells: float = 4e9
    memory_budget_bytes: float = math.inf
    # Peak bytes per cell by kind of call, about twice the marginal peak RSS measured on CPU
    # (float64): a full run keeps every [minutes, assets] series plus the protobuf copies
    # (~150); an objective-only evaluation ~16; with reverse-mode gradients ~48; an uploaded
    # dataset's blocks, host and device copies and log prices ~40.
    bytes_per_cell: tuple[tuple[str, float], ...] = (
        ("run", 320.0), ("evaluate", 32.0), ("gradient", 96.0), ("upload", 80.0))

    @classmethod
    def of(cls, max_cells: float = 4e9, memory_budget_mib: float | None = None) -> "Limits":
        budget = memory_budget_mib * 1024**2 if memory_budget_mib else default_memory_budget()
        return cls(max_cells, budget)

    def check(self, field: str, sets: int, windows: int, minutes: int, assets: int,
              kind: str = "run", sets_at_once: int | None = None) -> None:
        """RESOURCE_EXHAUSTED naming ``field``, the limit and the request's size when the
        call is over the cell limit or its memory estimate (``sets_at_once`` of the sets in
        memory together; default all) is over the budget."""
        cells = float(sets) * windows * minutes * assets
        size = (f"{sets} sets x {windows} windows x {minutes} minutes x {assets} assets = "
                f"{cells:.3g} cells")
        if cells > self.max_cells:
            raise RequestError(grpc.StatusCode.RESOURCE_EXHAUSTED, field,
                               f"{size} exceeds this server's limit of {self.max_cells:.3g} "
                               "cells per call (max_request_cells)")
        per_cell = dict(self.bytes_per_cell)[kind]
        need = cells * per_cell * (sets_at_once or sets) / max(sets, 1)
        if need > self.memory_budget_bytes:
            raise RequestError(grpc.StatusCode.RESOURCE_EXHAUSTED, field,
                               f"{size} needs about {need / 2**20:,.0f} MiB, over this "
                               f"server's memory budget of {self.memory_budget_bytes / 2**20:,.0f}"
                               " MiB per call (memory_budget_mib); split the call")


class SimulationServicer(simulation_pb2_grpc.SimulationServiceServicer):
    """Thin translation between the API and the engine; state is the dataset registry."""

    def __init__(self, registry: DatasetRegistry, limits: Limits | None = None) -> None:
        self.registry = registry
        self.limits = limits or Limits.of()
        self._runs: dict[tuple, Run] = {}  # resolved Evaluate runs (training repeats them)
        self._runs_lock = threading.Lock()

    def _evaluate_run(self, request) -> Run:
        """``resolve_run`` of an Evaluate request, reused for the same dataset, fingerprint and
        window length (datasets are never replaced under a name; failures are not kept)."""
        key = (request.dataset, request.fingerprint.SerializeToString(deterministic=True),
               request.window_length_minutes)
        with self._runs_lock:
            run = self._runs.get(key)
        if run is None:
            run = resolve_run(self.registry, request.dataset, request.fingerprint,
                              "endTestDateString", window_minutes=request.window_length_minutes)
            with self._runs_lock:
                if len(self._runs) >= MAX_CACHED_RUNS:
                    self._runs.pop(next(iter(self._runs)))
                self._runs[key] = run
        return run

    def ListRules(self, request, context):
        return simulation_pb2.ListRulesResponse(rules=[rule_info(r) for r in rules.names()])

    def GetInitialParameters(self, request, context):
        initial = initial_parameter_set(request)
        return simulation_pb2.GetInitialParametersResponse(parameters=types_pb2.ParameterSet(
            values={key: to_tensor(value) for key, value in initial.items()}))

    def ListDatasets(self, request, context):
        names = self.registry.names()
        return simulation_pb2.ListDatasetsResponse(
            datasets=[dataset_info(self.registry, n) for n in names]
        )

    def GetDataset(self, request, context):
        return simulation_pb2.GetDatasetResponse(dataset=dataset_info(self.registry, request.name))

    def RegisterDataset(self, request, context):
        self.registry.register_directory(request.name, request.directory, list(request.tokens))
        return simulation_pb2.RegisterDatasetResponse(
            dataset=dataset_info(self.registry, request.name)
        )

    def UploadDataset(self, request_iterator, context):
        header, blocks, rows = None, [], 0
        for index, message in enumerate(request_iterator):
            if message.HasField("header"):
                if header is not None:
                    raise invalid(f"requests[{index}].header", "only the first message is a header")
                header = message.header
            elif header is None:
                raise invalid("requests[0].header", "the first message must be the header")
            else:
                block = from_tensor(message.prices, f"requests[{index}].prices")
                if block.ndim != 2 or block.shape[1] != len(header.tokens):
                    raise invalid(f"requests[{index}].prices",
                                  f"must be [rows, {len(header.tokens)}], got {list(block.shape)}")
                rows += block.shape[0]
                self.limits.check(f"requests[{index}].prices", 1, 1, rows, block.shape[1],
                                  "upload")
                blocks.append(block.astype(np.float64))
        if header is None or not blocks:
            raise invalid("requests", "send a header and at least one block of prices")
        start = windows.parse_date(timestamp_to_date(header.first_minute, "header.first_minute"),
                                   "header.first_minute")
        series = PriceSeries(tuple(header.tokens), start, np.concatenate(blocks))
        self.registry.add(header.name, series, "upload")
        return simulation_pb2.UploadDatasetResponse(dataset=dataset_info(self.registry, header.name))

    def Simulate(self, request, context) -> Iterator[simulation_pb2.SimulateResponse]:
        ensure_time_left(context)
        run = resolve_run(self.registry, request.dataset, request.fingerprint)
        self.limits.check("fingerprint", 1, 1, run.config.n_minutes, len(run.tokens))
        params = _single_set(run, request.parameters)
        stride = request.stride_minutes or 1
        row_bytes = 8 * (3 * len(run.tokens) + 1)  # weights, reserves, prices, value
        rows_per_message = request.max_rows_per_message or DEFAULT_MESSAGE_BYTES // row_bytes
        if stride < 1 or rows_per_message < 1:
            raise invalid("stride_minutes", "stride_minutes and max_rows_per_message must be >= 1")
        dynamic = minute_dynamic(run, request.minute_inputs)
        if dynamic is None:
            out = simulation.simulate(params, run.prices, run.plan.start_index, run.config,
                                      run.log_prices)
            objective = simulation.objective(params, run.prices, run.plan.start_index,
                                             run.config, run.log_prices)
        else:
            config = dataclasses.replace(run.config, dynamic_inputs=True)
            out = simulation.simulate(params, run.prices, run.plan.start_index, config,
                                      run.log_prices, dynamic)
            objective = metrics.objective(config.return_val, out["values"], out["reserves"],
                                          out["prices"])
        report = metrics.slice_metrics(out["values"], out["reserves"], out["prices"])
        summary = simulation_pb2.SimulationSummary(
            tokens=run.tokens,
            first_minute=date_to_timestamp(run.unix_ms(run.plan.start_index)),
            n_minutes=run.config.n_minutes,
            stride_minutes=stride,
            n_rows=math.ceil(run.config.n_minutes / stride),
            final_value_usd=float(out["final_value"]),
            initial_reserves=to_tensor(np.asarray(out["reserves"][0])),
            final_reserves=to_tensor(np.asarray(out["final_reserves"])),
            final_weights=to_tensor(np.asarray(out["weights"][-1])),
            final_prices=to_tensor(np.asarray(out["prices"][-1])),
            metrics={"objective": float(objective), **_float_metrics(report)},
            warnings=list(run.plan.warnings),
        )
        if "rule_outputs" in out:
            summary.rule_outputs.CopyFrom(to_tensor(np.asarray(out["rule_outputs"])))
        yield simulation_pb2.SimulateResponse(summary=summary)
        series = {key: np.asarray(out[key][::stride]) for key in ("weights", "reserves", "values", "prices")}
        for first in range(0, summary.n_rows, rows_per_message):
            if not context.is_active():
                return
            rows = slice(first, first + rows_per_message)
            yield simulation_pb2.SimulateResponse(chunk=simulation_pb2.SimulationChunk(
                first_row=first, **{key: to_tensor(value[rows]) for key, value in series.items()}
            ))

    def GetReadouts(self, request, context):
        run = resolve_run(self.registry, request.dataset, request.fingerprint)
        if not rules.get(run.config.rule).has_readouts:
            raise invalid("fingerprint.rule",
                          f"readouts exist for {', '.join(rules.readout_rules())} only")
        self.limits.check("fingerprint", 1, 1, run.config.n_minutes, len(run.tokens))
        params = _single_set(run, request.parameters)
        ensure_time_left(context)
        readouts = simulation.readouts(params, run.prices, run.plan.start_index, run.config)
        first_chunk = (run.plan.start_index // run.config.chunk_period + 1) * run.config.chunk_period
        return simulation_pb2.GetReadoutsResponse(
            tokens=run.tokens,
            first_chunk_time=date_to_timestamp(run.unix_ms(first_chunk)),
            chunk_period_minutes=run.config.chunk_period,
            readouts={key: to_tensor(np.asarray(value)) for key, value in readouts.items()},
        )

    def Evaluate(self, request, context):
        offsets = np.asarray(request.window_start_offsets_minutes, dtype=np.int64)
        length = request.window_length_minutes
        if length < 2:
            raise invalid("window_length_minutes", f"must be >= 2 minutes, got {length}")
        if offsets.size == 0:
            raise invalid("window_start_offsets_minutes", "give at least one window start")
        if np.any(offsets < 0):
            raise invalid("window_start_offsets_minutes", "offsets must be >= 0 (no window "
                          "may start before fingerprint.start_time)")
        self.limits.check("parameter_sets", request_set_count(request), offsets.size, length,
                          len(request.fingerprint.tokens),
                          "gradient" if request.with_gradient else "evaluate")
        run = self._evaluate_run(request)
        params = run.request_sets(request)
        last_start = run.plan.start_index + int(offsets.max())
        if run.config.min_price_rows(last_start) > run.plan.n_rows:
            raise invalid("window_start_offsets_minutes",
                          f"the window at offset {int(offsets.max())} runs past the data of "
                          "the fingerprint's period (end_test_time or end_time)")
        starts = run.plan.start_index + offsets
        ensure_time_left(context)
        if request.with_gradient:
            mean, per_window, grads = simulation.value_and_grad_sets(
                params, run.prices, starts, run.config, run.log_prices)
        else:
            per_window = simulation.evaluate_sets(params, run.prices, starts, run.config,
                                                  run.log_prices)
            mean, grads = jnp.mean(per_window, axis=1), {}
        mean, per_window, grads = jax.device_get((mean, per_window, grads))  # one transfer
        return simulation_pb2.EvaluateResponse(
            objectives=to_tensor(per_window),
            mean_objectives=to_tensor(mean),
            gradients={key: to_tensor(value) for key, value in grads.items()},
            return_val=run.config.return_val,
            fused=run.config.uses_fused_objective,
        )

    def EvaluatePeriods(self, request, context):
        run = resolve_run(self.registry, request.dataset, request.fingerprint, "endTestDateString")
        self.limits.check("parameter_sets", request_set_count(request), 1, run.config.n_minutes,
                          len(run.tokens), sets_at_once=1)  # sets run one after another
        params = run.request_sets(request)
        n_minutes = run.config.n_minutes
        for i, period in enumerate(request.periods):
            if not 0 <= period.start_offset_minutes < period.end_offset_minutes - 1 < n_minutes:
                raise invalid(f"periods[{i}]", f"need 0 <= start < end - 1 < {n_minutes} minutes")
        states = np.asarray(request.state_offsets_minutes, dtype=np.int64)
        if np.any((states < 0) | (states >= n_minutes)):
            raise invalid("state_offsets_minutes", f"offsets must be in [0, {n_minutes})")
        ensure_time_left(context)
        bounds = tuple((p.start_offset_minutes, p.end_offset_minutes) for p in request.periods)
        reports, weights, reserves = jax.device_get(simulation.period_reports(
            params, run.prices, run.plan.start_index, run.config, bounds, jnp.asarray(states),
            run.log_prices))
        sets = [simulation_pb2.SetPeriods(
            periods=[simulation_pb2.PeriodMetrics(
                name=period.name,
                metrics=_float_metrics({k: v[s] for k, v in report.items()}),
                daily_returns=to_tensor(report["daily_returns"][s]),
            ) for period, report in zip(request.periods, reports, strict=True)],
            weights=to_tensor(weights[s]),
            reserves=to_tensor(reserves[s]),
        ) for s in range(len(weights))]
        return simulation_pb2.EvaluatePeriodsResponse(tokens=run.tokens, sets=sets)
