"""Request errors and their gRPC status codes (a message that names the field at fault).

Engine-free on purpose: both services use it. Validation errors of the engine and the data layer
(fingerprints, windows, datasets, tensors) are ``ValueError``s with a ``field`` attribute; they
map to INVALID_ARGUMENT without this module importing them.
"""

from __future__ import annotations

from typing import NoReturn

import grpc


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


def failed_precondition(field: str, message: str) -> RequestError:
    return RequestError(grpc.StatusCode.FAILED_PRECONDITION, field, message)


def as_request_error(error: Exception, field_prefix: str = "") -> RequestError | None:
    """The RequestError for a refused request or a field-named validation error, else None."""
    if isinstance(error, RequestError):
        return error
    field = getattr(error, "field", None)
    if isinstance(error, ValueError) and isinstance(field, str):
        text = str(error)
        message = text[len(field) + 2 :] if text.startswith(f"{field}: ") else text
        return invalid(f"{field_prefix}{field}", message)
    return None


def abort(context: grpc.ServicerContext, error: RequestError) -> NoReturn:
    """End the call with ``error``'s status code and message."""
    context.abort(error.code, str(error))
