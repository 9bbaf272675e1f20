"""The run fingerprint: the reference simulator's settings dict, its defaults and validation.

A fingerprint is a nested dict (the keys users of the reference know). ``fill_defaults`` fills it
recursively: a missing key, or one set to None, takes the default, except keys whose default is
None itself (``minimum_weight``, ``numeraire``, ``endTestDateString``, ...). Unknown keys are an
error listing the valid ones: a misspelt setting must never be silently ignored.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any, Mapping

import structlog

log = structlog.get_logger(__name__)

DEFAULT_RUN_FINGERPRINT: dict[str, Any] = {
    "arb_fees": 0.0,
    "arb_frequency": 1,
    "arb_quality": 1.0,
    "bout_offset": 10080,
    "checkpoint_fused": "scan",
    "chunk_period": 1440,
    "do_arb": True,
    "do_trades": False,
    "endDateString": "2023-06-01 00:00:00",
    "endTestDateString": None,
    "ensemble_init_method": "gaussian",
    "ensemble_init_scale": 0.5,
    "ensemble_init_seed": 42,
    "fees": 0.0,
    "freq": "minute",
    "gas_cost": 0.0,
    "initial_arc_length_speed": 0.0001,
    "initial_centeredness_margin": 0.2,
    "initial_daily_price_shift_base": 0.999991935483871,
    "initial_k_per_day": 20,
    "initial_log_amplitude": 0.0,
    "initial_memory_length": 10.0,
    "initial_memory_length_delta": 0.0,
    "initial_pool_value": 1000000.0,
    "initial_pre_exp_scaling": 0.5,
    "initial_price_ratio": 4.0,
    "initial_raw_exponents": 0.0,
    "initial_raw_width": 0.0,
    "initial_shift_exponent": 1.0,
    "initial_weights_logits": 1.0,
    "learnable_bounds_settings": {   "freeze_bounds": False,
                                     "max_weights_per_asset": None,
                                     "min_weights_per_asset": None},
    "max_memory_days": 365,
    "maximum_change": 0.0003,
    "minimum_weight": None,
    "n_ensemble_members": 1,
    "noise_trader_ratio": 0.0,
    "numeraire": None,
    "optimisation_settings": {   "base_lr": 0.1,
                                 "batch_size": 8,
                                 "bfgs_settings": {   "compute_dtype": "float32",
                                                      "maxiter": 100,
                                                      "n_evaluation_points": 20,
                                                      "tol": 1e-06},
                                 "checkpoint_interval": 10,
                                 "clip_norm": 10.0,
                                 "cma_es_settings": {   "compute_dtype": "float32",
                                                        "memory_budget": None,
                                                        "n_evaluation_points": 20,
                                                        "n_generations": 300,
                                                        "population_size": None,
                                                        "sigma0": 0.5,
                                                        "tol": 1e-08},
                                 "decay_lr_plateau": 100,
                                 "decay_lr_ratio": 0.8,
                                 "early_stopping": True,
                                 "early_stopping_metric": "daily_log_sharpe",
                                 "early_stopping_patience": 200,
                                 "force_scalar": False,
                                 "include_flipped_training_data": False,
                                 "initial_random_key": 0,
                                 "lr_decay_ratio": 1000,
                                 "lr_schedule_type": "constant",
                                 "max_mc_version": 9,
                                 "method": "gradient_descent",
                                 "min_lr": 1e-06,
                                 "n_cycles": 5,
                                 "n_iterations": 1000,
                                 "n_parameter_sets": 4,
                                 "noise_scale": 0.1,
                                 "optimiser": "adamw",
                                 "optuna_settings": {   "early_stopping": {   "enabled": False,
                                                                              "min_improvement": 0.001,
                                                                              "patience": 100},
                                                        "expand_around": True,
                                                        "make_scalar": False,
                                                        "multi_objective": False,
                                                        "n_jobs": 4,
                                                        "n_startup_trials": 10,
                                                        "n_trials": 20,
                                                        "overfitting_penalty": 0.2,
                                                        "parameter_config": {   "k_per_day": {   "high": 1000,
                                                                                                 "log_scale": True,
                                                                                                 "low": 0.1,
                                                                                                 "scalar": False},
                                                                                "log_amplitude": {   "high": 10,
                                                                                                     "log_scale": False,
                                                                                                     "low": -10,
                                                                                                     "scalar": False},
                                                                                "log_k": {   "high": 10.0,
                                                                                             "log_scale": False,
                                                                                             "low": -10.0,
                                                                                             "scalar": False},
                                                                                "logit_lamb": {   "high": 10,
                                                                                                  "log_scale": False,
                                                                                                  "low": -10,
                                                                                                  "scalar": False},
                                                                                "memory_days_1": {   "high": 200,
                                                                                                     "log_scale": True,
                                                                                                     "low": 0.5,
                                                                                                     "scalar": False},
                                                                                "memory_days_2": {   "high": 200,
                                                                                                     "log_scale": True,
                                                                                                     "low": 0.5,
                                                                                                     "scalar": False},
                                                                                "memory_length": {   "high": 200,
                                                                                                     "log_scale": True,
                                                                                                     "low": 1,
                                                                                                     "scalar": False},
                                                                                "memory_length_delta": {   "high": 100,
                                                                                                           "log_scale": True,
                                                                                                           "low": 0.1,
                                                                                                           "scalar": False},
                                                                                "raw_exponents": {   "high": 10,
                                                                                                     "log_scale": False,
                                                                                                     "low": 0,
                                                                                                     "scalar": False},
                                                                                "raw_pre_exp_scaling": {   "high": 10,
                                                                                                           "log_scale": False,
                                                                                                           "low": -10,
                                                                                                           "scalar": False},
                                                                                "raw_width": {   "high": 10,
                                                                                                 "log_scale": False,
                                                                                                 "low": -10,
                                                                                                 "scalar": False},
                                                                                "weights_logits": {   "high": 10,
                                                                                                      "log_scale": False,
                                                                                                      "low": -10,
                                                                                                      "scalar": False}},
                                                        "storage": {   "type": "sqlite",
                                                                       "url": None},
                                                        "study_name": None,
                                                        "timeout": 7200},
                                 "parameter_init_method": "gaussian",
                                 "sample_method": "uniform",
                                 "swa_freq": 10,
                                 "swa_start_frac": 0.75,
                                 "track_checkpoints": False,
                                 "train_on_hessian_trace": False,
                                 "training_data_kind": "historic",
                                 "use_gradient_clipping": True,
                                 "use_plateau_decay": False,
                                 "use_swa": False,
                                 "val_fraction": 0.2,
                                 "warmup_steps": 100,
                                 "weight_decay": 0.01},
    "price_noise_sigma": 0.0,
    "protocol_fee_split": 0.0,
    "reclamm_arc_length_speed": None,
    "reclamm_centeredness_scaling": False,
    "reclamm_interpolation_method": "geometric",
    "reclamm_learn_arc_length_speed": False,
    "reclamm_learn_fees": False,
    "reclamm_use_shift_exponent": False,
    "return_val": "daily_log_sharpe",
    "rule": "mean_reversion_channel",
    "startDateString": "2023-01-01 00:00:00",
    "ste_max_change": False,
    "ste_min_max_weight": False,
    "subsidary_pools": [],
    "tokens": ["BTC", "ETH", "USDC"],
    "turnover_penalty": 0.0,
    "use_alt_lamb": False,
    "use_fused_reserves": True,
    "use_pre_exp_scaling": True,
    "weight_calculation_method": "auto",
    "weight_interpolation_method": "linear",
    "weight_interpolation_period": 1440,
    # Ours, not the reference's: weight rules (min variance) without its one-chunk look-ahead.
    "weight_rule_causal": False,
}

# The reference's internal top-level keys: its runners set them (its own tests pass them to pool
# methods). Accepted so such a dict runs unchanged; none has an effect on a run here (the window
# comes from the dates, the data kind from optimisation_settings.training_data_kind), and each
# one given is logged. The pool API (sim_service.engine.pools) reads bout_length itself.
INTERNAL_KEYS: dict[str, str] = {
    "bout_length": "the window length is set from the dates here (the reference's runners "
                   "overwrite it too); the pool API reads it",
    "run_type": "internal to the reference's forward pass; no effect here",
    "all_sig_variations": "internal to the reference's forward pass; no effect here",
    "training_data_kind": "the top-level copy the reference's forward pass reads; set "
                          "optimisation_settings.training_data_kind instead; no effect here",
}

# Keys the reference accepts in a fingerprint although they have no default.
OPTIONAL_KEYS: dict[tuple[str, ...], frozenset[str]] = {
    (): frozenset({"evaluation_starts", "test_fraction", "alphabetic", "n_assets",
                   *INTERNAL_KEYS}),
    # eval_every is ours: train/validation metrics every k gradient steps (the reference: 1);
    # window_sampler too: how window starts are drawn (default "reference", the reference's).
    ("optimisation_settings",): frozenset({"per_param_noise_scale", "eval_every",
                                           "window_sampler"}),
    # The training guide's Optuna example sets "method" here rather than one level up.
    ("optimisation_settings", "optuna_settings"): frozenset({"output_dir", "method"}),
    ("optimisation_settings", "bfgs_settings"): frozenset({"memory_budget"}),
}

# Dict-valued settings whose inner keys are free-form (one entry per parameter name).
FREE_FORM_KEYS = frozenset({"parameter_config", "per_param_noise_scale"})


class FingerprintError(ValueError):
    """A fingerprint key or value is invalid; ``field`` is the dotted path of the key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class UnknownReturnValError(FingerprintError, NotImplementedError):
    """``return_val`` names no metric. Also a NotImplementedError, what the reference raises for
    an unknown ``return_val``; the message lists the valid names and the closest one."""


