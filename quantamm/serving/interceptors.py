"""Server interceptors both services install: a request id and one access log line per call,
known errors mapped to status codes (through ``quantamm.wire.errors.abort``), malformed request
bytes refused as INVALID_ARGUMENT, and bearer-token auth (health checks exempt)."""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
import time
import uuid
from typing import Any, Callable, Iterable

import grpc
import structlog
from grpc_health.v1 import health

from quantamm.wire import errors
from quantamm.wire.errors import invalid

log = structlog.get_logger(__name__)

ErrorMapper = Callable[[Exception], Any]  # -> object with .code and str(), or None
HEALTH_PREFIX = f"/{health.SERVICE_NAME}/"  # exempt from auth (probes carry no token)


@dataclasses.dataclass(frozen=True)
class Malformed:
    """A request whose bytes did not parse as the method's message."""

    error: str


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """``deserializer`` that returns ``Malformed`` instead of raising (gRPC would answer
    INTERNAL); the guarded handler turns it into INVALID_ARGUMENT."""
    if deserializer is None:
        return None

    def parse(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as error:  # noqa: BLE001 (DecodeError and friends)
            return Malformed(f"{type(error).__name__}: {error}")

    return parse


def _parsed(request: Any, field: str) -> Any:
    if isinstance(request, Malformed):
        raise invalid(field, f"malformed protobuf bytes ({request.error})")
    return request


def _parsed_stream(requests: Iterable[Any]) -> Iterable[Any]:
    for index, request in enumerate(requests):
        yield _parsed(request, f"requests[{index}]")


class ServiceInterceptor(grpc.ServerInterceptor):
    """Binds a request id (``x-request-id`` metadata or a new one) to the logs of a call,
    logs one access line per call, and turns known errors into status codes."""

    def __init__(self, map_error: ErrorMapper) -> None:
        self._map_error = map_error

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        metadata = dict(handler_call_details.invocation_metadata or ())
        request_id = metadata.get("x-request-id") or uuid.uuid4().hex

        def guard(call: Callable, streaming_response: bool) -> Callable:
            def fail(error: Exception, context: grpc.ServicerContext):
                mapped = self._map_error(error)
                if mapped is None:
                    log.exception("request_failed", method=method)
                    context.abort(grpc.StatusCode.INTERNAL, f"internal error ({request_id})")
                log.info("request_refused", method=method, code=mapped.code.name, error=str(mapped))
                errors.abort(context, mapped)

            @contextlib.contextmanager
            def observed(context: grpc.ServicerContext):
                with structlog.contextvars.bound_contextvars(request_id=request_id):
                    started = time.perf_counter()
                    try:
                        yield
                    except Exception as error:  # noqa: BLE001 (mapped or INTERNAL)
                        if isinstance(error, grpc.RpcError) or context.code() is not None:
                            raise
                        fail(error, context)
                    finally:
                        log.info("request", method=method,
                                 ms=round((time.perf_counter() - started) * 1000, 2))

            def parsed(request):
                if handler.request_streaming:
                    return _parsed_stream(request)
                return _parsed(request, "request")

            def unary(request, context):
                with observed(context):
                    return call(parsed(request), context)

            def stream(request, context):
                with observed(context):
                    yield from call(parsed(request), context)

            return stream if streaming_response else unary

        tolerant = _tolerant(handler.request_deserializer)
        return _replace_behaviour(handler, guard, request_deserializer=tolerant)


def _replace_behaviour(handler: grpc.RpcMethodHandler, wrap: Callable[[Callable, bool], Callable],
                       **changes: Any) -> grpc.RpcMethodHandler:
    """``handler`` with its behaviour ``b`` replaced by ``wrap(b, streaming_response)``."""
    for kind, streaming_response in (("unary_unary", False), ("unary_stream", True),
                                     ("stream_unary", False), ("stream_stream", True)):
        behaviour = getattr(handler, kind)
        if behaviour:
            return handler._replace(**{kind: wrap(behaviour, streaming_response)}, **changes)
    raise ValueError("a method handler without behaviour")


class AuthInterceptor(grpc.ServerInterceptor):
    """Refuses calls without ``authorization: Bearer <token>`` (UNAUTHENTICATED); health checks
    are exempt. The token is compared in constant time."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(HEALTH_PREFIX):
            return handler
        given = dict(handler_call_details.invocation_metadata or ()).get("authorization", "")
        if hmac.compare_digest(str(given).encode(), self._expected):
            return handler
        reason = "missing" if not given else "wrong"

        def deny(call: Callable, streaming_response: bool) -> Callable:
            def refuse(request, context):
                log.warning("request_unauthenticated", method=method, reason=reason)
                context.abort(grpc.StatusCode.UNAUTHENTICATED,
                              f"authorization: {reason} bearer token")

            def refuse_stream(request, context):
                refuse(request, context)
                yield  # pragma: no cover (abort raised)

            return refuse_stream if streaming_response else refuse

        return _replace_behaviour(handler, deny)
