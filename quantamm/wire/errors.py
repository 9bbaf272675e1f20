"""Request errors and their gRPC status codes (a message that names the field at fault).

Engine-free on purpose: both services use it. Validation errors of the engine and the data layer
(fingerprints, windows, datasets, tensors) are ``ValueError``s with a ``field`` attribute; they
map to INVALID_ARGUMENT without this module importing them.

On the wire (``abort``) a refused call carries two things:

* the status message, ``"field: message"`` as it always was, for grpcurl and for clients that
  read only the text;
* a ``google.rpc.Status`` in the ``grpc-status-details-bin`` trailer (same code, same message)
  whose one detail is a ``google.rpc.BadRequest`` with one ``FieldViolation``
  (``field``: the field path, ``description``: the message without the field).

Every code gets the same BadRequest detail, NOT_FOUND, FAILED_PRECONDITION, RESOURCE_EXHAUSTED,
UNAVAILABLE and the rest included (not ResourceInfo / PreconditionFailure / QuotaFailure): the
one thing every refusal says is which request field it is about, and one detail type keeps the
Python and Node clients to one decoder. The status code says what kind of refusal it is.

The violation's field is ``RequestError.user_field`` when set (the name the caller used, e.g.
``endDateString`` for a call made from the reference settings dict), else ``field`` (the proto
path, e.g. ``fingerprint.end_time``); the message text always keeps the proto path.
``with_user_fields`` is the hook that fills ``user_field`` from a wire-path -> user-key table.

Field and message are bounded (``MAX_ECHO`` characters each, then ``...`` and the original
length) wherever they leave the process: in the status and in ``str(error)``, which the access
log prints. A 10 MB rule name echoed in a message never becomes a 10 MB status or log line.
"""

from __future__ import annotations

from typing import Mapping, NoReturn

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

MAX_ECHO = 300  # characters of a field path or a message quoted in a status or a log line


def bounded(text: str, limit: int = MAX_ECHO) -> str:
    """``text``, or its first ``limit`` characters, ``...`` and its length when longer."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


class RequestError(Exception):
    """A request the server refuses: a status code and the request field at fault.

    Attributes:
      code: the gRPC status code.
      field: the proto path of the field at fault, e.g. ``fingerprint.end_time``.
      message: what is wrong with it (unbounded; ``str(error)`` is bounded).
      user_field: the name the caller used for that field, when it differs (e.g.
        ``endDateString``); the status's field violation names it instead of ``field``.
    """

    def __init__(self, code: grpc.StatusCode, field: str, message: str,
                 user_field: str | None = None) -> None:
        super().__init__(f"{bounded(field)}: {bounded(message)}")
        self.code = code
        self.field = field
        self.message = message
        self.user_field = user_field

    @property
    def violation_field(self) -> str:
        """The field named in the status's field violation."""
        return self.user_field or self.field

    def with_user_field(self, user_field: str | None) -> RequestError:
        """The same refusal naming ``user_field`` in its field violation."""
        return RequestError(self.code, self.field, self.message, user_field)

    def to_status(self) -> status_pb2.Status:
        """The google.rpc.Status sent for this error (see the module docstring)."""
        violation = error_details_pb2.BadRequest.FieldViolation(
            field=bounded(self.violation_field), description=bounded(self.message))
        status = status_pb2.Status(code=self.code.value[0], message=str(self))
        status.details.add().Pack(error_details_pb2.BadRequest(field_violations=[violation]))
        return status


def invalid(field: str, message: str, user_field: str | None = None) -> RequestError:
    return RequestError(grpc.StatusCode.INVALID_ARGUMENT, field, message, user_field)


def not_found(field: str, message: str, user_field: str | None = None) -> RequestError:
    return RequestError(grpc.StatusCode.NOT_FOUND, field, message, user_field)


def failed_precondition(field: str, message: str, user_field: str | None = None) -> RequestError:
    return RequestError(grpc.StatusCode.FAILED_PRECONDITION, field, message, user_field)


def with_user_fields(error: RequestError, aliases: Mapping[str, str]) -> RequestError:
    """``error`` naming the caller's key for its field: ``aliases`` maps proto paths to user
    keys (``{"fingerprint.end_time": "endDateString"}``); the longest path that is the field or
    a dotted / indexed prefix of it wins, the rest of the path is kept
    (``settings.x[0]`` -> ``userX[0]``). Unchanged when nothing matches or already aliased."""
    if error.user_field is not None:
        return error
    field = error.field
    for path in sorted(aliases, key=len, reverse=True):
        if field == path or (field.startswith(path) and field[len(path)] in ".["):
            return error.with_user_field(aliases[path] + field[len(path):])
    return error


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
    """End the call with ``error``'s status code, its ``"field: message"`` text and a
    google.rpc.Status holding a BadRequest field violation (see the module docstring)."""
    context.abort_with_status(rpc_status.to_status(error.to_status()))
    raise AssertionError("unreachable: abort_with_status raises")  # pragma: no cover
