"""Evaluate over gRPC (a real server on loopback) vs the same computation in-process.

Run: ``python bench/service.py [--repeats N]``. Momentum, BTC/ETH/USDC, period 2023-01-01 ..
2024-01-01 on the bundled data: (a) value and gradient, one parameter set, one window of the
whole year (and 16 sets); (b) value and gradient, 4 sets x 8 windows of 60 days (a training step); (c) values
only, 1 set x 40 windows of 60 days (an Optuna trial). Columns: the engine call in-process
(arrays already on the device, results copied to NumPy), the same request through the
servicer in-process (validation and protobuf conversion, no network), a real gRPC call on
loopback to a server in this process (access logs at WARNING), and one to a server in its own
process as deployed (``python -m sim_service``, access logs at INFO to a file); the ratios are
the gRPC calls over the engine call.
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile

import grpc
import jax
import jax.numpy as jnp
import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp
from timing import interleaved_medians_ms  # bench/ is on sys.path when run

from sim_service.engine import rules as engine_rules
from quantamm_api.v1 import simulation_pb2, simulation_pb2_grpc, types_pb2
from client.embedded import LOOPBACK_ANY_PORT, ServiceProcess
from quantamm.wire.tensors import to_tensor
from quantamm.core import parameters
from quantamm.serving import logs
from sim_service.device import bundled_dataset
from sim_service.engine import configure, simulation
from sim_service.engine.windows import plan_window
from sim_service.server import create_server

START, END = 1672531200, 1704067200  # 2023-01-01, 2024-01-01 UTC
START_ROW, END_ROW = 833_760, 1_359_360


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    configure()

    logs.configure(json=True, level="WARNING")
    server, _, port, servicer = create_server(host="127.0.0.1", port=0)
    stub = simulation_pb2_grpc.SimulationServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    log_path = pathlib.Path(tempfile.mkdtemp()) / "sim_service.log"
    process = ServiceProcess("sim_service", LOOPBACK_ANY_PORT, log_path)
    remote_stub = simulation_pb2_grpc.SimulationServiceStub(
        grpc.insecure_channel(process.wait_started()))
    data = bundled_dataset(("BTC", "ETH", "USDC"))
    plan = plan_window(START_ROW, END_ROW, data.series.n_minutes, 365)
    rows = slice(plan.first_row, plan.last_row)
    prices, log_prices = data.prices[rows], data.log_prices[rows]
    fingerprint = types_pb2.RunFingerprint(
        tokens=["BTC", "ETH", "USDC"], rule="momentum",
        start_time=Timestamp(seconds=START), end_time=Timestamp(seconds=END))

    cases = [("grad, 1 set x 1 window x 365 days", 1, [0], 525_600, True),
             ("grad, 4 sets x 8 windows x 60 days", 4, list(range(0, 80_000, 10_000)), 86_400,
              True),
             ("no grad, 1 set x 40 windows x 60 days", 1, list(range(0, 280_000, 7_000)),
              86_400, False),
             ("grad, 16 sets x 1 window x 365 days", 16, [0], 525_600, True)]
    print(f"device: {jax.devices()[0].platform}; Evaluate; median of {args.repeats}")
    print(f"{'case':<40}{'engine ms':>11}{'servicer ms':>13}{'gRPC ms':>10}{'ratio':>8}"
          f"{'gRPC, process ms':>18}{'ratio':>8}")
    for label, n_sets, offsets, length, with_gradient in cases:
        sets = parameters.init_base_parameters(engine_rules.get("momentum"), {}, {"chunk_period": 1440}, 3, n_sets)
        stacked = {k: jnp.asarray(v) for k, v in sets.items()}
        config = simulation.SimConfig("momentum", 3, length + 1)
        starts = jnp.asarray(plan.start_index + np.asarray(offsets))

        def in_process():
            if with_gradient:
                out = simulation.value_and_grad_sets(stacked, prices, starts, config, log_prices)
                return np.asarray(out[1]), {k: np.asarray(v) for k, v in out[2].items()}
            return np.asarray(simulation.evaluate_sets(stacked, prices, starts, config,
                                                       log_prices))

        request = simulation_pb2.EvaluateRequest(
            dataset="default", fingerprint=fingerprint,
            parameter_sets=[types_pb2.ParameterSet(values={k: to_tensor(v[i]) for k, v in sets.items()})
                            for i in range(n_sets)],
            window_start_offsets_minutes=offsets, window_length_minutes=length,
            with_gradient=with_gradient)
        local, direct, loopback, remote = interleaved_medians_ms(
            [in_process, lambda: servicer.Evaluate(request, None),
             lambda: stub.Evaluate(request), lambda: remote_stub.Evaluate(request)],
            args.repeats)
        print(f"{label:<40}{local:>11.2f}{direct:>13.2f}{loopback:>10.2f}"
              f"{loopback / local:>8.3f}{remote:>18.2f}{remote / local:>8.3f}")
    server.stop(0)
    process.stop()


if __name__ == "__main__":
    main()
