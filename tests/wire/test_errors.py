"""Structured request errors: the status text stays ``"field: message"`` and a google.rpc.Status
with a BadRequest field violation travels with it, from both services; echoes are bounded."""

from __future__ import annotations

import subprocess
import sys

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from quantamm.wire import errors
from quantamm.wire.errors import MAX_ECHO, RequestError, invalid, not_found, with_user_fields
from quantamm_api.v1 import simulation_pb2 as sim_pb2
from quantamm_api.v1 import simulation_pb2_grpc, training_pb2, training_pb2_grpc
from tests.service.conftest import parameter_set, s1_fingerprint
from tests.train.conftest import gradient_request

GOOD_PARAMS = {"memory_days": [10.0], "k_per_day": [20.0]}
MAX_CHANGE = "fingerprint.maximum_change_per_minute"


class Aborted(Exception):
    pass


class RecordingContext:
    """The part of a ServicerContext that ``abort`` uses."""

    def __init__(self) -> None:
        self.status: grpc.Status | None = None

    def abort_with_status(self, status: grpc.Status):
        self.status = status
        raise Aborted


def sent_status(error: RequestError) -> tuple[grpc.Status, status_pb2.Status]:
    context = RecordingContext()
    with pytest.raises(Aborted):
        errors.abort(context, error)
    (key, value), = context.status.trailing_metadata
    assert key == "grpc-status-details-bin"
    return context.status, status_pb2.Status.FromString(value)


def violations(status: status_pb2.Status) -> list[tuple[str, str]]:
    found = []
    for detail in status.details:
        request = error_details_pb2.BadRequest()
        assert detail.Unpack(request), detail.type_url
        found.extend((v.field, v.description) for v in request.field_violations)
    return found


def test_abort_sends_the_same_text_and_a_bad_request_detail():
    status, rich = sent_status(invalid(MAX_CHANGE, "must be in (0, 1], got -1.0"))
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT
    assert status.details == f"{MAX_CHANGE}: must be in (0, 1], got -1.0"
    assert rich.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert rich.message == status.details
    assert violations(rich) == [(MAX_CHANGE, "must be in (0, 1], got -1.0")]


@pytest.mark.parametrize("code", [grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION,
                                  grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE,
                                  grpc.StatusCode.ALREADY_EXISTS])
def test_every_code_names_its_field_in_a_bad_request(code):
    status, rich = sent_status(RequestError(code, "dataset", "no dataset 'x'"))
    assert status.code == code and rich.code == code.value[0]
    assert status.details == "dataset: no dataset 'x'"
    assert violations(rich) == [("dataset", "no dataset 'x'")]


def test_the_user_field_names_the_violation_and_the_text_keeps_the_proto_path():
    error = invalid("fingerprint.end_time", "before the start", user_field="endDateString")
    status, rich = sent_status(error)
    assert status.details == "fingerprint.end_time: before the start"
    assert violations(rich) == [("endDateString", "before the start")]


def test_user_fields_are_mapped_by_the_longest_path_prefix():
    aliases = {"fingerprint": "run_fingerprint", "fingerprint.end_time": "endDateString",
               "settings.initial_values": "initial_values_dict"}
    assert with_user_fields(invalid("fingerprint.end_time", "x"), aliases).user_field == \
        "endDateString"
    assert with_user_fields(invalid("fingerprint.rule", "x"), aliases).user_field == \
        "run_fingerprint.rule"
    assert with_user_fields(invalid("settings.initial_values[0]", "x"), aliases).user_field == \
        "initial_values_dict[0]"
    assert with_user_fields(invalid("fingerprints", "x"), aliases).user_field is None
    assert with_user_fields(invalid("dataset", "x"), aliases).user_field is None
    already = invalid("fingerprint.end_time", "x", user_field="mine")
    assert with_user_fields(already, aliases) is already


def test_huge_fields_and_messages_are_bounded_in_the_status_and_in_str():
    name = "r" * 10_000_000
    error = not_found(f"rules[{name}]", f"unknown rule {name!r}")
    status, rich = sent_status(error)
    assert len(status.details) < 2 * MAX_ECHO + 100 and len(str(error)) == len(status.details)
    assert len(rich.SerializeToString()) < 5 * MAX_ECHO
    assert f"... ({len(error.field)} characters)" in status.details
    assert f"... ({len(error.message)} characters)" in status.details
    (field, description), = violations(rich)
    assert field.startswith("rules[rrr") and field.endswith(f"... ({len(error.field)} characters)")
    assert description.endswith(f"... ({len(error.message)} characters)")
    assert error.message == f"unknown rule {name!r}"  # kept whole for the server's own use


def test_the_module_imports_no_service_client_or_engine():
    code = ("import sys, quantamm.wire.errors; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('sim_service', 'train_service', 'client', 'jax')]; print(bad); assert not bad")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# ---- real servers on loopback ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sim_stub(loopback_services):
    with grpc.insecure_channel(loopback_services["sim"]) as channel:
        yield simulation_pb2_grpc.SimulationServiceStub(channel)


@pytest.fixture(scope="module")
def train_stub(loopback_services):
    with grpc.insecure_channel(loopback_services["train"]) as channel:
        yield training_pb2_grpc.TrainingServiceStub(channel)


def refused(call, request) -> tuple[grpc.RpcError, status_pb2.Status]:
    """The error of a refused unary or server-streaming call and the Status it carried."""
    with pytest.raises(grpc.RpcError) as info:
        response = call(request, timeout=60)
        if not isinstance(response, Message):
            list(response)
    rich = rpc_status.from_call(info.value)  # raises if code or message disagree with the call
    assert rich is not None, "no grpc-status-details-bin trailer"
    return info.value, rich


def test_sim_refuses_a_bad_fingerprint_value_with_a_field_violation(sim_stub):
    request = sim_pb2.SimulateRequest(
        dataset="default", fingerprint=s1_fingerprint(maximum_change_per_minute=-1.0),
        parameters=parameter_set(GOOD_PARAMS))
    error, rich = refused(sim_stub.Simulate, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == f"{MAX_CHANGE}: must be in (0, 1], got -1.0"  # as before
    assert violations(rich) == [(MAX_CHANGE, "must be in (0, 1], got -1.0")]


def test_sim_not_found_names_the_field_and_bounds_a_huge_echo(sim_stub):
    request = sim_pb2.SimulateRequest(dataset="d" * 1_000_000, fingerprint=s1_fingerprint(),
                                      parameters=parameter_set(GOOD_PARAMS))
    error, rich = refused(sim_stub.Simulate, request)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details().startswith("dataset: ") and len(error.details()) < 2 * MAX_ECHO + 100
    (field, description), = violations(rich)
    assert field == "dataset" and len(description) < MAX_ECHO + 50


def test_training_refuses_a_bad_setting_with_a_field_violation(train_stub):
    request = gradient_request()
    request.settings.val_fraction = 1.5
    error, rich = refused(train_stub.StartJob, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "settings.val_fraction: must be in [0, 1), got 1.5"
    assert violations(rich) == [("settings.val_fraction", "must be in [0, 1), got 1.5")]


def test_training_not_found_names_the_field_and_bounds_a_huge_echo(train_stub):
    error, rich = refused(train_stub.GetJob, training_pb2.GetJobRequest(job_id="j" * 1_000_000))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details().startswith("job_id: no job 'jjj")
    assert len(error.details()) < 2 * MAX_ECHO + 100
    (field, description), = violations(rich)
    assert field == "job_id" and description.endswith(" characters)")
