"""Engine benchmarks, in-process: median wall time of the hot paths after warm-up (CPU or GPU).

Run: ``make bench`` or ``python bench/engine.py [--repeats N] [--skip-scaling]``. Scenario:
momentum on the bundled data, daily chunks, window 2023-01-01 .. 2024-01-01 (one year of minutes)
with the reference's burn-in slice; BTC/ETH/USDC unless a row says otherwise. Each row is the
median of ``--repeats`` calls after two warm-up calls (compilation excluded). The reference's
figures (issue 9, same kind of 2-core machine) are shown where it gives one.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from timing import median_ms  # bench/ is on sys.path when run

from quantamm.core import parameters
from quantamm.data import bundled_minute_prices
from sim_service.compat import do_run_on_historic_data
from sim_service.engine import configure, simulation
from sim_service.engine import rules as engine_rules
from sim_service.engine.windows import plan_window

# The warm do_run row: a BTC/ETH/USDC momentum pool over 2023 with daily rule updates.
FINGERPRINT = {
    "tokens": ["BTC", "ETH", "USDC"],
    "rule": "momentum",
    "startDateString": "2023-01-01 00:00:00",
    "endDateString": "2024-01-01 00:00:00",
    "chunk_period": 1440,
    "weight_interpolation_period": 1440,
}

DAY = 1440


@functools.cache
def user_frame() -> pd.DataFrame:
    """The bundled BTC/ETH/USDC minutes of 2022-2023 as a user's DataFrame (unix ms index,
    ``close_<TOKEN>`` columns): FINGERPRINT's year and its burn-in."""
    series = bundled_minute_prices(tokens=list(TOKENS))
    rows = slice(START_ROW - 365 * DAY, START_ROW + 367 * DAY)
    index = series.start_unix_ms + 60_000 * np.arange(series.n_minutes, dtype=np.int64)[rows]
    return pd.DataFrame(series.prices[rows], index=index,
                        columns=[f"close_{token}" for token in TOKENS])
START_ROW = 833_760  # 2023-01-01 in the bundled data
THREE_YEARS_START_ROW = 263_520  # 2021-12-01 (burn-in shortened to the history there)
TOKENS = ("BTC", "ETH", "USDC")
ALL_TOKENS = ("BTC", "ETH", "SOL", "USDC", "XRP", "PAXG")
MEMORY_LIMIT_MIB = 2048


@dataclasses.dataclass
class Case:
    """Prices of one window (burn-in included) and its simulation settings."""

    prices: jax.Array
    log_prices: jax.Array
    start: int
    config: simulation.SimConfig

    def sets(self, n_sets: int, seed: int = 0) -> dict:
        """``n_sets`` stacked parameter sets around the default initialisation."""
        base = parameters.init_base_parameters(
            engine_rules.get("momentum"), {}, {"chunk_period": DAY}, self.config.n_assets, n_sets)
        noise = np.random.default_rng(seed).normal(0.0, 0.3, base["log_k"].shape)
        return {k: jnp.asarray(v + noise if k in ("logit_lamb", "log_k") else v)
                for k, v in base.items()}

    def forward(self, fees: float = 0.0):
        params = {k: v[0] for k, v in self.sets(1).items()}
        config = dataclasses.replace(self.config, fees=fees)
        return lambda: simulation.simulate(params, self.prices, self.start, config,
                                           self.log_prices)

    def objective(self):
        params = {k: v[0] for k, v in self.sets(1).items()}
        return lambda: simulation.objective(params, self.prices, self.start, self.config,
                                            self.log_prices)

    def value_and_grad(self, n_sets: int = 1, offsets=(0,), window: int | None = None,
                       gradient: bool = True):
        stacked = self.sets(n_sets)
        config = self.config if window is None else dataclasses.replace(
            self.config, bout_length=window + 1)
        starts = jnp.asarray(self.start + np.asarray(offsets))
        fn = simulation.value_and_grad_sets if gradient else simulation.evaluate_sets
        return lambda: fn(stacked, self.prices, starts, config, self.log_prices)


def case(minutes: int, tokens=TOKENS, extra_columns: int = 0, start_row: int = START_ROW) -> Case:
    """A window of ``minutes`` from ``start_row``; ``extra_columns`` more assets are scaled
    copies of the first ones (the bundled data holds six tokens)."""
    series = bundled_minute_prices(tokens=list(tokens))
    plan = plan_window(start_row, start_row + minutes, series.n_minutes, 365)
    prices = series.prices[plan.first_row : plan.last_row]
    if extra_columns:
        copies = prices[:, :extra_columns] * (1.0 + 0.01 * np.arange(1, extra_columns + 1))
        prices = np.concatenate([prices, copies], axis=1)
    prices = jnp.asarray(prices)
    config = simulation.SimConfig("momentum", prices.shape[1], plan.bout_length)
    return Case(prices, jnp.log(prices), plan.start_index, config)


