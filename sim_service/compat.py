"""``do_run_on_historic_data`` with the reference's signature, defaults and result keys.

Dates come from ``startDateString`` / ``endDateString`` (UTC), tokens are sorted alphabetically,
the burn-in history is sliced like the reference's, and the compiled simulation is reused across
calls with the same static settings (a warm call does not recompile).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

import jax.numpy as jnp
import numpy as np
import structlog

from quantamm.data import PriceSeries, from_price_data
from sim_service.device import DeviceDataset, bundled_dataset
from quantamm.data.loaders import load_price_folder
from quantamm.data.minute_inputs import series_on_grid, trades_on_grid
from sim_service.engine import pools, simulation, windows
from sim_service.engine.config import configure
from sim_service.engine.fee_reserves import DynamicInputs
from quantamm.core.runs import RunSpec, run_call
from sim_service.engine.windows import MS_PER_MINUTE

log = structlog.get_logger(__name__)

FEE_TABLES = {"fees": "fees_df", "gas_cost": "gas_cost_df", "arb_fees": "arb_fees_df"}


def load_dataset(tokens: Sequence[str], price_data: Any = None, root: str | None = None):
    """Prices for ``tokens``: ``price_data`` if given, else files under ``root``, else the
    bundled default dataset."""
    if price_data is not None:
        return DeviceDataset.of(from_price_data(price_data, tokens))
    if root is not None:
        return DeviceDataset.of(load_price_folder(root, tokens))
    return bundled_dataset(tuple(tokens))


def plan_run(series: PriceSeries, spec: RunSpec, start_key: str, end_key: str):
    """(WindowPlan, SimConfig) of the run between the dates ``start_key`` and ``end_key``."""
    start_ms = windows.parse_date(spec.date(start_key), start_key)
    end_ms = windows.parse_date(spec.date(end_key), end_key)
    start_row = windows.row_of(start_ms, series.start_unix_ms, series.n_minutes, start_key)
    end_row = windows.row_of(end_ms, series.start_unix_ms, series.n_minutes, end_key)
    config = pools.sim_config(spec, len(series.tokens), bout_length=end_row - start_row + 1)
    plan = windows.plan_window(
        start_row, end_row, series.n_minutes, spec.max_memory_days, config.min_price_rows
    )
    for warning in plan.warnings:
        log.warning("short_history", start=spec.date(start_key), detail=warning)
    return plan, config


def _as_engine_params(params: Mapping[str, Any], n_assets: int) -> dict[str, jnp.ndarray]:
    """Reference params (per-asset lists/arrays, optionally with a leading axis of 1)."""
    engine_params = {}
    for key, value in params.items():
        if key == "subsidary_params":
            continue
        array = np.asarray(value, dtype=np.float64)
        if array.ndim == 2 and array.shape[0] == 1:
            array = array[0]
        engine_params[key] = jnp.asarray(array)
    return engine_params


def dynamic_inputs(config, grids: Mapping[str, np.ndarray],
                   trades: np.ndarray | None) -> DynamicInputs:
    """Per-arbitrage-minute inputs from per-minute grids ([L] per cost, trades [L, 3])."""
    f = config.arb_frequency
    return DynamicInputs(**{k: jnp.asarray(v[::f]) for k, v in grids.items()},
                         trades=None if trades is None else jnp.asarray(trades[::f]))


def minute_inputs(
    data: DeviceDataset, plan: windows.WindowPlan, config, tables: Mapping[str, Any],
    raw_trades: Any,
) -> DynamicInputs | None:
    """Per-arbitrage-minute fees, costs and trades of the window from the given tables."""
    if raw_trades is None and all(table is None for table in tables.values()):
        return None
    first = data.series.unix_ms_at(plan.window_first_row)
    grids = {key: series_on_grid(table, first, config.n_minutes, FEE_TABLES[key])
             for key, table in tables.items() if table is not None}
    trades = None if raw_trades is None else \
        trades_on_grid(raw_trades, data.series.tokens, first, config.n_minutes)
    return dynamic_inputs(config, grids, trades)


def run_window(
    data: DeviceDataset, plan: windows.WindowPlan, config, params, dynamic=None
) -> dict:
    """Simulate one planned window and return the reference's result dict (NumPy arrays)."""
    prices, log_prices = data.rows(plan.first_row, plan.last_row)
    out = simulation.simulate(params, prices, plan.start_index, config, log_prices, dynamic)
    series = data.series
    result = {
        "value": np.asarray(out["values"]),
        "reserves": np.asarray(out["reserves"]),
        "weights": np.asarray(out["weights"]),
        "prices": np.asarray(out["prices"]),
        "final_value": float(out["final_value"]),
        "final_reserves": np.asarray(out["final_reserves"]),
        "fee_revenue": np.zeros(config.n_minutes),
        "start_idx": plan.start_index,
        "end_idx": plan.start_index + config.bout_length,
        "bout_length": config.bout_length,
        "max_memory_days": plan.max_memory_days,
        "unix_values": series.start_unix_ms
        + (plan.window_first_row + np.arange(config.n_minutes, dtype=np.int64)) * MS_PER_MINUTE,
    }
    if config.is_tfmm:
        result["rule_outputs"] = np.asarray(out["rule_outputs"])
        result["n_chunks"] = plan.n_rows // config.chunk_period
    if pools.rules.get(config.rule).has_readouts:
        readouts = simulation.readouts(params, prices, plan.start_index, config)
        result["readouts"] = {key: np.asarray(value) for key, value in readouts.items()}
    return result


