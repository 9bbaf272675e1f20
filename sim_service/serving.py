"""gRPC server plumbing shared by both services: request ids, structured access logs, error
mapping, malformed-request refusal, bearer-token auth, TLS, bounded concurrency, health
checking, reflection and graceful shutdown. No engine imports."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hmac
import os
import pathlib
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

from quantamm.wire import errors
from quantamm.wire.errors import invalid

log = structlog.get_logger(__name__)

ErrorMapper = Callable[[Exception], Any]  # -> object with .code and str(), or None
MIB = 1024 * 1024
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


@dataclasses.dataclass(frozen=True)
class Security:
    """Access control of a server: a bearer token and PEM TLS material (mutual TLS when
    ``tls_client_ca`` is given)."""

    token: str | None = None
    tls_cert: bytes | None = None
    tls_key: bytes | None = None
    tls_client_ca: bytes | None = None

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls: give both the certificate and its key")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError("tls_client_ca: mutual TLS needs the server certificate and key")
        if self.token is not None and not self.token.strip():
            raise ValueError("token: empty")

    def credentials(self) -> grpc.ServerCredentials | None:
        """Server TLS credentials, or None for plaintext."""
        if self.tls_cert is None:
            return None
        return grpc.ssl_server_credentials(
            [(self.tls_key, self.tls_cert)], root_certificates=self.tls_client_ca,
            require_client_auth=self.tls_client_ca is not None)

    def interceptors(self) -> list[grpc.ServerInterceptor]:
        return [AuthInterceptor(self.token)] if self.token else []

    def describe(self) -> dict[str, bool]:
        """What is on, for the start log (never the secrets)."""
        return {"auth": bool(self.token), "tls": self.tls_cert is not None,
                "mutual_tls": self.tls_client_ca is not None}


def read_token(path: str | None, env_var: str = "QUANTAMM_AUTH_TOKEN") -> str | None:
    """The bearer token from the file ``path`` (surrounding whitespace dropped), else from the
    environment variable ``env_var``, else None (auth off)."""
    token = pathlib.Path(path).read_text().strip() if path else os.environ.get(env_var)
    if token is not None and not token.strip():
        raise ValueError(f"auth token {'file ' + path if path else env_var} is empty")
    return token.strip() if token else None


def _read(path: str | None) -> bytes | None:
    return pathlib.Path(path).read_bytes() if path else None


def add_security_arguments(parser: argparse.ArgumentParser) -> None:
    """--auth-token-file, --tls-cert, --tls-key, --tls-client-ca and --max-concurrent-rpcs."""
    env = os.environ.get
    parser.add_argument("--auth-token-file", default=env("QUANTAMM_AUTH_TOKEN_FILE"),
                        help="require 'authorization: Bearer <token>' with the token in this "
                             "file [QUANTAMM_AUTH_TOKEN_FILE; or the token itself in "
                             "QUANTAMM_AUTH_TOKEN]; health checks are exempt")
    parser.add_argument("--tls-cert", default=env("QUANTAMM_TLS_CERT"),
                        help="PEM server certificate (chain): serve TLS only [QUANTAMM_TLS_CERT]")
    parser.add_argument("--tls-key", default=env("QUANTAMM_TLS_KEY"),
                        help="PEM private key of --tls-cert [QUANTAMM_TLS_KEY]")
    parser.add_argument("--tls-client-ca", default=env("QUANTAMM_TLS_CLIENT_CA"),
                        help="PEM CA of client certificates: mutual TLS [QUANTAMM_TLS_CLIENT_CA]")
    parser.add_argument("--max-concurrent-rpcs", type=int,
                        default=int(env("QUANTAMM_MAX_CONCURRENT_RPCS", "0")) or None,
                        help="calls in flight or queued; more get RESOURCE_EXHAUSTED "
                             "(default 8 x workers) [QUANTAMM_MAX_CONCURRENT_RPCS]")


def security_from_args(args: argparse.Namespace) -> Security:
    """The Security the parsed flags describe (files read now)."""
    return Security(token=read_token(args.auth_token_file), tls_cert=_read(args.tls_cert),
                    tls_key=_read(args.tls_key), tls_client_ca=_read(args.tls_client_ca))


def bind(server: grpc.Server, host: str, port: int, security: Security) -> int:
    """Listen on ``host:port`` (TLS when configured); the bound port."""
    address = f"{host}:{port}"
    credentials = security.credentials()
    bound = (server.add_insecure_port(address) if credentials is None
             else server.add_secure_port(address, credentials))
    if bound == 0:
        raise OSError(f"could not bind {address}")
    return bound


def build_server(
    register: Callable[[grpc.Server], None],
    service_names: Sequence[str],
    map_error: ErrorMapper,
    workers: int = 8,
    max_message_mib: int = 64,
    extra_interceptors: Iterable[grpc.ServerInterceptor] = (),
    security: Security = Security(),
    max_concurrent_rpcs: int | None = None,
    max_connection_age_seconds: float | None = None,
) -> tuple[grpc.Server, health.HealthServicer]:
    """A server with the services ``register`` adds, health checking and reflection. At most
    ``max_concurrent_rpcs`` calls (default ``8 * workers``) run or wait for a worker; more are
    refused with RESOURCE_EXHAUSTED, so the queue stays bounded. With
    ``max_connection_age_seconds`` clients are asked to reconnect that often (calls in flight
    get a minute to finish), so round-robin clients of a scaled-up headless Service re-resolve
    its DNS name and reach new replicas."""
    options = [
        ("grpc.max_send_message_length", max_message_mib * MIB),
        ("grpc.max_receive_message_length", max_message_mib * MIB),
    ]
    if max_connection_age_seconds:
        options += [("grpc.max_connection_age_ms", int(max_connection_age_seconds * 1000)),
                    ("grpc.max_connection_age_grace_ms", 60_000)]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers),
        interceptors=[ServiceInterceptor(map_error), *security.interceptors(),
                      *extra_interceptors],
        options=options,
        maximum_concurrent_rpcs=max_concurrent_rpcs or 8 * workers,
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
