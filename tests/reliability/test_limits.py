"""Bounded queues and streams a client walks away from, on a real sim_service over loopback:
calls beyond ``max_concurrent_rpcs`` are refused at once (RESOURCE_EXHAUSTED) instead of
queueing without bound; cancelled Simulate streams free their worker; deadlines are honoured."""

from __future__ import annotations

import concurrent.futures
import time

import grpc
import pytest

from quantamm_api.v1 import simulation_pb2 as sim
from quantamm_api.v1 import simulation_pb2_grpc
from sim_service.server import create_server
from tests.reliability.test_bad_input import GOOD, short_fp
from tests.service.conftest import parameter_set

# Sharpe is not a fused objective: every minute's value counts, so one call takes ~0.1-1 s.
EVALUATE = sim.EvaluateRequest(fingerprint=short_fp(days=30, return_val="sharpe"),
                               parameter_sets=[parameter_set(GOOD)] * 16,
                               window_start_offsets_minutes=list(range(0, 16 * 1440, 1440)),
                               window_length_minutes=10 * 1440, with_gradient=True)


@pytest.fixture(scope="module")
def narrow():
    """One worker, at most two calls in flight or queued."""
    server, _, port, _ = create_server(host="127.0.0.1", port=0, workers=1,
                                       max_concurrent_rpcs=2)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = simulation_pb2_grpc.SimulationServiceStub(channel)
    stub.Evaluate(EVALUATE, timeout=300)  # compile once
    yield stub
    channel.close()
    server.stop(0)


def outcome(stub) -> grpc.StatusCode:
    try:
        stub.Evaluate(EVALUATE, timeout=120)
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def test_calls_beyond_the_concurrency_bound_are_refused_not_queued(narrow):
    started = time.perf_counter()
    single = outcome(narrow)
    one_call = time.perf_counter() - started
    assert single == grpc.StatusCode.OK
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: outcome(narrow), range(8)))
    assert one_call > 0.05, one_call  # long enough for the 8 calls to overlap
    ok = codes.count(grpc.StatusCode.OK)
    refused = codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert ok + refused == 8 and 1 <= ok <= 4 and refused >= 4, (codes, one_call)
    assert outcome(narrow) == grpc.StatusCode.OK  # and it serves again


def test_cancelled_simulate_streams_free_the_worker(narrow):
    request = sim.SimulateRequest(fingerprint=short_fp(days=20), parameters=parameter_set(GOOD),
                                  max_rows_per_message=50)
    for _ in range(4):  # more than workers + queue: a leaked stream would block the next
        stream = narrow.Simulate(request, timeout=120)
        assert next(stream).HasField("summary")
        assert next(stream).chunk.first_row == 0
        stream.cancel()
    started = time.perf_counter()
    rules = narrow.ListRules(sim.ListRulesRequest(), timeout=30).rules
    assert rules and time.perf_counter() - started < 10


def test_an_expired_deadline_is_refused_before_the_work(narrow):
    with pytest.raises(grpc.RpcError) as info:
        narrow.Evaluate(EVALUATE, timeout=0.001)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert outcome(narrow) == grpc.StatusCode.OK