def _low_data(result: dict) -> dict:
    """Drop the minute series, keep first/last states."""
    slim = {k: v for k, v in result.items() if k not in ("prices", "reserves", "value")}
    slim["final_prices"] = result["prices"][-1]
    slim["initial_prices"] = result["prices"][0]
    slim["initial_reserves"] = result["reserves"][0]
    return slim


def do_run_on_historic_data(
    run_fingerprint: Mapping[str, Any],
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]] = {},  # noqa: B006 (reference API)
    root: str | None = None,
    price_data: Any = None,
    verbose: bool = False,
    raw_trades: Any = None,
    fees: float | None = None,
    gas_cost: float | None = None,
    arb_fees: float | None = None,
    fees_df: Any = None,
    gas_cost_df: Any = None,
    arb_fees_df: Any = None,
    lp_supply_df: Any = None,
    do_test_period: bool = False,
    low_data_mode: bool = False,
    preslice_burnin: bool = True,
):
    """Simulate a pool with fixed parameters over ``startDateString`` .. ``endDateString``.

    Args:
      run_fingerprint: the reference's settings dict (missing keys take the defaults; unknown
        keys are an error listing the valid ones).
      params: one parameter dict in the reference's parameterisation (``logit_lamb``, ``log_k``,
        ``initial_weights_logits``, ...; per-asset values in sorted token order), or a list;
        empty: the fingerprint's ``initial_*`` values.
      root: a folder of per-token price files; ``price_data``: a DataFrame indexed by unix ms
        with ``close_<TOKEN>`` columns (or an array); neither: the bundled dataset.
      fees, gas_cost, arb_fees: override the fingerprint's scalar costs.
      fees_df, gas_cost_df, arb_fees_df: per-minute series (a time column in unix ms and one
        value column); raw_trades: trades (unix ms, token_in, token_out, amount_in) applied
        each minute; see ``quantamm.data.minute_inputs``.
      do_test_period: also simulate ``endDateString`` .. ``endTestDateString`` with a fresh pool
        and return ``(result, test_result)``.
      low_data_mode: drop the minute series (value, reserves, prices) from the result.
      preslice_burnin: accepted for compatibility; the burn-in is always pre-sliced.

    Returns:
      A dict (or a list of dicts for a list of params) with ``value`` [L], ``reserves``
      [L, n], ``weights`` [L, n], ``prices`` [L, n], ``final_value``, ``final_reserves``,
      ``rule_outputs`` (TFMM), ``readouts`` (momentum family) and the window description.
    """
    call = run_call(run_fingerprint, params, {"fees": fees, "gas_cost": gas_cost,
                                              "arb_fees": arb_fees},
                    {"fees": fees_df, "gas_cost": gas_cost_df, "arb_fees": arb_fees_df},
                    lp_supply_df, do_test_period)
    configure()  # float64 before the first array (an in-process entry point)
    spec = RunSpec.from_settings(call.fingerprint)
    tokens = list(spec.tokens)
    data = load_dataset(tokens, price_data, root)
    plan, config = plan_run(data.series, spec, "startDateString", "endDateString")
    dynamic = minute_inputs(data, plan, config, call.tables, raw_trades)
    if dynamic is not None:
        config = dataclasses.replace(config, dynamic_inputs=True)
    param_sets = call.parameter_sets
    if call.single and not param_sets[0]:  # the fingerprint's initial values
        initial = pools.create_pool(spec.rule).init_base_parameters(spec.initial_values, spec,
                                                                    len(tokens))
        param_sets = [{key: value[0] for key, value in initial.items()}]
    engine_sets = [_as_engine_params(p, len(tokens)) for p in param_sets]
    results = [run_window(data, plan, config, p, dynamic) for p in engine_sets]
    if verbose:
        for result in results:
            log.info("run_finished", rule=config.rule, final_value=result["final_value"])
    if low_data_mode:
        results = [_low_data(r) for r in results]
    if do_test_period:
        test_plan, test_config = plan_run(data.series, spec, "endDateString", "endTestDateString")
        tests = [run_window(data, test_plan, test_config, p) for p in engine_sets]
        if low_data_mode:
            tests = [_low_data(r) for r in tests]
        return call.shaped(list(zip(results, tests, strict=True)))
    return call.shaped(results)
