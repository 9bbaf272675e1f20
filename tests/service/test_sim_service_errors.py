"""Bad input gets the right status code and a message naming the field; the server keeps
serving afterwards."""

import grpc
import numpy as np
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from quantamm_api.v1 import simulation_pb2 as sim_pb2
from quantamm_api.v1 import types_pb2
from quantamm.wire.tensors import to_tensor
from tests.service.conftest import S1_START, parameter_set, s1_fingerprint

GOOD_PARAMS = {"memory_days": [10.0], "k_per_day": [20.0]}


def simulate(stub, fingerprint=None, params=None, dataset="default"):
    request = sim_pb2.SimulateRequest(
        dataset=dataset, fingerprint=fingerprint or s1_fingerprint(),
        parameters=params if params is not None else parameter_set(GOOD_PARAMS))
    return list(stub.Simulate(request))


def short_fingerprint(**settings):
    fp = s1_fingerprint(**settings)
    fp.end_time.seconds = S1_START + 3 * 86400
    return fp


def with_fields(**changes):
    fp = short_fingerprint()
    for name, value in changes.items():
        if name == "tokens":
            del fp.tokens[:]
            fp.tokens.extend(value)
        elif isinstance(value, Timestamp):
            getattr(fp, name).CopyFrom(value)
        else:
            setattr(fp, name, value)
    return fp


def bad_tensor(values, dtype=types_pb2.DATA_TYPE_FLOAT64, shape=None, data=None):
    tensor = to_tensor(np.asarray(values, dtype=np.float64))
    if shape is not None:
        del tensor.shape[:]
        tensor.shape.extend(shape)
    if data is not None:
        tensor.data = data
    tensor.dtype = dtype
    return types_pb2.ParameterSet(values={"memory_days": tensor})