def _nested_home(key: str, defaults: Mapping[str, Any], path: tuple[str, ...]) -> str | None:
    """The dotted path of ``key`` one level down (``optimisation_settings.clip_norm`` for a
    top-level ``clip_norm``), or None."""
    for name, default in defaults.items():
        if isinstance(default, dict) and name not in FREE_FORM_KEYS and (
                key in default or key in OPTIONAL_KEYS.get((*path, name), frozenset())):
            return ".".join((*path, name, key))
    return None


def _check_keys(given: Mapping[str, Any], defaults: Mapping[str, Any], path: tuple[str, ...]):
    allowed = set(defaults) | OPTIONAL_KEYS.get(path, frozenset())
    for key in given:
        if key not in allowed:
            field = ".".join((*path, key))
            # A misplaced key (a top-level clip_norm, which the reference silently ignores) is
            # refused too, pointing at where it belongs.
            home = _nested_home(key, defaults, path)
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = (f"; did you mean {home!r}?" if home
                    else f" (did you mean {close[0]!r}?)" if close else "")
            raise FingerprintError(
                field, f"unknown setting{hint}; valid keys here: {', '.join(sorted(allowed))}"
            )


def _fill(given: Mapping[str, Any], defaults: Mapping[str, Any], path: tuple[str, ...]):
    _check_keys(given, defaults, path)
    filled = copy.deepcopy(dict(defaults))
    for key, value in given.items():
        default = defaults.get(key)
        if value is None:
            continue
        if isinstance(default, dict) and key not in FREE_FORM_KEYS:
            if not isinstance(value, Mapping):
                raise FingerprintError(".".join((*path, key)), "must be a dict")
            filled[key] = _fill(value, default, (*path, key))
        elif isinstance(default, dict):
            filled[key] = {**copy.deepcopy(default), **copy.deepcopy(dict(value))}
        else:
            filled[key] = copy.deepcopy(value)
    return filled