def row(label: str, fn, repeats: int, reference: str = "", target: str = "") -> dict:
    blocking = lambda: jax.block_until_ready(fn())  # noqa: E731
    ms = median_ms(blocking, repeats)
    print(f"{label:<58}{ms:>11.2f}{reference:>12}{target:>10}", flush=True)
    return {"case": label, "ms": ms, "reference": reference, "target": target}


def peak_memory_mib() -> float:
    """Peak RSS (MiB) of a fresh process that runs a 3-year forward pass and value+gradient."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "memory.py")
    output = subprocess.run([sys.executable, script], check=True, capture_output=True,
                            text=True).stdout
    return json.loads(output.strip().splitlines()[-1])["peak_rss_mib"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    configure()
    n = args.repeats
    device = jax.devices()[0]
    print(f"device: {device.platform} ({device.device_kind}), {os.cpu_count()} CPUs; "
          f"median of {n} after warm-up")
    print(f"{'case (one year of minutes, 3 assets unless stated)':<58}{'ours ms':>11}"
          f"{'reference':>12}{'target':>10}")
    year = case(365 * DAY)
    sixty = [i * 10 * DAY for i in range(8)]
    rows = [
        row("forward pass, zero fees (weights, reserves, values)", year.forward(), n, "40"),
        row("objective only (daily_log_sharpe, fused path)", year.objective(), n, "12"),
        row("value and gradient, 1 set x 1 window", year.value_and_grad(), n, "57"),
        row("value and gradient, 1 set x 8 windows x 60 days",
            year.value_and_grad(1, sixty, 60 * DAY), n, "73"),
        row("training step: 4 sets x 8 windows x 60 days (value+grad)",
            year.value_and_grad(4, sixty, 60 * DAY), n),
        row("Optuna trial objective: 1 set x 40 windows x 60 days",
            year.value_and_grad(1, [i * 7200 for i in range(40)], 60 * DAY, gradient=False), n),
        row("forward pass, fees 0.3%", year.forward(0.003), max(3, n // 4), "1700", "600"),
        row("warm do_run_on_historic_data, zero fees",
            lambda: do_run_on_historic_data(FINGERPRINT, {})["final_value"], n, "1000", "100"),
        row("warm do_run_on_historic_data, fees 0.3%",
            lambda: do_run_on_historic_data({**FINGERPRINT, "fees": 0.003}, {})["final_value"],
            max(3, n // 4), "2900"),
        row("warm do_run_on_historic_data, user DataFrame (price_data), zero fees",
            lambda: do_run_on_historic_data(FINGERPRINT, {}, price_data=user_frame())
            ["final_value"], n, "1033"),
    ]
    if not args.skip_scaling:
        print(f"{'scaling (zero fees)':<58}{'ours ms':>11}")
        for label, minutes in (("1 month", 30 * DAY), ("1 year", 365 * DAY),
                               ("3 years", 3 * 365 * DAY)):
            one = case(minutes, start_row=THREE_YEARS_START_ROW if minutes > 365 * DAY
                       else START_ROW)
            rows.append(row(f"{label}: forward pass", one.forward(), n))
            rows.append(row(f"{label}: value and gradient", one.value_and_grad(), n))
        for n_assets in (2, 4, 8):
            tokens = ALL_TOKENS[:min(n_assets, len(ALL_TOKENS))]
            one = case(365 * DAY, tokens, n_assets - len(tokens))
            rows.append(row(f"{n_assets} assets: forward pass", one.forward(), n))
            rows.append(row(f"{n_assets} assets: value and gradient", one.value_and_grad(), n))
        for n_sets in (1, 16, 64):
            rows.append(row(f"{n_sets} parameter sets: value and gradient, 1 window",
                            year.value_and_grad(n_sets), max(3, n // 4)))
    peak = peak_memory_mib()
    print(f"{'3-year run: peak RSS of a fresh process (MiB)':<58}{peak:>11.0f}"
          f"{'':>12}{MEMORY_LIMIT_MIB:>10}")
    rows.append({"case": "3-year run peak RSS MiB", "ms": peak, "reference": "",
                 "target": str(MEMORY_LIMIT_MIB)})
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"device": f"{device.platform} ({device.device_kind})", "rows": rows},
                      handle, indent=1)


if __name__ == "__main__":
    main()
