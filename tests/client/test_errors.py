"""The client's typed errors: field and violations read from the status details (the text when
a server sent none), and each is also the builtin exception a caller would catch."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from client.errors import (DeadlineExceededError, InvalidArgumentError, NotFoundError,
                           QuantAMMError, ResourceExhaustedError, UnavailableError, from_rpc_error)
from client.sim import SimClient
from client.train import TrainClient
from quantamm.wire.errors import invalid
from tests.train.conftest import gradient_request
from tests.wire.conftest import loopback_services  # noqa: F401 (fixture)

S1 = {"tokens": ["BTC", "ETH", "USDC"], "rule": "momentum",
      "startDateString": "2023-01-01 00:00:00", "endDateString": "2023-07-01 00:00:00"}
MAX_CHANGE = "fingerprint.maximum_change_per_minute"


class FakeRpcError(grpc.RpcError):
    """What grpc raises for a failed call: code, details and trailing metadata."""

    def __init__(self, code: grpc.StatusCode, details: str, trailers=()) -> None:
        self._code, self._details, self._trailers = code, details, tuple(trailers)

    def code(self):
        return self._code

    def details(self):
        return self._details

    def trailing_metadata(self):
        return self._trailers


def with_status(code: grpc.StatusCode, details: str, status: status_pb2.Status) -> FakeRpcError:
    return FakeRpcError(code, details, [("grpc-status-details-bin", status.SerializeToString())])


def test_violations_come_from_the_status_details():
    status = invalid("fingerprint.end_time", "before the start", user_field="endDateString")
    error = from_rpc_error(with_status(grpc.StatusCode.INVALID_ARGUMENT, str(status),
                                       status.to_status()))
    assert isinstance(error, InvalidArgumentError)
    assert error.field == "endDateString"  # the details win over the text's proto path
    assert error.violations == [("endDateString", "before the start")]
    assert error.details == "fingerprint.end_time: before the start"


def test_several_violations_and_other_details_are_read():
    status = status_pb2.Status(code=3, message="a: x")
    status.details.add().Pack(error_details_pb2.ResourceInfo(resource_type="dataset"))
    status.details.add().Pack(error_details_pb2.BadRequest(field_violations=[
        error_details_pb2.BadRequest.FieldViolation(field="a", description="x"),
        error_details_pb2.BadRequest.FieldViolation(field="b", description="y")]))
    error = from_rpc_error(with_status(grpc.StatusCode.INVALID_ARGUMENT, "a: x", status))
    assert error.field == "a" and error.violations == [("a", "x"), ("b", "y")]


@pytest.mark.parametrize("trailers", [
    (),
    [("grpc-status-details-bin", b"\xff\xfe not a status")],
    [("grpc-status-details-bin",  # disagrees with the call's message: ignored
      status_pb2.Status(code=3, message="other text").SerializeToString())],
])
def test_without_usable_details_the_field_is_parsed_from_the_text(trailers):
    error = from_rpc_error(FakeRpcError(grpc.StatusCode.NOT_FOUND, "dataset: no dataset 'x'",
                                        trailers))
    assert isinstance(error, NotFoundError)
    assert error.field == "dataset" and error.violations == []
    assert str(error) == "NOT_FOUND: dataset: no dataset 'x'"
    assert from_rpc_error(FakeRpcError(grpc.StatusCode.UNAVAILABLE, "failed to connect")).field \
        == ""


@pytest.mark.parametrize("code, typed, builtin", [
    (grpc.StatusCode.INVALID_ARGUMENT, InvalidArgumentError, ValueError),
    (grpc.StatusCode.NOT_FOUND, NotFoundError, LookupError),
    (grpc.StatusCode.DEADLINE_EXCEEDED, DeadlineExceededError, TimeoutError),
    (grpc.StatusCode.UNAVAILABLE, UnavailableError, ConnectionError),
])
def test_typed_errors_are_also_the_builtin_a_caller_catches(code, typed, builtin):
    error = from_rpc_error(FakeRpcError(code, "field: message"))
    assert type(error) is typed and isinstance(error, builtin) and isinstance(error, QuantAMMError)
    assert error.code == code and error.field == "field"
    assert str(error) == f"{code.name}: field: message"
    assert not isinstance(error, KeyError)  # KeyError would repr-quote the message
    with pytest.raises(builtin, match="field: message"):
        raise error


def test_other_codes_stay_plain_quantamm_errors():
    error = from_rpc_error(FakeRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, "request: too big"))
    assert type(error) is ResourceExhaustedError and not isinstance(error, (ValueError, OSError))
    assert type(from_rpc_error(FakeRpcError(grpc.StatusCode.INTERNAL, "boom"))) is QuantAMMError


# ---- real servers on loopback ----------------------------------------------------------------


def test_sim_client_error_reads_the_field_from_the_details(loopback_services):
    with SimClient(loopback_services["sim"], timeout_seconds=120) as sim:
        with pytest.raises(ValueError) as info:  # a reference user's except ValueError
            sim.simulate({**S1, "maximum_change": -1.0}, {"memory_days": 10.0, "k_per_day": 20.0})
        error = info.value
        assert isinstance(error, InvalidArgumentError)
        assert error.field == MAX_CHANGE
        assert error.violations == [(MAX_CHANGE, "must be in (0, 1], got -1.0")]
        assert error.details == f"{MAX_CHANGE}: must be in (0, 1], got -1.0"

        with pytest.raises(LookupError) as info:
            sim.simulate(S1, {"memory_days": 10.0, "k_per_day": 20.0}, dataset="missing")
        assert isinstance(info.value, NotFoundError)
        assert info.value.field == "dataset" and info.value.violations[0][0] == "dataset"


def test_train_client_error_reads_the_field_from_the_details(loopback_services):
    request = gradient_request()
    request.settings.val_fraction = 1.5
    with TrainClient(loopback_services["train"], timeout_seconds=120) as train:
        with pytest.raises(ValueError) as info:
            train.start(request.fingerprint, settings=request.settings)
        error = info.value
        assert isinstance(error, InvalidArgumentError)
        assert error.field == "settings.val_fraction"
        assert error.violations == [("settings.val_fraction", "must be in [0, 1), got 1.5")]
        assert error.details == "settings.val_fraction: must be in [0, 1), got 1.5"

        with pytest.raises(NotFoundError) as info:
            train.get("no-such-job")
        assert info.value.violations == [("job_id", "no job 'no-such-job'")]


def test_the_seeds_functions_name_fields_as_the_user_wrote_them(loopback_services):
    """Through do_run_on_historic_data / train_on_historic_data the violation names the
    reference key (``maximum_change``, ``optimisation_settings.val_fraction``), not the proto
    path; the server's message text is kept."""
    from client.compat import do_run_on_historic_data, train_on_historic_data

    with pytest.raises(InvalidArgumentError) as info:
        do_run_on_historic_data({**S1, "maximum_change": -1.0}, {},
                                sim_address=loopback_services["sim"])
    assert info.value.field == "maximum_change"
    assert info.value.violations == [("maximum_change", "must be in (0, 1], got -1.0")]
    assert info.value.details == f"{MAX_CHANGE}: must be in (0, 1], got -1.0"
    with pytest.raises(ValueError) as info:
        train_on_historic_data({**S1, "optimisation_settings": {"val_fraction": 1.5}},
                               sim_address=loopback_services["sim"],
                               train_address=loopback_services["train"])
    assert info.value.field == "optimisation_settings.val_fraction"


def test_unknown_return_val_is_also_a_not_implemented_error():
    """The reference raises NotImplementedError for an unknown return_val; so does the client's
    typed error (an InvalidArgumentError, a ValueError, still), in reference keys too."""
    from client.errors import UnknownReturnValError, in_reference_keys

    status = invalid("fingerprint.return_val", "unknown 'sharp' (did you mean 'sharpe'?)")
    error = from_rpc_error(with_status(grpc.StatusCode.INVALID_ARGUMENT, str(status),
                                       status.to_status()))
    assert isinstance(error, UnknownReturnValError)
    assert isinstance(error, NotImplementedError) and isinstance(error, ValueError)
    assert isinstance(error, InvalidArgumentError)
    mapped = in_reference_keys(error)
    assert isinstance(mapped, UnknownReturnValError) and mapped.field == "return_val"
    other = invalid("fingerprint.fees", "must be in [0, 1)")
    plain = from_rpc_error(with_status(grpc.StatusCode.INVALID_ARGUMENT, str(other),
                                       other.to_status()))
    assert type(plain) is InvalidArgumentError
