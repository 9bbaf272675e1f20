"""``SimClient``: the simulation service with numpy arrays in and out."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Mapping, Sequence

import numpy as np
from google.protobuf import timestamp_pb2

from quantamm.wire import fingerprints
from quantamm_api.v1 import simulation_pb2, simulation_pb2_grpc, types_pb2
from client.channels import ServiceClient
from client.errors import QuantAMMError
from quantamm.wire.tensors import from_tensor, to_tensor
from quantamm.data.minute_inputs import times_and_values

Fingerprint = Mapping[str, Any] | types_pb2.RunFingerprint


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """A dataset the server holds."""

    name: str
    tokens: list[str]
    first_minute: dt.datetime
    last_minute: dt.datetime
    n_minutes: int
    source: str


@dataclasses.dataclass(frozen=True)
class SimulationResult:
    """A simulated window; per-asset arrays follow ``tokens`` (sorted), one row per
    ``stride_minutes`` minutes from ``first_minute``.

    Attributes:
      values: [rows] pool value in USD.
      weights: [rows, n] pool weights.
      reserves: [rows, n] token units.
      prices: [rows, n] USD per token.
      final_value: value at the last simulated minute, USD.
      initial_reserves, final_reserves, final_weights, final_prices: [n] at the first / last
        simulated minute.
      metrics: the configured objective (``objective``) and slice metrics of the window.
      rule_outputs: [chunks - 1, n] raw rule outputs over burn-in + window (TFMM rules), or None.
    """

    tokens: list[str]
    first_minute: dt.datetime
    stride_minutes: int
    values: np.ndarray
    weights: np.ndarray
    reserves: np.ndarray
    prices: np.ndarray
    final_value: float
    initial_reserves: np.ndarray
    final_reserves: np.ndarray
    final_weights: np.ndarray
    final_prices: np.ndarray
    metrics: dict[str, float]
    rule_outputs: np.ndarray | None
    warnings: list[str]

    @property
    def hodl_values(self) -> np.ndarray:
        """[rows] USD value of holding the initial reserves instead."""
        return self.prices @ self.initial_reserves

    @property
    def final_hodl_value(self) -> float:
        """USD value of the initial reserves at the last simulated minute."""
        return float(self.final_prices @ self.initial_reserves)

    @property
    def unix_ms(self) -> np.ndarray:
        """[rows] time of each row, unix milliseconds."""
        first = int(self.first_minute.timestamp()) * 1000
        return first + np.arange(len(self.values), dtype=np.int64) * self.stride_minutes * 60_000


@dataclasses.dataclass(frozen=True)
class EvaluateResult:
    """Objectives of parameter sets x windows: ``objectives`` [sets, windows], ``mean`` [sets],
    ``gradients`` name -> [sets, ...] of each set's mean objective (empty without gradients)."""

    objectives: np.ndarray
    mean: np.ndarray
    gradients: dict[str, np.ndarray]
    return_val: str
    fused: bool


def to_datetime(stamp: timestamp_pb2.Timestamp) -> dt.datetime:
    return dt.datetime.fromtimestamp(stamp.seconds, dt.timezone.utc)


def to_timestamp(moment: dt.datetime) -> timestamp_pb2.Timestamp:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return timestamp_pb2.Timestamp(seconds=int(moment.timestamp()))


def as_fingerprint(fingerprint: Fingerprint) -> types_pb2.RunFingerprint:
    """A RunFingerprint from a proto or a reference dict."""
    if isinstance(fingerprint, types_pb2.RunFingerprint):
        return fingerprint
    return fingerprints.to_proto(fingerprint)


def as_parameter_set(values: Mapping[str, Any]) -> types_pb2.ParameterSet:
    """Named per-asset values (lists or arrays, human units accepted) as a ParameterSet."""
    return types_pb2.ParameterSet(
        values={name: to_tensor(np.atleast_1d(np.asarray(v, dtype=np.float64)))
                for name, v in values.items()}
    )


def minute_inputs(
    fees: Any = None, gas_cost: Any = None, arb_fees: Any = None, trades: Any = None
) -> simulation_pb2.MinuteInputs:
    """Per-minute inputs from the reference's tables (``fees_df``, ``gas_cost_df``,
    ``arb_fees_df``: a unix-ms time column or index and one value column; ``raw_trades``: columns
    unix ms, token_in, token_out, amount_in). Each value holds until the next time."""
    message = simulation_pb2.MinuteInputs()
    for field, table in (("fees", fees), ("gas_cost_usd", gas_cost), ("arb_fees", arb_fees)):
        if table is not None:
            times, values = times_and_values(table, field)
            getattr(message, field).CopyFrom(simulation_pb2.TimeSeries(
                unix_ms=to_tensor(times), values=to_tensor(values)))
    if trades is not None:
        table = trades.iloc[:, :4]
        message.trades.CopyFrom(simulation_pb2.Trades(
            unix_ms=to_tensor(table.iloc[:, 0].to_numpy(np.int64)),
            token_in=[str(t) for t in table.iloc[:, 1]],
            token_out=[str(t) for t in table.iloc[:, 2]],
            amount_in=to_tensor(table.iloc[:, 3].to_numpy(np.float64))))
    return message


def dataset_info(info: types_pb2.DatasetInfo) -> DatasetInfo:
    return DatasetInfo(info.name, list(info.tokens), to_datetime(info.first_minute),
                       to_datetime(info.last_minute), info.n_minutes, info.source)


