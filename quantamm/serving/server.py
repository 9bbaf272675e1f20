"""One way to assemble a gRPC server, used by both services: the shared flags, the interceptors
(request ids, access logs, error mapping, malformed-request refusal, auth), TLS, message and
concurrency limits, connection age, health checking, reflection, and a graceful drain on SIGTERM.
No engine imports."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from concurrent import futures
from typing import Callable, Iterable, Protocol, Sequence

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from quantamm.serving.interceptors import ErrorMapper, ServiceInterceptor
from quantamm.serving.security import Security, add_security_arguments, bind

log = structlog.get_logger(__name__)
MIB = 1024 * 1024
CONNECTION_AGE_GRACE_MS = 60_000  # calls in flight when a connection is aged out may finish


def add_server_arguments(parser: argparse.ArgumentParser, service: str, port: int, workers: int,
                         workers_help: str = "request threads") -> None:
    """The flags every server has, each defaulting to an environment variable:
    --port / --host / --workers (``QUANTAMM_{service}_PORT``, ``_HOST``, ``_WORKERS``),
    --max-message-mib, --max-concurrent-rpcs, --log-level and the access-control flags."""
    env = os.environ.get
    port_var, host_var, workers_var = (f"QUANTAMM_{service}_{name}"
                                       for name in ("PORT", "HOST", "WORKERS"))
    parser.add_argument("--port", type=int, default=int(env(port_var, str(port))),
                        help=f"port to listen on (0: any free port) [{port_var}]")
    parser.add_argument("--host", default=env(host_var, "[::]"),
                        help=f"address to bind [{host_var}]")
    parser.add_argument("--workers", type=int, default=int(env(workers_var, str(workers))),
                        help=f"{workers_help} [{workers_var}]")
    parser.add_argument("--max-message-mib", type=int,
                        default=int(env("QUANTAMM_MAX_MESSAGE_MIB", "64")),
                        help="largest gRPC message either way [QUANTAMM_MAX_MESSAGE_MIB]")
    parser.add_argument("--max-concurrent-rpcs", type=int,
                        default=int(env("QUANTAMM_MAX_CONCURRENT_RPCS", "0")) or None,
                        help="calls in flight or queued; more get RESOURCE_EXHAUSTED "
                             "(default 8 x workers) [QUANTAMM_MAX_CONCURRENT_RPCS]")
    parser.add_argument("--log-level", default=env("QUANTAMM_LOG_LEVEL", "INFO"),
                        help="[QUANTAMM_LOG_LEVEL]")
    add_security_arguments(parser)


def build_server(
    register: Callable[[grpc.Server], None],
    service_names: Sequence[str],
    map_error: ErrorMapper,
    *,
    host: str = "[::]",
    port: int = 0,
    security: Security = Security(),
    workers: int = 8,
    max_message_mib: int = 64,
    max_concurrent_rpcs: int | None = None,
    max_connection_age_seconds: float | None = None,
    extra_interceptors: Iterable[grpc.ServerInterceptor] = (),
) -> tuple[grpc.Server, health.HealthServicer, int]:
    """A server with the services ``register`` adds, health checking and reflection, bound to
    ``host:port`` (TLS when ``security`` has a certificate) but not started; also its health
    servicer and the bound port.

    Every call (reflection and streams included; health checks exempt from auth) passes the
    request-id/access-log/error interceptor, then ``security``'s bearer-token check. At most
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
                    ("grpc.max_connection_age_grace_ms", CONNECTION_AGE_GRACE_MS)]
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
    return server, health_servicer, bind(server, host, port, security)


class Draining(Protocol):
    """What ``serve_until_signalled`` tells that the server is going away (a health servicer,
    or a wrapper that also stops background work first)."""

    def enter_graceful_shutdown(self) -> None: ...


def serve_until_signalled(server: grpc.Server, health_servicer: Draining,
                          grace_seconds: float = 30.0) -> None:
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
