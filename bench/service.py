"""Evaluate over gRPC (a real server on loopback) vs the same computation in-process.

Run: ``python bench/service.py [--repeats N]``. Momentum, BTC/ETH/USDC, period 2023-01-01 ..
2024-01-01 on the bundled data, value and gradient: (a) one parameter set, one window of the
whole year; (b) 4 sets x 8 windows of 60 days (a training step).
"""

from __future__ import annotations

import argparse

import grpc
import jax
import jax.numpy as jnp
import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp
from timing import median_ms  # bench/ is on sys.path when run

from client._generated.quantamm.v1 import simulation_pb2, simulation_pb2_grpc, types_pb2
from client.tensors import to_tensor
from sim_service import parameters
from sim_service.data.device import bundled_dataset
from sim_service.engine import simulation
from sim_service.engine.windows import plan_window
from sim_service.server import create_server

START, END = 1672531200, 1704067200  # 2023-01-01, 2024-01-01 UTC
START_ROW, END_ROW = 833_760, 1_359_360


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    server, _, port, _ = create_server(host="127.0.0.1", port=0)
    stub = simulation_pb2_grpc.SimulationServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    data = bundled_dataset(("BTC", "ETH", "USDC"))
    plan = plan_window(START_ROW, END_ROW, data.series.n_minutes, 365)
    rows = slice(plan.first_row, plan.last_row)
    prices, log_prices = data.prices[rows], data.log_prices[rows]
    fingerprint = types_pb2.RunFingerprint(
        tokens=["BTC", "ETH", "USDC"], rule="momentum",
        start_time=Timestamp(seconds=START), end_time=Timestamp(seconds=END))

    cases = [("1 set x 1 window x 365 days", 1, [0], 525_600),
             ("4 sets x 8 windows x 60 days", 4, list(range(0, 80_000, 10_000)), 60 * 1440)]
    print(f"device: {jax.devices()[0].platform}; value and gradient; median of {args.repeats}")
    print(f"{'case':<32}{'in-process ms':>15}{'gRPC ms':>12}{'ratio':>8}")
    for label, n_sets, offsets, length in cases:
        sets = parameters.init_base_parameters("momentum", {}, {"chunk_period": 1440}, 3, n_sets)
        stacked = {k: jnp.asarray(v) for k, v in sets.items()}
        config = simulation.SimConfig("momentum", 3, length + 1)
        starts = jnp.asarray(plan.start_index + np.asarray(offsets))

        def in_process():
            out = simulation.value_and_grad_sets(stacked, prices, starts, config, log_prices)
            jax.block_until_ready(out)
            return {k: np.asarray(v) for k, v in out[2].items()}

        request = simulation_pb2.EvaluateRequest(
            dataset="default", fingerprint=fingerprint,
            parameter_sets=[types_pb2.ParameterSet(values={k: to_tensor(v[i]) for k, v in sets.items()})
                            for i in range(n_sets)],
            window_start_offsets_minutes=offsets, window_length_minutes=length, with_gradient=True)
        local = median_ms(in_process, args.repeats)
        remote = median_ms(lambda: stub.Evaluate(request), args.repeats)
        print(f"{label:<32}{local:>15.2f}{remote:>12.2f}{remote / local:>8.3f}")
    server.stop(0)


if __name__ == "__main__":
    main()
