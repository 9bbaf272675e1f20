"""gRPC server plumbing shared by both services: request ids, structured access logs, error
mapping, health checking, reflection and graceful shutdown. No engine imports."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import uuid
from concurrent import futures
from typing import Any, Callable, Iterable, Sequence

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

log = structlog.get_logger(__name__)

ErrorMapper = Callable[[Exception], Any]  # -> object with .code and str(), or None
MIB = 1024 * 1024


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
                context.abort(mapped.code, str(mapped))

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

            def unary(request, context):
                with observed(context):
                    return call(request, context)

            def stream(request, context):
                with observed(context):
                    yield from call(request, context)

            return stream if streaming_response else unary

        if handler.unary_unary:
            return handler._replace(unary_unary=guard(handler.unary_unary, False))
        if handler.unary_stream:
            return handler._replace(unary_stream=guard(handler.unary_stream, True))
        if handler.stream_unary:
            return handler._replace(stream_unary=guard(handler.stream_unary, False))
        return handler._replace(stream_stream=guard(handler.stream_stream, True))


def build_server(
    register: Callable[[grpc.Server], None],
    service_names: Sequence[str],
    map_error: ErrorMapper,
    workers: int = 8,
    max_message_mib: int = 64,
    extra_interceptors: Iterable[grpc.ServerInterceptor] = (),
) -> tuple[grpc.Server, health.HealthServicer]:
    """A server with the services ``register`` adds, health checking and reflection."""
    options = [
        ("grpc.max_send_message_length", max_message_mib * MIB),
        ("grpc.max_receive_message_length", max_message_mib * MIB),
    ]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers),
        interceptors=[*extra_interceptors, ServiceInterceptor(map_error)],
        options=options,
    )
    register(server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *service_names):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    return server, health_servicer


def serve_until_signalled(
    server: grpc.Server, health_servicer: health.HealthServicer, grace_seconds: float = 30.0
) -> None:
    """Block until SIGTERM/SIGINT, then report NOT_SERVING and let calls in flight finish."""
    stopping = threading.Event()

    def on_signal(signum, frame):
        log.info("shutdown_requested", signal=signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stopping.wait()
    health_servicer.enter_graceful_shutdown()
    server.stop(grace_seconds).wait()
    log.info("server_stopped")
