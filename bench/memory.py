"""Peak memory of a 3-year run, measured in this (fresh) process.

Run: ``python bench/memory.py`` -> one JSON line ``{"peak_rss_mib": ..., "minutes": ...}``.
Momentum on BTC/ETH/USDC, 2021-12-01 .. 2024-11-30 of the bundled data (3 x 365 days, the
burn-in shortened to the history available): the full forward pass (minute weights, reserves,
values) and the value and gradient of the fused objective, as a server would run them.
"""

from __future__ import annotations

import json
import resource

import jax

from sim_service.engine import rules as engine_rules
from quantamm.core import parameters
from sim_service.device import bundled_dataset
from sim_service.engine import configure, simulation
from sim_service.engine.windows import plan_window

START_ROW = 263_520  # 2021-12-01 in the bundled data
MINUTES = 3 * 365 * 1440


def peak_rss_kib() -> int:
    """This process's peak resident memory in KiB: VmHWM on Linux (``ru_maxrss`` survives
    exec, so it can report the parent's peak), ``ru_maxrss`` elsewhere."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    configure()
    data = bundled_dataset(("BTC", "ETH", "USDC"))
    plan = plan_window(START_ROW, START_ROW + MINUTES, data.series.n_minutes, 365)
    prices, log_prices = data.rows(plan.first_row, plan.last_row)
    config = simulation.SimConfig("momentum", 3, plan.bout_length)
    stacked = {k: jax.numpy.asarray(v) for k, v in parameters.init_base_parameters(
        engine_rules.get("momentum"), {}, {"chunk_period": 1440}, 3, 1).items()}
    one = {k: v[0] for k, v in stacked.items()}
    out = simulation.simulate(one, prices, plan.start_index, config, log_prices)
    jax.block_until_ready(out)
    grads = simulation.value_and_grad_sets(stacked, prices, jax.numpy.asarray([plan.start_index]),
                                           config, log_prices)
    jax.block_until_ready(grads)
    print(json.dumps({"peak_rss_mib": round(peak_rss_kib() / 1024, 1),
                      "minutes": config.n_minutes}))


if __name__ == "__main__":
    main()
