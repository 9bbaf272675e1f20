"""The simulation server: ``python -m sim_service --port PORT [--data-dir DIR] [--cache-dir DIR]``.

Every flag also reads an environment variable (flag wins): QUANTAMM_SIM_PORT, QUANTAMM_SIM_HOST,
QUANTAMM_DATA_DIR, QUANTAMM_CACHE_DIR, QUANTAMM_MAX_MESSAGE_MIB, QUANTAMM_SIM_WORKERS,
QUANTAMM_MAX_REQUEST_CELLS (or QUANTAMM_MAX_EVALUATE_CELLS), QUANTAMM_MEMORY_BUDGET_MIB,
QUANTAMM_MAX_CONCURRENT_RPCS, QUANTAMM_LOG_LEVEL, and access control: QUANTAMM_AUTH_TOKEN_FILE
(or QUANTAMM_AUTH_TOKEN), QUANTAMM_TLS_CERT, QUANTAMM_TLS_KEY, QUANTAMM_TLS_CLIENT_CA.
"""

from __future__ import annotations

import argparse
import os

import grpc
import jax
import structlog
from grpc_health.v1 import health

from quantamm.serving import logs
from quantamm.serving.security import Security, security_from_args
from quantamm.serving.server import MIB, add_server_arguments, build_server, serve_until_signalled
from quantamm.wire.errors import as_request_error
from quantamm_api.v1 import simulation_pb2, simulation_pb2_grpc
from sim_service import engine, warmup
from sim_service.datasets import DatasetRegistry
from sim_service.servicer import Limits, SimulationServicer

log = structlog.get_logger(__name__)
# Clients reconnect this often, picking up replicas added since (headless Service DNS).
CONNECTION_AGE_SECONDS = 300.0
SERVICE_NAME = simulation_pb2.DESCRIPTOR.services_by_name["SimulationService"].full_name


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m sim_service", description=__doc__)
    add_server_arguments(parser, "SIM", port=50051, workers=8)
    parser.add_argument("--data-dir", default=env("QUANTAMM_DATA_DIR"),
                        help="folder whose subfolders are datasets of per-token files")
    parser.add_argument("--cache-dir", default=env("QUANTAMM_CACHE_DIR"),
                        help="cache folder: bundled minute data and the JAX compilation cache")
    parser.add_argument("--max-request-cells", "--max-evaluate-cells", type=float,
                        dest="max_request_cells",
                        default=float(env("QUANTAMM_MAX_REQUEST_CELLS")
                                      or env("QUANTAMM_MAX_EVALUATE_CELLS", "4e9")),
                        help="parameter sets x windows x minutes x assets allowed in one call "
                             "(any RPC); more: RESOURCE_EXHAUSTED [QUANTAMM_MAX_REQUEST_CELLS]")
    parser.add_argument("--memory-budget-mib", type=float,
                        default=float(env("QUANTAMM_MEMORY_BUDGET_MIB", "0")) or None,
                        help="refuse a call whose estimated memory exceeds this (default: half "
                             "the memory available at start) [QUANTAMM_MEMORY_BUDGET_MIB]")
    parser.add_argument("--warmup", default=env("QUANTAMM_SIM_WARMUP", ""),
                        help="compile these RULE:DAYS configurations at start, e.g. "
                             "momentum:365,momentum:90 (see sim_service.warmup) "
                             "[QUANTAMM_SIM_WARMUP]")
    return parser.parse_args(argv)


def create_server(
    host: str = "[::]",
    port: int = 0,
    data_dir: str | None = None,
    workers: int = 8,
    max_message_mib: int = 64,
    max_request_cells: float = 4e9,
    memory_budget_mib: float | None = None,
    security: Security = Security(),
    max_concurrent_rpcs: int | None = None,
) -> tuple[grpc.Server, health.HealthServicer, int, SimulationServicer]:
    """A started simulation server and the port it listens on (the engine configured first)."""
    engine.configure()
    servicer = SimulationServicer(DatasetRegistry(data_dir),
                                  Limits.of(max_request_cells, memory_budget_mib))
    server, health_servicer, bound = build_server(
        lambda s: simulation_pb2_grpc.add_SimulationServiceServicer_to_server(servicer, s),
        [SERVICE_NAME], as_request_error, host=host, port=port, security=security,
        workers=workers, max_message_mib=max_message_mib,
        max_concurrent_rpcs=max_concurrent_rpcs,
        max_connection_age_seconds=CONNECTION_AGE_SECONDS)
    server.start()
    return server, health_servicer, bound, servicer


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logs.configure(json=True, level=args.log_level)
    warmup.parse(args.warmup)  # a bad spec fails before anything starts
    if args.cache_dir:
        os.environ["QUANTAMM_CACHE_DIR"] = args.cache_dir
    engine.configure(compilation_cache_dir=args.cache_dir)
    security = security_from_args(args)
    server, health_servicer, port, servicer = create_server(
        args.host, args.port, args.data_dir, args.workers, args.max_message_mib,
        args.max_request_cells, args.memory_budget_mib, security, args.max_concurrent_rpcs,
    )
    if args.warmup:
        log.info("warmup_done", spec=args.warmup,
                 seconds=round(warmup.warm_up(servicer, args.warmup), 2))
    log.info("sim_service_started", port=port, data_dir=args.data_dir, cache_dir=args.cache_dir,
             devices=[str(d) for d in jax.devices()], **security.describe(),
             max_request_cells=servicer.limits.max_cells,
             memory_budget_mib=round(servicer.limits.memory_budget_bytes / MIB))
    serve_until_signalled(server, health_servicer)
