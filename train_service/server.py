"""The training server:
``python -m train_service --port PORT --sim-address HOST:PORT[,HOST:PORT...] [--store URL]``.

Every flag also reads an environment variable (flag wins): QUANTAMM_TRAIN_PORT,
QUANTAMM_TRAIN_HOST, QUANTAMM_SIM_ADDRESS, QUANTAMM_TRAIN_STORE (default
``sqlite:///$QUANTAMM_CACHE_DIR/train.sqlite``, ``~/.cache/quantamm`` when unset),
QUANTAMM_TRAIN_MAX_JOBS, QUANTAMM_TRAIN_WORKERS, QUANTAMM_SIM_TIMEOUT_SECONDS,
QUANTAMM_SIM_RETRY_SECONDS, QUANTAMM_STORE_RETRY_SECONDS, QUANTAMM_TRAIN_MAX_STEP_CELLS,
QUANTAMM_MAX_MESSAGE_MIB,
QUANTAMM_MAX_CONCURRENT_RPCS, QUANTAMM_LOG_LEVEL; access control as sim_service
(QUANTAMM_AUTH_TOKEN_FILE or QUANTAMM_AUTH_TOKEN, QUANTAMM_TLS_CERT, QUANTAMM_TLS_KEY,
QUANTAMM_TLS_CLIENT_CA; the same token goes to sim_service) and TLS to sim_service:
QUANTAMM_SIM_TLS_CA, QUANTAMM_SIM_TLS_CLIENT_CERT, QUANTAMM_SIM_TLS_CLIENT_KEY.
"""

from __future__ import annotations

import argparse
import os
from typing import Sequence

import grpc
import structlog
from grpc_health.v1 import health

from quantamm.serving import logs
from quantamm.serving.channels import TLSConfig
from quantamm.serving.security import Security, security_from_args
from quantamm.serving.server import add_server_arguments, build_server, serve_until_signalled
from quantamm_api.v1 import training_pb2, training_pb2_grpc
from train_service import jobs
from train_service.errors import as_request_error
from train_service.manager import JobManager
from train_service.servicer import TrainingServicer
from train_service.simclient import SimClient, parse_addresses

log = structlog.get_logger(__name__)
SERVICE_NAME = training_pb2.DESCRIPTOR.services_by_name["TrainingService"].full_name


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m train_service", description=__doc__)
    add_server_arguments(parser, "TRAIN", port=50052, workers=16,
                         workers_help="request threads (each WatchJob stream holds one)")
    parser.add_argument("--sim-address", default=env("QUANTAMM_SIM_ADDRESS", "127.0.0.1:50051"),
                        help="sim_service replicas, comma separated [QUANTAMM_SIM_ADDRESS]")
    parser.add_argument("--store", default=env("QUANTAMM_TRAIN_STORE") or jobs.default_url(),
                        help="RDB URL of the job store and default study storage "
                             "(sqlite:///PATH or postgresql+psycopg://...) [QUANTAMM_TRAIN_STORE]")
    parser.add_argument("--max-jobs", type=int, default=int(env("QUANTAMM_TRAIN_MAX_JOBS", "2")),
                        help="jobs running at once; more wait queued")
    parser.add_argument("--sim-timeout-seconds", type=float,
                        default=float(env("QUANTAMM_SIM_TIMEOUT_SECONDS", "600")),
                        help="deadline of one call to sim_service (retried on another replica)")
    parser.add_argument("--sim-retry-seconds", type=float,
                        default=float(env("QUANTAMM_SIM_RETRY_SECONDS", "60")),
                        help="keep retrying an unreachable sim_service this long; then the job "
                             "ends INTERRUPTED (ResumeJob continues it)")
    parser.add_argument("--store-retry-seconds", type=float,
                        default=float(env("QUANTAMM_STORE_RETRY_SECONDS", "30")),
                        help="keep retrying an unreachable job store this long")
    parser.add_argument("--max-step-cells", type=float,
                        default=float(env("QUANTAMM_TRAIN_MAX_STEP_CELLS", "4e9")),
                        help="sets x batch windows x minutes x assets of one gradient step; "
                             "larger jobs are refused at StartJob [QUANTAMM_TRAIN_MAX_STEP_CELLS]")
    for name, what in (("ca", "CA that signed sim_service's certificate: TLS to sim_service"),
                       ("client-cert", "client certificate for mutual TLS to sim_service"),
                       ("client-key", "key of --sim-tls-client-cert")):
        variable = "QUANTAMM_SIM_TLS_" + name.upper().replace("-", "_")
        parser.add_argument(f"--sim-tls-{name}", default=env(variable),
                            help=f"PEM {what} [{variable}]")
    return parser.parse_args(argv)


