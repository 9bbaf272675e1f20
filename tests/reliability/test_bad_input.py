"""Bad input for every RPC of both services, table-driven: each case gets its status code and a
message naming the field, and the server keeps serving. Malformed protobuf bytes, messages over
the size limit and requests over the cell and memory limits included. (Simulate and Evaluate
fingerprint cases live in tests/service/test_sim_service_errors.py.)"""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from quantamm_api.v1 import simulation_pb2 as sim
from quantamm_api.v1 import simulation_pb2_grpc
from quantamm_api.v1 import training_pb2 as train
from quantamm_api.v1 import types_pb2
from quantamm.wire.tensors import to_tensor
from sim_service.server import create_server
from tests.reliability.conftest import LIMITS
from tests.service.conftest import S1_START, parameter_set, s1_fingerprint
from tests.train.conftest import gradient_request, wait_done

Code = grpc.StatusCode
DAY = 86400
GOOD = {"memory_days": [10.0], "k_per_day": [20.0]}


def short_fp(days: int = 3, tokens=("BTC", "ETH", "USDC"), **settings) -> types_pb2.RunFingerprint:
    fp = s1_fingerprint()
    fp.end_time.seconds = S1_START + days * DAY
    del fp.tokens[:]
    fp.tokens.extend(tokens)
    for name, value in settings.items():
        setattr(fp, name, value)
    return fp


def upload(*messages) -> list[sim.UploadDatasetRequest]:
    header = sim.UploadHeader(name="corpus", tokens=["AAA", "BBB"],
                              first_minute=Timestamp(seconds=S1_START))
    first = [sim.UploadDatasetRequest(header=header)]
    return first + [sim.UploadDatasetRequest(**message) for message in messages]


def prices(rows: int, value: float = 1.0) -> types_pb2.Tensor:
    return to_tensor(np.full((rows, 2), value))


def periods(*spans, states=()) -> sim.EvaluatePeriodsRequest:
    return sim.EvaluatePeriodsRequest(
        fingerprint=short_fp(), parameter_sets=[parameter_set(GOOD)],
        periods=[sim.Period(name="p", start_offset_minutes=a, end_offset_minutes=b)
                 for a, b in spans], state_offsets_minutes=list(states))


def start(**gradient) -> train.StartJobRequest:
    return gradient_request(n_iterations=2, **gradient)


def start_with(change) -> train.StartJobRequest:
    request = start()
    change(request)
    return request


def simulate(days: int = 3, **fields) -> sim.SimulateRequest:
    return sim.SimulateRequest(fingerprint=short_fp(days), parameters=parameter_set(GOOD),
                               **fields)


