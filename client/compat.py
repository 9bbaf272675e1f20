"""The seeds' entry points, backed by the services: ``do_run_on_historic_data`` and
``train_on_historic_data`` take the reference's fingerprint dict and return what it returns.

Services are found by ``client.embedded.addresses``: the ``sim_address`` / ``train_address``
arguments, else ``QUANTAMM_SIM_ADDRESS`` / ``QUANTAMM_TRAIN_ADDRESS``, else both started in the
background for this process. Prices given as ``price_data`` or ``root`` are uploaded once (the
dataset is named by a hash of its content, so a repeated call reuses it).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Mapping, Sequence

import numpy as np
import structlog

from client import embedded
from client.errors import NotFoundError, reports_reference_keys
from client.sim import SimClient, SimulationResult, minute_inputs
from client.train import JobUpdate, TrainClient, TrainingJob
from client.training_settings import method_of
from quantamm.data import PriceSeries, from_price_data, load_price_folder
from quantamm.core.fingerprint import fill_defaults, sorted_tokens
from quantamm.core.runs import run_call

log = structlog.get_logger(__name__)
Params = dict[str, np.ndarray]
# A stride (int32 max) that streams one row: for runs where only the summary is wanted.
ONE_ROW_STRIDE = 2**31 - 1


def sim_client(sim_address: str | None = None) -> SimClient:
    return SimClient(embedded.addresses(sim_address)[0])


def train_client(sim_address: str | None = None, train_address: str | None = None) -> TrainClient:
    return TrainClient(embedded.addresses(sim_address, train_address, need_train=True)[1])


def upload_series(sim: SimClient, series: PriceSeries) -> str:
    """The name of a server dataset holding ``series`` (uploaded unless already there)."""
    digest = hashlib.sha256(np.ascontiguousarray(series.prices).tobytes())
    digest.update(repr((series.tokens, series.start_unix_ms)).encode())
    name = f"client-{digest.hexdigest()[:20]}"
    try:
        sim.get_dataset(name)
    except NotFoundError:
        start = np.datetime64(series.start_unix_ms, "ms").astype(object)
        sim.upload_dataset(name, series.prices, series.tokens, start)
    return name


def dataset_for(sim: SimClient, tokens: Sequence[str], price_data: Any = None,
                root: str | None = None) -> str:
    """``price_data`` (DataFrame of ``close_<TOKEN>`` columns indexed by unix ms), else the
    per-token files under ``root``, else the bundled dataset ("default")."""
    if price_data is not None:
        return upload_series(sim, from_price_data(price_data, tokens))
    if root is not None:
        return upload_series(sim, load_price_folder(root, tokens))
    return "default"


def result_dict(sim: SimClient, fp: Mapping[str, Any], params: Mapping[str, Any],
                run: SimulationResult, dataset: str, low_data_mode: bool,
                with_readouts: bool) -> dict[str, Any]:
    """The reference's result keys from a simulated window (``readouts`` fetched when
    ``with_readouts``)."""
    result: dict[str, Any] = {
        "final_value": run.final_value,
        "final_reserves": run.final_reserves,
        "final_weights": run.final_weights,
        "final_prices": run.final_prices,
        "initial_reserves": run.initial_reserves,
        "weights": run.weights,
        "bout_length": len(run.values),
        "unix_values": run.unix_ms,
        "metrics": run.metrics,
    }
    if low_data_mode:
        result["initial_prices"] = run.prices[0]
    else:
        result.update(value=run.values, reserves=run.reserves, prices=run.prices,
                      hodl_value=run.hodl_values)
    if run.rule_outputs is not None:
        result["rule_outputs"] = run.rule_outputs
    if with_readouts:
        result["readouts"] = sim.readouts(fp, params, dataset)
    return result


@reports_reference_keys
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
    *,
    sim_address: str | None = None,
):
    """Simulate a pool with fixed parameters over ``startDateString`` .. ``endDateString`` on the
    simulation service.

    Args:
      run_fingerprint: the reference's settings dict (missing keys take the defaults; an unknown
        key raises ``FingerprintError`` listing the valid ones).
      params: one parameter dict (``logit_lamb``, ``log_k``, ``initial_weights_logits``, ... per
        asset in sorted token order; human units ``memory_days``, ``k_per_day``, ``weights``
        accepted), or a list of them; empty: the fingerprint's ``initial_*`` values.
      root, price_data: prices from a folder of per-token files or a DataFrame indexed by unix ms
        with ``close_<TOKEN>`` columns; neither: the bundled dataset.
      fees, gas_cost, arb_fees: override the fingerprint's scalar costs.
      fees_df, gas_cost_df, arb_fees_df: time-varying costs (a unix-ms time column or index and
        one value column; each value holds until the next); raw_trades: trades (unix ms,
        token_in, token_out, amount_in) applied in their minute. They apply to the main period
        (not the test period, as in the reference). lp_supply_df: refused.
      do_test_period: also simulate ``endDateString`` .. ``endTestDateString`` with a fresh pool
        and return ``(result, test_result)``.
      low_data_mode: leave out the minute series ``value``, ``reserves``, ``prices``.
      preslice_burnin, verbose: accepted for compatibility (burn-in is always pre-sliced).
      sim_address: ``host:port`` of a simulation service (default: see the module docstring).

    Returns:
      A dict (a list for a list of params) with ``value`` [T] USD, ``reserves`` [T, n],
      ``weights`` [T, n], ``prices`` [T, n], ``hodl_value`` [T], ``final_value``,
      ``final_reserves``, ``final_weights``, ``unix_values`` [T] ms, ``metrics``,
      ``rule_outputs`` (TFMM rules) and ``readouts`` (momentum family).
    """
    call = run_call(run_fingerprint, params, {"fees": fees, "gas_cost": gas_cost,
                                              "arb_fees": arb_fees},
                    {"fees": fees_df, "gas_cost": gas_cost_df, "arb_fees": arb_fees_df},
                    lp_supply_df, do_test_period)
    inputs = minute_inputs(fees_df, gas_cost_df, arb_fees_df, raw_trades)
    fp = call.fingerprint
    with sim_client(sim_address) as sim:
        dataset = dataset_for(sim, sorted_tokens(fp), price_data, root)
        test_fp = {**fp, "startDateString": fp["endDateString"],
                   "endDateString": fp["endTestDateString"], "endTestDateString": None}
        readouts = next(r.has_readouts for r in sim.list_rules() if r.name == fp["rule"])
        results = []
        for param_set in call.parameter_sets:
            result = result_dict(sim, fp, param_set,
                                 sim.simulate(fp, param_set, dataset, inputs=inputs), dataset,
                                 low_data_mode, readouts)
            if verbose:
                log.info("run_finished", rule=fp["rule"], final_value=result["final_value"])
            if do_test_period:
                test = result_dict(sim, test_fp, param_set,
                                   sim.simulate(test_fp, param_set, dataset), dataset,
                                   low_data_mode, readouts)
                result = (result, test)
            results.append(result)
    return call.shaped(results)


class ProgressPrinter:
    """Logs a line every ``every`` iterations (the reference's ``iterations_per_print``)."""

    def __init__(self, every: int) -> None:
        self.every, self.last = max(1, every), -1

    def __call__(self, update: JobUpdate) -> None:
        progress = update.progress
        if progress is None or progress.iteration // self.every == self.last // self.every:
            return
        self.last = progress.iteration
        log.info("training_progress", state=update.state, iteration=progress.iteration,
                 of=progress.total_iterations, objective=round(progress.objective, 6),
                 validation=round(progress.validation_metric, 6),
                 best=round(progress.best_metric, 6), elapsed_s=round(progress.elapsed_seconds, 1))


def training_metadata(job: TrainingJob, fp: Mapping[str, Any], history: list[dict[str, Any]],
                      final_state: SimulationResult, seconds: float) -> dict[str, Any]:
    """The reference's metadata keys for a finished job. Metric lists hold the selected set
    only (the service reports its metrics, not every set's)."""
    result = job.result
    validation = [result.validation_metrics] if result.validation_metrics else None
    return {
        "method": method_of(fp),
        "epochs_trained": result.iterations_done,
        "final_objective": result.final_objective,
        "best_train_metrics": [result.train_metrics],
        "best_val_metrics": validation,
        "best_continuous_test_metrics": [result.test_metrics],
        "best_param_idx": result.best_param_index,
        "best_iteration": result.best_iteration,
        "best_metric_value": result.best_metric_value,
        "best_final_reserves": final_state.final_reserves,
        "best_final_weights": final_state.final_weights,
        "selection_method": result.selection_method,
        "selection_metric": result.selection_metric,
        "final_train_metrics": [result.train_metrics],
        "final_continuous_test_metrics": [result.test_metrics],
        "final_reserves": final_state.final_reserves,
        "final_weights": final_state.final_weights,
        "run_location": job.job_id,
        "run_fingerprint": dict(fp),
        "history": history,
        "trials": result.trials,
        "pareto_front": result.pareto_front,
        "period_statistics": result.period_statistics,
        "training_seconds": result.elapsed_seconds,
        "wall_seconds": seconds,
    }


@reports_reference_keys
def train_on_historic_data(
    run_fingerprint: Mapping[str, Any],
    root: str | None = None,
    iterations_per_print: int = 1,
    force_init: bool = False,
    price_data: Any = None,
    verbose: bool = True,
    run_location: str | None = None,
    return_training_metadata: bool = False,
    warm_start_params: Mapping[str, Any] | None = None,
    warm_start_weights: Sequence[float] | None = None,
    *,
    sim_address: str | None = None,
    train_address: str | None = None,
    on_progress: Any = None,
):
    """Train the fingerprint's rule on ``startDateString`` .. ``endDateString`` (test period up
    to ``endTestDateString``) as a job of the training service, and wait for it.

    Args:
      run_fingerprint: the reference dict; training settings in ``optimisation_settings``
        (``method`` "gradient_descent" or "optuna"; ``optuna_settings``), ``bout_offset`` and the
        ``initial_*`` starting values. Unknown keys raise ``FingerprintError`` listing the valid
        ones; settings the service does not implement (``use_swa``, ``bfgs_settings``, ...)
        raise when they differ from their defaults.
      root, price_data: prices as for ``do_run_on_historic_data``.
      iterations_per_print: iterations (or trials) between progress events and printed lines.
      verbose: print progress lines (structlog) while the job runs.
      warm_start_params: a parameter dict to start from (gradient descent).
      warm_start_weights: initial pool weights [n] to start from (sets initial_weights_logits).
      force_init, run_location: accepted for compatibility; the job is stored by the service
        under its id, which the metadata returns as ``run_location``.
      on_progress: called with each ``JobUpdate`` (e.g. a progress bar).

    Returns:
      The selected parameter dict (``name -> [n]``; None when an Optuna search completed no
      trial); with ``return_training_metadata``, ``(params, metadata)``.
    """
    started = time.monotonic()
    given = dict(run_fingerprint)  # unfilled: the service applies what the user did not write
    if warm_start_weights is not None:
        weights = np.asarray(warm_start_weights, dtype=np.float64)
        given["initial_weights_logits"] = [float(v) for v in np.log(weights / weights.sum())]
    fp = fill_defaults(given)
    with sim_client(sim_address) as sim, train_client(sim_address, train_address) as trainer:
        dataset = dataset_for(sim, sorted_tokens(fp), price_data, root)
        job_id = trainer.start(
            given, dataset=dataset, report_every=iterations_per_print,
            initial_parameters=[warm_start_params] if warm_start_params else ())
        history: list[dict[str, Any]] = []
        printer = ProgressPrinter(iterations_per_print) if verbose else None

        def observe(update: JobUpdate) -> None:
            if update.progress is not None:
                history.append({"iteration": update.progress.iteration,
                                "objective": update.progress.objective,
                                "validation_metric": update.progress.validation_metric,
                                "train_metrics": update.progress.train_metrics,
                                "validation_metrics": update.progress.validation_metrics})
            for callback in (printer, on_progress):
                if callback is not None:
                    callback(update)

        job = trainer.wait(job_id, observe)
        if job.state != "SUCCEEDED":
            raise RuntimeError(f"training job {job_id} ended {job.state}: {job.message}")
        params = job.result.best_parameters or None
        if verbose:
            log.info("training_finished", job_id=job_id, best_iteration=job.result.best_iteration,
                     train=job.result.train_metrics.get(job.result.selection_metric),
                     validation=job.result.validation_metrics.get(job.result.selection_metric),
                     test=job.result.test_metrics.get(job.result.selection_metric))
        if not return_training_metadata:
            return params
        final_state = sim.simulate(fp, params, dataset, stride_minutes=ONE_ROW_STRIDE)
    return params, training_metadata(job, fp, history, final_state, time.monotonic() - started)
