"""Engine benchmarks: median wall time of the hot paths after warm-up (CPU or GPU).

Run: ``make bench`` or ``python bench/engine.py [--repeats N]``. Scenario: momentum, BTC/ETH/USDC,
one year of minutes (2023-01-01 .. 2024-01-01) on the bundled data, daily chunks.
"""

from __future__ import annotations

import argparse
import dataclasses

import jax
import jax.numpy as jnp
from timing import median_ms  # bench/ is on sys.path when run

from sim_service.data import bundled_minute_prices
from sim_service.engine import simulation
from sim_service.engine.compat import do_run_on_historic_data
from sim_service.engine.demo import FINGERPRINT
from sim_service.engine.windows import plan_window

START_ROW, END_ROW = 833_760, 1_359_360  # 2023-01-01, 2024-01-01
PARAMS = {
    "logit_lamb": jnp.full(3, 0.7554299808242099),
    "log_k": jnp.full(3, 4.321928094887363),
    "logit_delta_lamb": jnp.zeros(3),
    "initial_weights_logits": jnp.zeros(3),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    series = bundled_minute_prices(tokens=["BTC", "ETH", "USDC"])
    plan = plan_window(START_ROW, END_ROW, series.n_minutes, 365)
    prices = jnp.asarray(series.prices[plan.first_row : plan.last_row])
    log_prices = jnp.log(prices)  # a dataset keeps these once
    config = simulation.SimConfig("momentum", 3, plan.bout_length)
    with_fees = dataclasses.replace(config, fees=0.003)
    stacked = {key: value[None] for key, value in PARAMS.items()}
    start = jnp.array([plan.start_index])

    rows = [
        ("forward pass (weights, reserves, values)",
         lambda: simulation.simulate(PARAMS, prices, plan.start_index, config, log_prices)),
        ("objective only (daily_log_sharpe)",
         lambda: simulation.objective(PARAMS, prices, plan.start_index, config, log_prices)),
        ("value and gradient",
         lambda: simulation.value_and_grad_sets(stacked, prices, start, config, log_prices)),
        ("warm do_run_on_historic_data",
         lambda: do_run_on_historic_data(FINGERPRINT, PARAMS)["final_value"]),
        ("with fees 0.3%: forward pass",
         lambda: simulation.simulate(PARAMS, prices, plan.start_index, with_fees, log_prices)),
        ("with fees 0.3%: warm do_run_on_historic_data",
         lambda: do_run_on_historic_data({**FINGERPRINT, "fees": 0.003}, PARAMS)["final_value"]),
    ]
    print(f"device: {jax.devices()[0].platform} ({jax.devices()[0].device_kind}), "
          f"{plan.bout_length - 1} minutes x 3 assets, median of {args.repeats}")
    for label, fn in rows:
        blocking = lambda fn=fn: jax.block_until_ready(fn())  # noqa: E731
        print(f"{label:<45} {median_ms(blocking, args.repeats):9.2f} ms")


if __name__ == "__main__":
    main()