CASES = {
    "unknown dataset": (dict(dataset="no-such-data"), grpc.StatusCode.NOT_FOUND, "dataset"),
    "unknown rule": (dict(fingerprint=with_fields(rule="momentom")),
                     grpc.StatusCode.NOT_FOUND, "fingerprint.rule"),
    "no tokens": (dict(fingerprint=with_fields(tokens=[])), grpc.StatusCode.INVALID_ARGUMENT,
                  "fingerprint.tokens"),
    "duplicate tokens": (dict(fingerprint=with_fields(tokens=["BTC", "BTC"])),
                         grpc.StatusCode.INVALID_ARGUMENT, "fingerprint.tokens"),
    "token not in dataset": (dict(fingerprint=with_fields(tokens=["BTC", "DOGE"])),
                             grpc.StatusCode.INVALID_ARGUMENT, "fingerprint.tokens"),
    "dates reversed": (dict(fingerprint=with_fields(end_time=Timestamp(seconds=S1_START - 86400))),
                       grpc.StatusCode.INVALID_ARGUMENT, "fingerprint.end_time"),
    "date outside the data": (dict(fingerprint=with_fields(end_time=Timestamp(seconds=2_000_000_000))),
                              grpc.StatusCode.INVALID_ARGUMENT, "fingerprint.end_time"),
    "start not a whole minute": (dict(fingerprint=with_fields(start_time=Timestamp(seconds=S1_START + 7))),
                                 grpc.StatusCode.INVALID_ARGUMENT, "fingerprint.start_time"),
    "no history before the start": (
        dict(fingerprint=with_fields(start_time=Timestamp(seconds=1622505600))),
        grpc.StatusCode.INVALID_ARGUMENT, "fingerprint.start_time"),
    "interpolation longer than chunk": (
        dict(fingerprint=with_fields(chunk_period_minutes=60,
                                     weight_interpolation_period_minutes=120)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "fingerprint.weight_interpolation_period_minutes"),
    "negative maximum change": (dict(fingerprint=with_fields(maximum_change_per_minute=-1.0)),
                                grpc.StatusCode.INVALID_ARGUMENT,
                                "fingerprint.maximum_change_per_minute"),
    "NaN pool value": (dict(fingerprint=with_fields(initial_pool_value_usd=float("nan"))),
                       grpc.StatusCode.INVALID_ARGUMENT, "fingerprint.initial_pool_value_usd"),
    "unknown metric": (dict(fingerprint=with_fields(return_val="sharpe_ratio")),
                       grpc.StatusCode.INVALID_ARGUMENT, "fingerprint.return_val"),
    "unknown parameter": (dict(params=parameter_set({"memory_dayz": [1.0]})),
                          grpc.StatusCode.INVALID_ARGUMENT, "parameters[0].values['memory_dayz']"),
    "parameter of wrong length": (dict(params=parameter_set({"log_k": [1.0, 2.0]})),
                                  grpc.StatusCode.INVALID_ARGUMENT, "parameters[0].values['log_k']"),
    "NaN parameter": (dict(params=parameter_set({"log_k": [np.nan]})),
                      grpc.StatusCode.INVALID_ARGUMENT, "parameters[0].values['log_k']"),
    "bytes not matching shape": (dict(params=bad_tensor([1.0, 2.0, 3.0], data=b"\x00" * 7)),
                                 grpc.StatusCode.INVALID_ARGUMENT, "memory_days"),
    "unset dtype": (dict(params=bad_tensor([1.0], dtype=types_pb2.DATA_TYPE_UNSPECIFIED)),
                    grpc.StatusCode.INVALID_ARGUMENT, "memory_days"),
    "boolean parameter": (dict(params=types_pb2.ParameterSet(values={"log_k": to_tensor(np.array([True]))})),
                          grpc.StatusCode.INVALID_ARGUMENT, "log_k"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_simulate_input_is_refused_with_the_field(stub, case):
    kwargs, code, field = CASES[case]
    with pytest.raises(grpc.RpcError) as info:
        simulate(stub, **kwargs)
    assert info.value.code() == code, info.value.details()
    assert field in info.value.details()
    # the server keeps serving
    assert simulate(stub, short_fingerprint())[0].summary.final_value_usd > 0


def evaluate(stub, **overrides):
    request = dict(dataset="default", fingerprint=short_fingerprint(),
                   parameter_sets=[parameter_set(GOOD_PARAMS)],
                   window_start_offsets_minutes=[0], window_length_minutes=1440, with_gradient=True)
    request.update(overrides)
    return stub.Evaluate(sim_pb2.EvaluateRequest(**request))


EVALUATE_CASES = {
    "no windows": (dict(window_start_offsets_minutes=[]), grpc.StatusCode.INVALID_ARGUMENT,
                   "window_start_offsets_minutes"),
    "window before the start": (dict(window_start_offsets_minutes=[-5]),
                                grpc.StatusCode.INVALID_ARGUMENT, "window_start_offsets_minutes"),
    "window past the data": (dict(window_start_offsets_minutes=[10**9]),
                             grpc.StatusCode.INVALID_ARGUMENT, "window_start_offsets_minutes"),
    "window too short": (dict(window_length_minutes=1), grpc.StatusCode.INVALID_ARGUMENT,
                         "window_length_minutes"),
    "no parameter sets": (dict(parameter_sets=[]), grpc.StatusCode.INVALID_ARGUMENT,
                          "parameter_sets"),
    "sets with different names": (
        dict(parameter_sets=[parameter_set(GOOD_PARAMS), parameter_set({"logit_lamb": [1.0]})]),
        grpc.StatusCode.OK, ""),
    "too much work": (dict(parameter_sets=[parameter_set(GOOD_PARAMS)] * 64,
                           window_start_offsets_minutes=list(range(0, 64 * 10, 10)),
                           window_length_minutes=170 * 1440, fingerprint=s1_fingerprint()),
                      grpc.StatusCode.RESOURCE_EXHAUSTED, "parameter_sets"),
    "window longer than the period": (dict(window_length_minutes=10 * 1440),
                                      grpc.StatusCode.INVALID_ARGUMENT, "window_length_minutes"),
}


@pytest.mark.parametrize("case", list(EVALUATE_CASES))
def test_bad_evaluate_input_is_refused_with_the_field(stub, case):
    kwargs, code, field = EVALUATE_CASES[case]
    if code == grpc.StatusCode.OK:  # missing names are filled from the defaults: same keys
        assert evaluate(stub, **kwargs).objectives.shape == [2, 1]
        return
    with pytest.raises(grpc.RpcError) as info:
        evaluate(stub, **kwargs)
    assert info.value.code() == code, info.value.details()
    assert field in info.value.details()
    assert evaluate(stub).objectives.shape == [1, 1]


@pytest.mark.parametrize("prices, field", [
    (np.array([[1.0, 2.0], [np.nan, 2.0]]), "prices"),
    (np.array([[1.0, 0.0], [1.0, 2.0]]), "prices"),
    (np.array([[1.0, -3.0], [1.0, 2.0]]), "prices"),
    (np.array([1.0, 2.0]), "requests[1].prices"),
])
def test_bad_uploaded_prices_are_refused(stub, prices, field):
    header = sim_pb2.UploadHeader(name="bad-upload", tokens=["AAA", "BBB"],
                                  first_minute=Timestamp(seconds=S1_START))
    requests = [sim_pb2.UploadDatasetRequest(header=header),
                sim_pb2.UploadDatasetRequest(prices=to_tensor(prices))]
    with pytest.raises(grpc.RpcError) as info:
        stub.UploadDataset(iter(requests))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in info.value.details()
    assert "bad-upload" not in [d.name for d in stub.ListDatasets(sim_pb2.ListDatasetsRequest()).datasets]


def test_upload_without_header_is_refused(stub):
    requests = [sim_pb2.UploadDatasetRequest(prices=to_tensor(np.ones((2, 2))))]
    with pytest.raises(grpc.RpcError) as info:
        stub.UploadDataset(iter(requests))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "header" in info.value.details()


def test_unsupported_settings_say_so(stub):
    with pytest.raises(grpc.RpcError) as info:
        simulate(stub, with_fields(turnover_penalty=0.5))
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "fingerprint.turnover_penalty" in info.value.details()


def test_an_expired_deadline_is_reported(stub):
    with pytest.raises(grpc.RpcError) as info:
        stub.Evaluate(sim_pb2.EvaluateRequest(
            fingerprint=s1_fingerprint(), parameter_sets=[parameter_set(GOOD_PARAMS)] * 8,
            window_start_offsets_minutes=list(range(0, 8000, 1000)),
            window_length_minutes=170 * 1440, with_gradient=True), timeout=0.001)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
