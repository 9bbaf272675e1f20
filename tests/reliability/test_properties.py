"""Property tests (hypothesis) against the real servers: whatever the fingerprint, parameters or
request bytes, the answer is a result or a refusal with a named field, never INTERNAL (or
UNKNOWN), and the server keeps serving."""

from __future__ import annotations

import grpc
import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from quantamm_api.v1 import simulation_pb2 as sim
from quantamm_api.v1 import training_pb2 as train
from quantamm_api.v1 import types_pb2
from quantamm.wire.tensors import to_tensor
from tests.reliability.test_bad_input import ALL_METHODS, raw_call
from tests.service.conftest import S1_START
from tests.train.conftest import gradient_request

NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
# Numbers that break naive code. Each field is mostly ordinary and sometimes odd, so that many
# requests reach the engine; the menus are small to keep the number of distinct compiled
# programs (and so the run time) small.
ODD = [float("nan"), float("inf"), -float("inf"), -1.0, 0.0, 1e-300, 1e300, -1e-9]
FLOAT_FIELDS = {"maximum_change_per_minute": [3e-4, 1.0], "minimum_weight": [0.05],
                "max_memory_days": [30.0, 365.0], "initial_pool_value_usd": [1e6],
                "fees": [0.0, 0.003], "arb_quality": [1.0], "gas_cost_usd": [0.0]}
INT_FIELDS = {"chunk_period_minutes": ([1440, 60], [7, 0, -5, 10**6]),
              "weight_interpolation_period_minutes": ([60], [0, 7, 10**6]),
              "arb_frequency_minutes": ([1, 7], [0, -1])}
RULES = ["momentum", "anti_momentum", "min_variance", "balancer", "power_channel"]
PARAMETERS = {"memory_days": [10.0, 30.0], "k_per_day": [20.0, 1.0], "log_k": [4.0],
              "logit_lamb": [2.0], "initial_weights": [1.0, 2.0], "exponent": [2.0],
              "bogus": [1.0]}


def mostly(ordinary: list, odd: list) -> st.SearchStrategy:
    """An ordinary value three times in four, else an odd one."""
    return st.integers(0, 3).flatmap(lambda i: st.sampled_from(odd if i == 3 else ordinary))


@st.composite
def fingerprints(draw, days: tuple[int, ...] = (2, 3)) -> types_pb2.RunFingerprint:
    """Fingerprints of ``days`` (mostly) from 2023-01-01 (mostly)."""
    start = S1_START + draw(mostly([0, 1440 * 60], [7, -400 * 86400, 10**9]))
    days = draw(mostly(list(days), [0, -1, 1 / 1440]))
    tokens = draw(mostly([["BTC", "ETH", "USDC"], ["ETH", "BTC"]],
                         [[], ["BTC"], ["BTC", "BTC"], ["BTC", ""], ["DOGE", "BTC"]]))
    fp = types_pb2.RunFingerprint(
        tokens=tokens, rule=draw(mostly(RULES, ["", "nope", "gyroscope", "cow"])),
        start_time=Timestamp(seconds=start), end_time=Timestamp(seconds=int(start + days * 86400)))
    for name, ordinary in FLOAT_FIELDS.items():
        if draw(st.integers(0, 3)) == 3:
            setattr(fp, name, draw(mostly(ordinary, ODD)))
    for name, (ordinary, odd) in INT_FIELDS.items():
        if draw(st.integers(0, 3)) == 3:
            setattr(fp, name, draw(mostly(ordinary, odd)))
    if draw(st.integers(0, 5)) == 5:
        fp.return_val = draw(mostly(["sharpe", "returns"], ["nope", ""]))
    return fp


@st.composite
def parameter_sets(draw) -> types_pb2.ParameterSet:
    names = draw(st.lists(st.sampled_from(list(PARAMETERS)), max_size=2, unique=True))
    values = {}
    for name in names:
        size = draw(mostly([1], [2, 3, 0]))
        numbers = draw(st.lists(mostly(PARAMETERS[name], ODD), min_size=size, max_size=size))
        tensor = to_tensor(np.asarray(numbers, dtype=np.float64))
        if draw(st.integers(0, 9)) == 9:  # shape that does not match the bytes
            tensor.shape.append(2)
        values[name] = tensor
    return types_pb2.ParameterSet(values=values)


def answer_code(call) -> grpc.StatusCode:
    try:
        call()
    except grpc.RpcError as error:
        assert error.code() not in NEVER, error.details()
        event(error.code().name)
        return error.code()
    event("OK")
    return grpc.StatusCode.OK


@PROPERTY
@given(fp=fingerprints(), params=parameter_sets())
def test_simulate_never_answers_internal(limited, fp, params):
    stub = limited["sim"]
    answer_code(lambda: list(stub.Simulate(sim.SimulateRequest(fingerprint=fp, parameters=params),
                                           timeout=120)))


@PROPERTY
@given(fp=fingerprints(), params=parameter_sets(), n_sets=mostly([1, 2], [0]),
       gradient=st.booleans(), offsets=st.lists(mostly([0, 60], [-1, 10**7]), min_size=1,
                                                max_size=2),
       length=mostly([1440], [2, 1, 0, -60]))
def test_evaluate_never_answers_internal(limited, fp, params, n_sets, gradient, offsets, length):
    request = sim.EvaluateRequest(fingerprint=fp, parameter_sets=[params] * n_sets,
                                  with_gradient=gradient,
                                  window_start_offsets_minutes=offsets,
                                  window_length_minutes=length)
    answer_code(lambda: limited["sim"].Evaluate(request, timeout=120))


@PROPERTY
@given(fp=fingerprints(days=(20,)), params=st.lists(parameter_sets(), max_size=1),
       batch=mostly([1, 2], [0, -3, 10**6]), lr=mostly([0.1], ODD))
def test_start_job_never_answers_internal(limited, fp, params, batch, lr):
    request = gradient_request(n_iterations=1, batch_size=batch, base_lr=lr)
    request.fingerprint.CopyFrom(fp)
    request.fingerprint.end_test_time.FromSeconds(fp.end_time.seconds + 7 * 86400)
    request.initial_parameters.extend(params)
    stub = limited["train"]
    started = []
    code = answer_code(lambda: started.append(stub.StartJob(request, timeout=120).job_id))
    if code == grpc.StatusCode.OK:  # accepted: cancel it, the property is about the answer
        stub.CancelJob(train.CancelJobRequest(job_id=started[0]), timeout=30)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(ALL_METHODS), payload=st.binary(max_size=48))
def test_arbitrary_request_bytes_never_answer_internal(limited, method, payload):
    kind, name, client_streaming, server_streaming = method
    answer_code(lambda: raw_call(limited[f"{kind}_channel"], kind, name, client_streaming,
                                 server_streaming, payload))
    assert limited["sim"].ListRules(sim.ListRulesRequest(), timeout=10).rules
