"""Calls to one or more sim_service replicas: round-robin per call, retries on the next replica.

A failed attempt moves straight on to the next replica; after every replica failed once the
client waits (0.2 s, doubling, at most 2 s) before the next round, for at least ``attempts`` tries
and as long as ``retry_seconds`` lasts (so a replica that restarts is waited for). Only transport
failures are retried (UNAVAILABLE: the replica is down or restarting; DEADLINE_EXCEEDED: it
hung). Every other status is the simulator's answer to the request and is raised at once as
``SimulationError``.

Every channel uses gRPC's ``round_robin`` load balancing, so one target that resolves to several
replicas (a Kubernetes headless Service, ``dns:///quantamm-sim-headless:50051``, or
``ipv4:127.0.0.1:5001,127.0.0.1:5002``) spreads its calls over all of them.
"""

from __future__ import annotations

import itertools
import threading
from typing import Callable, Mapping, Sequence

import grpc
import numpy as np
import structlog

from quantamm.wire.tensors import from_tensor
from quantamm_api.v1 import simulation_pb2, simulation_pb2_grpc, types_pb2
from quantamm.serving.channels import (
    RETRIED,
    RetriesExhausted,
    RetryPolicy,
    TLSConfig,
    bearer_metadata,
    open_channel,
)
from train_service.errors import SimulationError, invalid
from train_service.parameters import initial_values_request

log = structlog.get_logger(__name__)
RETRYABLE = RETRIED | {grpc.StatusCode.DEADLINE_EXCEEDED}  # DEADLINE_EXCEEDED: a replica hung
MAX_PAUSE_SECONDS = 2.0
MULTI_ADDRESS_SCHEMES = ("ipv4:", "ipv6:")  # gRPC targets that list addresses themselves


def parse_addresses(text: str) -> list[str]:
    """'host:port,host:port' -> ['host:port', ...] (blank entries dropped); an 'ipv4:' or 'ipv6:'
    target keeps its comma-separated address list as one target (one balanced channel)."""
    if text.strip().startswith(MULTI_ADDRESS_SCHEMES):
        return [text.strip()]
    addresses = [part.strip() for part in text.split(",") if part.strip()]
    if not addresses:
        raise invalid("sim_address", "give at least one sim_service address HOST:PORT")
    return addresses


class SimClient:
    """A SimulationService client over several addresses (thread-safe).

    Args:
      addresses: ``host:port`` of every replica.
      attempts: tries per call before giving up (each on the next replica).
      backoff_seconds: pause after a round in which every replica failed, doubled each round.
      timeout_seconds: deadline of one attempt (first calls may compile for a while).
      retry_seconds: keep retrying transport failures at least this long.
      token: bearer token sent to sim_service (None: none).
      tls: TLS to sim_service (None: plaintext).
    """

    def __init__(
        self,
        addresses: Sequence[str],
        attempts: int = 5,
        backoff_seconds: float = 0.2,
        timeout_seconds: float = 600.0,
        max_message_mib: int = 64,
        retry_seconds: float = 60.0,
        token: str | None = None,
        tls: TLSConfig | None = None,
    ) -> None:
        self.addresses = list(addresses)
        credentials = tls.credentials() if tls else None
        self._channels = [open_channel(a, credentials, max_message_mib) for a in self.addresses]
        self._stubs = [simulation_pb2_grpc.SimulationServiceStub(c) for c in self._channels]
        self._next = itertools.count()
        self._lock = threading.Lock()
        self._retry = RetryPolicy(attempts=attempts, codes=RETRYABLE, min_seconds=retry_seconds,
                                  first_pause_seconds=backoff_seconds,
                                  max_pause_seconds=MAX_PAUSE_SECONDS)
        self._timeout = timeout_seconds
        self._metadata = bearer_metadata(token)
        self._rules: dict[str, types_pb2.RuleInfo] = {}
        self._initial_sets: dict[bytes, dict[str, np.ndarray]] = {}

    def _call(self, method: Callable[[simulation_pb2_grpc.SimulationServiceStub], Callable],
              request, name: str):
        with self._lock:
            first = next(self._next)

        def replica(attempt: int) -> int:
            return (first + attempt - 1) % len(self._stubs)

        def attempt(number: int):
            return method(self._stubs[replica(number)])(request, timeout=self._timeout,
                                                        metadata=self._metadata)

        def retrying(error: grpc.RpcError, number: int, waited: float) -> None:
            log.warning("sim_call_retry", method=name, address=self.addresses[replica(number)],
                        code=error.code().name, attempt=number, seconds=round(waited, 1))

        try:
            return self._retry.call(attempt, round_size=len(self._stubs), on_retry=retrying)
        except RetriesExhausted as spent:
            raise SimulationError(spent.code(), f"{name} failed {spent.attempts} times in "
                                  f"{spent.seconds:.0f} s over {self.addresses}: "
                                  f"{spent.details()}") from spent.error
        except grpc.RpcError as error:
            raise SimulationError(error.code(), error.details() or "") from error

    def evaluate(self, request: simulation_pb2.EvaluateRequest) -> simulation_pb2.EvaluateResponse:
        """Objectives (and gradients) of parameter sets x windows."""
        return self._call(lambda stub: stub.Evaluate, request, "Evaluate")

    def evaluate_periods(
        self, request: simulation_pb2.EvaluatePeriodsRequest
    ) -> simulation_pb2.EvaluatePeriodsResponse:
        """Metrics per named period of one continuous run per parameter set."""
        return self._call(lambda stub: stub.EvaluatePeriods, request, "EvaluatePeriods")

    def initial_parameters(self, rule: str, n_assets: int, chunk_period_minutes: int,
                           initial: Mapping[str, float | list[float]]) -> dict[str, np.ndarray]:
        """The rule's un-noised initial set, [n] per key (GetInitialParameters), from
        human-unit InitialValues fields (missing ones take their defaults)."""
        request = simulation_pb2.GetInitialParametersRequest(
            rule=rule, n_assets=n_assets, chunk_period_minutes=chunk_period_minutes,
            initial_values=initial_values_request(initial))
        key = request.SerializeToString(deterministic=True)
        if key not in self._initial_sets:  # cached: a resumed job needs no simulator to start
            answer = self._call(lambda stub: stub.GetInitialParameters, request,
                                "GetInitialParameters")
            self._initial_sets[key] = {
                name: np.asarray(from_tensor(tensor, name), dtype=np.float64)
                for name, tensor in answer.parameters.values.items()}
        return {name: value.copy() for name, value in self._initial_sets[key].items()}

    def rule(self, name: str, field: str = "fingerprint.rule") -> types_pb2.RuleInfo:
        """A rule's parameter schema (ListRules, cached after the first answer)."""
        if not self._rules:
            answer = self._call(lambda stub: stub.ListRules, simulation_pb2.ListRulesRequest(),
                                "ListRules")
            self._rules = {rule.name: rule for rule in answer.rules}
        if name not in self._rules:
            raise invalid(field, f"unknown rule {name!r}; one of {', '.join(self._rules)}")
        return self._rules[name]

    def close(self) -> None:
        for channel in self._channels:
            channel.close()