class SimClient(ServiceClient):
    """The simulation service. Fingerprints are reference dicts (or RunFingerprint protos);
    parameters are dicts of per-asset values in sorted token order."""

    def __init__(self, address: str, **options: Any) -> None:
        super().__init__(address, **options)
        self.stub = simulation_pb2_grpc.SimulationServiceStub(self.channel)

    def list_rules(self) -> list[types_pb2.RuleInfo]:
        return list(self.call(self.stub.ListRules, simulation_pb2.ListRulesRequest()).rules)

    def list_datasets(self) -> list[DatasetInfo]:
        response = self.call(self.stub.ListDatasets, simulation_pb2.ListDatasetsRequest())
        return [dataset_info(d) for d in response.datasets]

    def get_dataset(self, name: str) -> DatasetInfo:
        """One dataset's description (NotFoundError when the server has none of that name)."""
        request = simulation_pb2.GetDatasetRequest(name=name)
        return dataset_info(self.call(self.stub.GetDataset, request).dataset)

    def register_dataset(self, name: str, directory: str, tokens: Sequence[str]) -> DatasetInfo:
        request = simulation_pb2.RegisterDatasetRequest(name=name, directory=directory,
                                                        tokens=list(tokens))
        return dataset_info(self.call(self.stub.RegisterDataset, request).dataset)

    def upload_dataset(
        self, name: str, prices: np.ndarray, tokens: Sequence[str], first_minute: dt.datetime,
        rows_per_message: int = 100_000,
    ) -> DatasetInfo:
        """Upload minute prices [T, n] (columns in ``tokens`` order) as dataset ``name``."""
        prices = np.asarray(prices, dtype=np.float64)
        header = simulation_pb2.UploadHeader(name=name, tokens=list(tokens),
                                             first_minute=to_timestamp(first_minute))

        def requests():
            yield simulation_pb2.UploadDatasetRequest(header=header)
            for first in range(0, prices.shape[0], rows_per_message):
                block = prices[first : first + rows_per_message]
                yield simulation_pb2.UploadDatasetRequest(prices=to_tensor(block))

        return dataset_info(self.call(lambda _, **kw: self.stub.UploadDataset(requests(), **kw),
                                      None).dataset)

    def simulate(
        self,
        fingerprint: Fingerprint,
        parameters: Mapping[str, Any] | None = None,
        dataset: str = "default",
        stride_minutes: int = 1,
        inputs: simulation_pb2.MinuteInputs | None = None,
    ) -> SimulationResult:
        """Simulate one window (``startDateString`` .. ``endDateString``); ``inputs``:
        time-varying fees, gas, arbitrage fees and trades (``minute_inputs``)."""
        request = simulation_pb2.SimulateRequest(
            dataset=dataset, fingerprint=as_fingerprint(fingerprint),
            parameters=as_parameter_set(parameters or {}), stride_minutes=stride_minutes,
            minute_inputs=inputs)
        responses = self.stream(self.stub.Simulate, request)
        summary, chunks = responses[0].summary, [r.chunk for r in responses[1:]]

        def series(name: str) -> np.ndarray:
            return np.concatenate([from_tensor(getattr(c, name)) for c in chunks])

        return SimulationResult(
            tokens=list(summary.tokens),
            first_minute=to_datetime(summary.first_minute),
            stride_minutes=summary.stride_minutes,
            values=series("values"),
            weights=series("weights"),
            reserves=series("reserves"),
            prices=series("prices"),
            final_value=summary.final_value_usd,
            initial_reserves=from_tensor(summary.initial_reserves),
            final_reserves=from_tensor(summary.final_reserves),
            final_weights=from_tensor(summary.final_weights),
            final_prices=from_tensor(summary.final_prices),
            metrics=dict(summary.metrics),
            rule_outputs=from_tensor(summary.rule_outputs) if summary.HasField("rule_outputs")
            else None,
            warnings=list(summary.warnings),
        )

    def readouts(
        self,
        fingerprint: Fingerprint,
        parameters: Mapping[str, Any] | None = None,
        dataset: str = "default",
    ) -> dict[str, np.ndarray]:
        """Estimator internals of a momentum-family rule (``RuleInfo.has_readouts``): name ->
        [chunks, n] (``gradients``, ``ewma``, ``running_a``) per chunk of the window."""
        request = simulation_pb2.GetReadoutsRequest(
            dataset=dataset, fingerprint=as_fingerprint(fingerprint),
            parameters=as_parameter_set(parameters or {}))
        response = self.call(self.stub.GetReadouts, request)
        return {key: from_tensor(value, key) for key, value in response.readouts.items()}

    def evaluate(
        self,
        fingerprint: Fingerprint,
        parameter_sets: Sequence[Mapping[str, Any]],
        window_start_offsets_minutes: Sequence[int],
        window_length_minutes: int,
        with_gradient: bool = False,
        dataset: str = "default",
    ) -> EvaluateResult:
        """Objectives (and gradients) of every set on every window, in one call."""
        request = simulation_pb2.EvaluateRequest(
            dataset=dataset, fingerprint=as_fingerprint(fingerprint),
            parameter_sets=[as_parameter_set(p) for p in parameter_sets],
            window_start_offsets_minutes=list(window_start_offsets_minutes),
            window_length_minutes=window_length_minutes, with_gradient=with_gradient)
        response = self.call(self.stub.Evaluate, request)
        return EvaluateResult(
            objectives=from_tensor(response.objectives),
            mean=from_tensor(response.mean_objectives),
            gradients={k: from_tensor(v) for k, v in response.gradients.items()},
            return_val=response.return_val,
            fused=response.fused,
        )


__all__ = ["DatasetInfo", "EvaluateResult", "QuantAMMError", "SimClient", "SimulationResult"]
