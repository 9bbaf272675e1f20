"""Typed errors carrying the gRPC status code and the request field at fault.

The servers send a ``google.rpc.Status`` with a ``google.rpc.BadRequest`` detail (see
``quantamm.wire.errors``); the field and the violations are read from it. A server or proxy that
sent only the status text (``"field: message"``) still gets its field parsed from the text.

Each typed error is also the builtin exception a caller would catch without knowing this module:
``InvalidArgumentError`` is a ``ValueError``, ``NotFoundError`` a ``LookupError``,
``DeadlineExceededError`` a ``TimeoutError`` and ``UnavailableError`` a ``ConnectionError``;
``UnknownReturnValError`` (INVALID_ARGUMENT naming ``return_val``) is also a
``NotImplementedError``, as the reference raises there.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence, TypeVar

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from quantamm.wire.fingerprints import reference_path

T = TypeVar("T")


class QuantAMMError(Exception):
    """A call to a QuantAMM service failed.

    Attributes:
      code: the gRPC status code.
      field: the request field the server named (``""`` when none), e.g.
        ``fingerprint.maximum_change_per_minute``: the first violation's field, else the text
        before ``": "`` in the message.
      violations: ``(field, description)`` of each field violation the server sent (empty when
        it sent none).
      details: the server's message.
    """

    def __init__(self, code: grpc.StatusCode, details: str,
                 violations: Sequence[tuple[str, str]] = ()) -> None:
        self.code = code
        self.details = details
        self.violations = [(str(field), str(description)) for field, description in violations]
        if self.violations:
            self.field = self.violations[0][0]
        else:
            head, sep, _ = details.partition(": ")
            self.field = head if sep and " " not in head else ""
        super().__init__(f"{code.name}: {details}")


class InvalidArgumentError(QuantAMMError, ValueError):
    """The request was refused as malformed (INVALID_ARGUMENT)."""


class UnknownReturnValError(InvalidArgumentError, NotImplementedError):
    """INVALID_ARGUMENT for a ``return_val`` that names no metric; also a NotImplementedError,
    what the reference raises there (the message lists the valid names)."""


class NotFoundError(QuantAMMError, LookupError):
    """A named dataset, rule or job does not exist (NOT_FOUND)."""


class UnavailableError(QuantAMMError, ConnectionError):
    """The service could not be reached, after retries (UNAVAILABLE)."""


class UnauthenticatedError(QuantAMMError):
    """No bearer token, or a wrong one (UNAUTHENTICATED)."""


class ResourceExhaustedError(QuantAMMError):
    """The call is over a server limit (request size, memory budget, calls in flight); the
    message names the limit and the request's size (RESOURCE_EXHAUSTED)."""


class DeadlineExceededError(QuantAMMError, TimeoutError):
    """The call's deadline passed (DEADLINE_EXCEEDED)."""


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
}


def _status(error: grpc.RpcError) -> status_pb2.Status | None:
    """The google.rpc.Status the server sent with ``error``, or None (none sent, or one that
    does not parse or disagrees with the call's code and message)."""
    if not hasattr(error, "trailing_metadata"):
        return None
    try:
        return rpc_status.from_call(error)
    except Exception:  # noqa: BLE001 (ValueError on a mismatch, DecodeError on bad bytes)
        return None


def violations_of(status: status_pb2.Status | None) -> list[tuple[str, str]]:
    """``(field, description)`` of every BadRequest field violation in ``status``."""
    found: list[tuple[str, str]] = []
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            request = error_details_pb2.BadRequest()
            if detail.Unpack(request):
                found.extend((v.field, v.description) for v in request.field_violations)
    return found


def from_rpc_error(error: grpc.RpcError) -> QuantAMMError:
    """The typed error for a failed call."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    typed = _BY_CODE.get(code, QuantAMMError)(code, details or "", violations_of(_status(error)))
    return _refined(typed)


def _refined(error: QuantAMMError) -> QuantAMMError:
    """``error`` as its more specific type where there is one (UnknownReturnValError)."""
    if (type(error) is InvalidArgumentError
            and error.field.rsplit(".", 1)[-1] == "return_val"):
        return UnknownReturnValError(error.code, error.details, error.violations)
    return error


def in_reference_keys(error: QuantAMMError) -> QuantAMMError:
    """``error`` with its fields in the reference's key names (``endDateString``, not
    ``fingerprint.end_time``), for the seeds' functions, whose callers wrote those names. The
    message text is the server's."""
    violations = error.violations or ([(error.field, error.details)] if error.field else [])
    mapped = type(error)(error.code, error.details,
                         [(reference_path(field), text) for field, text in violations])
    mapped.__cause__ = error
    return mapped


def reports_reference_keys(function: Callable[..., T]) -> Callable[..., T]:
    """Decorate a seeds' function: its typed errors name fields as the caller wrote them."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        except QuantAMMError as error:
            raise in_reference_keys(error) from error

    return wrapper
