"""Request errors and their gRPC status codes (a message that names the field at fault)."""

from __future__ import annotations

import grpc

from client.tensors import TensorError
from sim_service.data import DataError
from sim_service.engine.fingerprint import FingerprintError
from sim_service.engine.windows import WindowError


class RequestError(Exception):
    """A request the server refuses: a status code and the request field at fault."""

    def __init__(self, code: grpc.StatusCode, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.code = code
        self.field = field


def invalid(field: str, message: str) -> RequestError:
    return RequestError(grpc.StatusCode.INVALID_ARGUMENT, field, message)


def not_found(field: str, message: str) -> RequestError:
    return RequestError(grpc.StatusCode.NOT_FOUND, field, message)


def as_request_error(error: Exception, field_prefix: str = "") -> RequestError | None:
    """The RequestError for a validation error raised by the engine or the data layer."""
    if isinstance(error, RequestError):
        return error
    if isinstance(error, (FingerprintError, WindowError, DataError, TensorError)):
        field = getattr(error, "field", "")
        text = str(error)
        message = text[len(field) + 2 :] if text.startswith(f"{field}: ") else text
        return invalid(f"{field_prefix}{field}", message)
    return None
