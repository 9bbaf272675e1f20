"""Typed errors carrying the gRPC status code and the request field at fault."""

from __future__ import annotations

import grpc


class QuantAMMError(Exception):
    """A call to a QuantAMM service failed.

    Attributes:
      code: the gRPC status code.
      field: the request field the server named (``""`` when none), e.g.
        ``fingerprint.maximum_change_per_minute``.
      details: the server's message.
    """

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self.code = code
        self.details = details
        head, sep, _ = details.partition(": ")
        self.field = head if sep and " " not in head else ""
        super().__init__(f"{code.name}: {details}")


class InvalidArgumentError(QuantAMMError):
    """The request was refused as malformed (INVALID_ARGUMENT)."""


class NotFoundError(QuantAMMError):
    """A named dataset, rule or job does not exist (NOT_FOUND)."""


class UnavailableError(QuantAMMError):
    """The service could not be reached, after retries (UNAVAILABLE)."""


class UnauthenticatedError(QuantAMMError):
    """No bearer token, or a wrong one (UNAUTHENTICATED)."""


class ResourceExhaustedError(QuantAMMError):
    """The call is over a server limit (request size, memory budget, calls in flight); the
    message names the limit and the request's size (RESOURCE_EXHAUSTED)."""


class DeadlineExceededError(QuantAMMError):
    """The call's deadline passed (DEADLINE_EXCEEDED)."""


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
}


def from_rpc_error(error: grpc.RpcError) -> QuantAMMError:
    """The typed error for a failed call."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    return _BY_CODE.get(code, QuantAMMError)(code, details or "")