def fill_defaults(run_fingerprint: Mapping[str, Any]) -> dict[str, Any]:
    """A complete copy of ``run_fingerprint``: defaults filled recursively, keys checked."""
    filled = _fill(run_fingerprint, DEFAULT_RUN_FINGERPRINT, ())
    for key, effect in INTERNAL_KEYS.items():
        value = filled.pop(key, None)  # no effect on a run: not carried on
        if value is not None:
            log.info("reference internal setting accepted", key=key, effect=effect)
    if run_fingerprint.get("weight_interpolation_period") is None:
        # The training guide's example sets chunk_period 60 alone; the reference would then fail
        # (1440 > 60). Unset, the interpolation spans at most one chunk.
        filled["weight_interpolation_period"] = min(filled["weight_interpolation_period"],
                                                    filled["chunk_period"])
    if filled["weight_interpolation_period"] > filled["chunk_period"]:
        raise FingerprintError(
            "weight_interpolation_period",
            f"must be <= chunk_period ({filled['chunk_period']}), "
            f"got {filled['weight_interpolation_period']}",
        )
    if not 0.0 <= filled["protocol_fee_split"] <= 1.0:
        raise FingerprintError("protocol_fee_split", "must be in [0, 1]")
    return filled


def sorted_tokens(run_fingerprint: Mapping[str, Any]) -> list[str]:
    """Tokens of the pool and its subsidiary pools, de-duplicated and sorted alphabetically."""
    tokens = set(run_fingerprint["tokens"])
    for pool in run_fingerprint.get("subsidary_pools", []):
        tokens |= set(pool["tokens"])
    return sorted(tokens)