SIM_CASES = {
    # method, request (or a list for client-streaming), code, field named
    "GetDataset unknown": ("GetDataset", sim.GetDatasetRequest(name="nope"), Code.NOT_FOUND,
                           "dataset"),
    "GetDataset empty name": ("GetDataset", sim.GetDatasetRequest(), Code.NOT_FOUND, "dataset"),
    "RegisterDataset outside the data dir": (
        "RegisterDataset", sim.RegisterDatasetRequest(name="x", directory="../..", tokens=["BTC"]),
        Code.INVALID_ARGUMENT, "directory"),
    "RegisterDataset missing folder": (
        "RegisterDataset", sim.RegisterDatasetRequest(name="x", directory="nope", tokens=["BTC"]),
        Code.NOT_FOUND, "directory"),
    "RegisterDataset no tokens": ("RegisterDataset",
                                  sim.RegisterDatasetRequest(name="x", directory="."),
                                  Code.INVALID_ARGUMENT, "tokens"),
    "UploadDataset two headers": ("UploadDataset", upload({"header": sim.UploadHeader()}),
                                  Code.INVALID_ARGUMENT, "requests[1].header"),
    "UploadDataset infinite price": ("UploadDataset", upload({"prices": prices(3, np.inf)}),
                                     Code.INVALID_ARGUMENT, "prices"),
    "UploadDataset bad name": (
        "UploadDataset",
        [sim.UploadDatasetRequest(header=sim.UploadHeader(
            name="../etc", tokens=["A"], first_minute=Timestamp(seconds=S1_START))),
         sim.UploadDatasetRequest(prices=to_tensor(np.ones((3, 1))))],
        Code.INVALID_ARGUMENT, "name"),
    "UploadDataset first minute not whole": (
        "UploadDataset",
        [sim.UploadDatasetRequest(header=sim.UploadHeader(
            name="odd", tokens=["A"], first_minute=Timestamp(seconds=S1_START + 1))),
         sim.UploadDatasetRequest(prices=to_tensor(np.ones((3, 1))))],
        Code.INVALID_ARGUMENT, "header.first_minute"),
    "UploadDataset over the cell limit": (
        "UploadDataset", upload({"prices": prices(LIMITS["max_request_cells"] // 4)},
                                {"prices": prices(LIMITS["max_request_cells"] // 4 + 1)}),
        Code.RESOURCE_EXHAUSTED, "requests[2].prices"),
    "Simulate negative stride": ("Simulate", simulate(stride_minutes=-2), Code.INVALID_ARGUMENT,
                                 "stride_minutes"),
    "Simulate over the cell limit": ("Simulate", simulate(days=170), Code.RESOURCE_EXHAUSTED,
                                     "fingerprint"),
    "Simulate gyroscope without its geometry": (
        "Simulate", sim.SimulateRequest(fingerprint=short_fp(tokens=("BTC", "ETH"),
                                                             rule="gyroscope")),
        Code.INVALID_ARGUMENT, "parameters[0].values"),
    "Simulate memory_days out of range": (
        "Simulate", sim.SimulateRequest(fingerprint=short_fp(),
                                        parameters=parameter_set({"memory_days": [-3.0]})),
        Code.INVALID_ARGUMENT, "parameters[0].values['memory_days']"),
    "Simulate engine parameter saturating": (
        "Simulate", sim.SimulateRequest(fingerprint=short_fp(),
                                        parameters=parameter_set({"log_k": [1e300]})),
        Code.INVALID_ARGUMENT, "parameters[0].values['log_k']"),
    "GetReadouts rule without readouts": (
        "GetReadouts", sim.GetReadoutsRequest(fingerprint=short_fp(rule="balancer")),
        Code.INVALID_ARGUMENT, "fingerprint.rule"),
    "GetReadouts bad parameter": (
        "GetReadouts", sim.GetReadoutsRequest(fingerprint=short_fp(),
                                              parameters=parameter_set({"k_per_day": [0.0]})),
        Code.INVALID_ARGUMENT, "parameters[0].values['k_per_day']"),
    "Evaluate over the cell limit": (
        "Evaluate", sim.EvaluateRequest(
            fingerprint=s1_fingerprint(), parameter_sets=[parameter_set(GOOD)] * 2,
            window_start_offsets_minutes=list(range(0, 7 * 1440, 1440)),
            window_length_minutes=60 * 1440, with_gradient=True),
        Code.RESOURCE_EXHAUSTED, "parameter_sets"),
    "EvaluatePeriods reversed period": ("EvaluatePeriods", periods((100, 50)),
                                        Code.INVALID_ARGUMENT, "periods[0]"),
    "EvaluatePeriods period past the run": ("EvaluatePeriods", periods((0, 10 * 1440)),
                                            Code.INVALID_ARGUMENT, "periods[0]"),
    "EvaluatePeriods state outside the run": ("EvaluatePeriods", periods((0, 60), states=[-1]),
                                              Code.INVALID_ARGUMENT, "state_offsets_minutes"),
    "EvaluatePeriods no sets": (
        "EvaluatePeriods", sim.EvaluatePeriodsRequest(fingerprint=short_fp()),
        Code.INVALID_ARGUMENT, "parameter_sets"),
}


def call(stub, method: str, request):
    answer = getattr(stub, method)(iter(request) if isinstance(request, list) else request,
                                   timeout=60)
    return list(answer) if method == "Simulate" else answer


def refused(stub, method: str, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call(stub, method, request)
    return info.value


@pytest.mark.parametrize("case", list(SIM_CASES))
def test_bad_simulation_input_gets_its_status_and_field(limited, case):
    method, request, code, field = SIM_CASES[case]
    error = refused(limited["sim"], method, request)
    assert (error.code(), field in error.details()) == (code, True), error.details()
    assert "momentum" in [r.name for r in limited["sim"].ListRules(sim.ListRulesRequest()).rules]


def test_over_limit_messages_name_the_limit_and_the_size(limited, tmp_path):
    cells = refused(limited["sim"], *SIM_CASES["Evaluate over the cell limit"][:2]).details()
    assert cells.startswith("parameter_sets: 2 sets x 7 windows x 86400 minutes x 3 assets = "
                            "3.63e+06 cells exceeds this server's limit of 6e+05 cells")
    small, _, port, _ = create_server(host="127.0.0.1", port=0, memory_budget_mib=1)
    try:
        stub = simulation_pb2_grpc.SimulationServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        memory = refused(stub, "Simulate", simulate(days=3)).details()
    finally:
        small.stop(0)
    assert memory.startswith("fingerprint: 1 sets x 1 windows x ")
    assert "needs about 4 MiB, over this server's memory budget of 1 MiB per call" in memory


TRAIN_CASES = {
    "StartJob one token": (
        "StartJob", start_with(lambda r: r.fingerprint.ClearField("tokens")
                               or r.fingerprint.tokens.append("BTC")),
        Code.INVALID_ARGUMENT, "fingerprint.tokens"),
    "StartJob unknown rule": ("StartJob", start_with(lambda r: setattr(r.fingerprint, "rule", "x")),
                              Code.INVALID_ARGUMENT, "fingerprint.rule"),
    "StartJob NaN learning rate": ("StartJob", start(base_lr=float("nan")), Code.INVALID_ARGUMENT,
                                   "settings.gradient_descent.base_lr"),
    "StartJob zero batch": ("StartJob", start(batch_size=0), Code.INVALID_ARGUMENT,
                            "settings.gradient_descent.batch_size"),
    "StartJob unknown optimiser": ("StartJob", start(optimiser="adamm"), Code.INVALID_ARGUMENT,
                                   "settings.gradient_descent.optimiser"),
    "StartJob batch over the step limit": ("StartJob", start(batch_size=64),
                                           Code.RESOURCE_EXHAUSTED,
                                           "settings.gradient_descent.batch_size"),
    "StartJob validation fraction of 2": (
        "StartJob", start_with(lambda r: setattr(r.settings, "val_fraction", 2.0)),
        Code.INVALID_ARGUMENT, "settings.val_fraction"),
    "StartJob unknown method": (
        "StartJob", start_with(lambda r: setattr(r.settings, "method", 99)),
        Code.INVALID_ARGUMENT, "settings.method"),
    "StartJob unknown initial parameter": (
        "StartJob", start_with(lambda r: r.initial_parameters.append(parameter_set({"x": [1.0]}))),
        Code.INVALID_ARGUMENT, "initial_parameters[0].values['x']"),
    "StartJob dates reversed": (
        "StartJob", start_with(lambda r: r.fingerprint.end_time.FromSeconds(
            r.fingerprint.start_time.seconds - DAY)), Code.INVALID_ARGUMENT, "fingerprint"),
    "GetJob no id": ("GetJob", train.GetJobRequest(), Code.INVALID_ARGUMENT, "job_id"),
    "GetJob unknown id": ("GetJob", train.GetJobRequest(job_id="nope"), Code.NOT_FOUND, "job_id"),
    "CancelJob unknown id": ("CancelJob", train.CancelJobRequest(job_id="nope"), Code.NOT_FOUND,
                             "job_id"),
    "ResumeJob no id": ("ResumeJob", train.ResumeJobRequest(), Code.INVALID_ARGUMENT, "job_id"),
    "WatchJob unknown id": ("WatchJob", train.WatchJobRequest(job_id="nope"), Code.NOT_FOUND,
                            "job_id"),
    "ListJobs negative page": ("ListJobs", train.ListJobsRequest(page_size=-1),
                               Code.INVALID_ARGUMENT, "page_size"),
}


@pytest.mark.parametrize("case", list(TRAIN_CASES))
def test_bad_training_input_gets_its_status_and_field(limited, case):
    method, request, code, field = TRAIN_CASES[case]
    with pytest.raises(grpc.RpcError) as info:
        answer = getattr(limited["train"], method)(request, timeout=60)
        list(answer) if method == "WatchJob" else answer
    assert (info.value.code(), field in info.value.details()) == (code, True), \
        info.value.details()
    assert limited["train"].ListJobs(train.ListJobsRequest(), timeout=10) is not None


def test_resuming_a_finished_job_is_a_failed_precondition(limited):
    job_id = limited["train"].StartJob(start(), timeout=60).job_id
    assert wait_done(limited["train"], job_id).state == train.JOB_STATE_SUCCEEDED
    with pytest.raises(grpc.RpcError) as info:
        limited["train"].ResumeJob(train.ResumeJobRequest(job_id=job_id), timeout=10)
    assert info.value.code() == Code.FAILED_PRECONDITION and "job_id" in info.value.details()


def methods(service) -> list[tuple[str, bool, bool]]:
    return [(m.name, m.client_streaming, m.server_streaming) for m in service.methods]


SERVICES = {"sim": sim.DESCRIPTOR.services_by_name["SimulationService"],
            "train": train.DESCRIPTOR.services_by_name["TrainingService"]}
ALL_METHODS = [(kind, *m) for kind, service in SERVICES.items() for m in methods(service)]


def raw_call(channel: grpc.Channel, kind: str, name: str, client_streaming: bool,
             server_streaming: bool, payload: bytes):
    """Call ``name`` with ``payload`` as the request bytes (no serialisation)."""
    path = f"/{SERVICES[kind].full_name}/{name}"
    shape = ("stream" if client_streaming else "unary") + "_" + \
        ("stream" if server_streaming else "unary")
    method = getattr(channel, shape)(path, request_serializer=None, response_deserializer=None)
    request = iter([payload]) if client_streaming else payload
    answer = method(request, timeout=30)
    return list(answer) if server_streaming else answer


@pytest.mark.parametrize("kind, name, client_streaming, server_streaming", ALL_METHODS)
def test_malformed_protobuf_bytes_are_invalid_argument(limited, kind, name, client_streaming,
                                                       server_streaming):
    channel = limited[f"{kind}_channel"]
    with pytest.raises(grpc.RpcError) as info:
        raw_call(channel, kind, name, client_streaming, server_streaming, b"\x0a\xff\xff\xff\x0f")
    expected = "requests[0]" if client_streaming else "request"
    assert info.value.code() == Code.INVALID_ARGUMENT, info.value.details()
    assert info.value.details().startswith(f"{expected}: malformed protobuf bytes")


def test_a_message_over_the_size_limit_is_refused_and_the_server_goes_on(limited):
    too_big = LIMITS["max_message_mib"] * 2**20 // 8 + 1
    request = sim.EvaluateRequest(fingerprint=short_fp(), parameter_sets=[
        types_pb2.ParameterSet(values={"log_k": to_tensor(np.zeros(too_big))})],
        window_start_offsets_minutes=[0], window_length_minutes=1440)
    error = refused(limited["sim"], "Evaluate", request)
    assert error.code() == Code.RESOURCE_EXHAUSTED
    assert "larger than max" in error.details()
    assert limited["sim"].ListDatasets(sim.ListDatasetsRequest(), timeout=10).datasets

