"""Errors of the training service: the shared request errors plus failures of sim_service."""

from __future__ import annotations

import grpc

from sim_service import errors as shared
from sim_service.errors import RequestError, failed_precondition, invalid, not_found

__all__ = ["RequestError", "SimulationError", "as_request_error", "failed_precondition",
           "invalid", "not_found"]


class SimulationError(Exception):
    """sim_service answered a call with an error status (after retries where they apply)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"sim_service {code.name}: {details}")
        self.code = code
        self.details = details


def as_request_error(error: Exception) -> RequestError | None:
    """The status to answer with for ``error``, or None (an internal error)."""
    if isinstance(error, SimulationError):
        return RequestError(error.code, "sim_service", error.details)
    return shared.as_request_error(error)