def sim_tls_from_args(args: argparse.Namespace) -> TLSConfig | None:
    """TLS settings for the calls to sim_service, or None (plaintext)."""
    files = (args.sim_tls_ca, args.sim_tls_client_cert, args.sim_tls_client_key)
    return TLSConfig(*files) if any(files) else None


class ShutdownFirst:
    """The health servicer as ``serve_until_signalled`` sees it: entering graceful shutdown
    also stops the running jobs (checkpointed, INTERRUPTED) before the server drains."""

    def __init__(self, health_servicer: health.HealthServicer, manager: JobManager) -> None:
        self._health, self._manager = health_servicer, manager

    def enter_graceful_shutdown(self) -> None:
        self._health.enter_graceful_shutdown()
        self._manager.shutdown()
        log.info("jobs_stopped")


def create_server(
    sim_addresses: Sequence[str],
    store_url: str,
    host: str = "[::]",
    port: int = 0,
    max_jobs: int = 2,
    workers: int = 16,
    sim_timeout_seconds: float = 600.0,
    max_message_mib: int = 64,
    security: Security = Security(),
    sim_tls: TLSConfig | None = None,
    sim_retry_seconds: float = 60.0,
    store_retry_seconds: float = 30.0,
    max_concurrent_rpcs: int | None = None,
    max_step_cells: float = 4e9,
) -> tuple[grpc.Server, health.HealthServicer, int, JobManager]:
    """A started training server, the port it listens on and its job manager (whose
    ``shutdown()`` stops the jobs). ``security.token`` is also sent to sim_service."""
    sim = SimClient(sim_addresses, timeout_seconds=sim_timeout_seconds,
                    max_message_mib=max_message_mib, retry_seconds=sim_retry_seconds,
                    token=security.token, tls=sim_tls)
    manager = JobManager(jobs.JobStore(store_url, store_retry_seconds), sim, max_jobs,
                         max_step_cells)
    servicer = TrainingServicer(manager)
    server, health_servicer, bound = build_server(
        lambda s: training_pb2_grpc.add_TrainingServiceServicer_to_server(servicer, s),
        [SERVICE_NAME], as_request_error, host=host, port=port, security=security,
        workers=workers, max_message_mib=max_message_mib,
        max_concurrent_rpcs=max_concurrent_rpcs)
    manager.recover()
    server.start()
    return server, health_servicer, bound, manager


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logs.configure(json=True, level=args.log_level)
    addresses = parse_addresses(args.sim_address)
    security = security_from_args(args)
    server, health_servicer, port, manager = create_server(
        addresses, args.store, args.host, args.port, args.max_jobs, args.workers,
        args.sim_timeout_seconds, args.max_message_mib, security, sim_tls_from_args(args),
        args.sim_retry_seconds, args.store_retry_seconds, args.max_concurrent_rpcs,
        args.max_step_cells)
    log.info("train_service_started", port=port, sim_addresses=addresses,
             store=jobs.redacted(args.store), **security.describe(),
             sim_tls=sim_tls_from_args(args) is not None)
    serve_until_signalled(server, ShutdownFirst(health_servicer, manager))
