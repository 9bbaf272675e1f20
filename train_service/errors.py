"""Errors of the training service: the shared request errors (sent as ``"field: message"`` plus a
google.rpc BadRequest detail, see ``quantamm.wire.errors``) plus failures of sim_service."""

from __future__ import annotations

import grpc

from quantamm.wire import errors as shared
from quantamm.wire.errors import (RequestError, failed_precondition, invalid, not_found,
                                  with_user_fields)

__all__ = ["RequestError", "SimulationError", "StoreUnavailable", "as_request_error",
           "failed_precondition", "invalid", "not_found", "with_user_fields"]
# sim_service statuses that say it could not do the work now, not that the request is wrong
SIM_UNREACHABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                             grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})


class SimulationError(Exception):
    """sim_service answered a call with an error status (after retries where they apply)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"sim_service {code.name}: {details}")
        self.code = code
        self.details = details

    @property
    def unreachable(self) -> bool:
        """sim_service could not be reached or refused this server (not the request)."""
        return self.code in SIM_UNREACHABLE


class StoreUnavailable(Exception):
    """The job store stayed unreachable for the whole retry budget."""


def as_request_error(error: Exception) -> RequestError | None:
    """The status to answer with for ``error``, or None (an internal error). sim_service's
    refusal of this server's own credentials is UNAVAILABLE, not the caller's UNAUTHENTICATED."""
    if isinstance(error, SimulationError):
        code = grpc.StatusCode.UNAVAILABLE if error.unreachable else error.code
        return RequestError(code, "sim_service", error.details)
    if isinstance(error, StoreUnavailable):
        return RequestError(grpc.StatusCode.UNAVAILABLE, "job_store", str(error))
    return shared.as_request_error(error)
