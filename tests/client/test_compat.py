"""The seeds' functions over the services: same keys, defaults and numbers as the reference."""

from __future__ import annotations

import json

import numpy as np
import pytest

from client import (FingerprintError, InvalidArgumentError, TrainClient, do_run_on_historic_data,
                    fill_defaults, train_on_historic_data)
from client import SimClient, embedded
from sim_service.engine import rules as engine_rules
from quantamm_api.v1 import training_pb2
from client.sim import minute_inputs
from quantamm.wire.tensors import to_tensor
from client.training_settings import to_training_settings
from tests.client.conftest import guide_fingerprint

S1_VECTOR = "S1"


def vector_case(vectors_dir, name: str) -> tuple[dict, dict, np.lib.npyio.NpzFile]:
    vector = np.load(vectors_dir / f"{name}.npz")
    params = {k.removeprefix("param_"): vector[k] for k in vector.files if k.startswith("param_")}
    return json.loads(str(vector["run_fingerprint_json"])), params, vector


def test_do_run_through_embedded_services_reproduces_vector_s1(embedded_only, vectors_dir):
    fingerprint, params, vector = vector_case(vectors_dir, S1_VECTOR)
    result = do_run_on_historic_data(fingerprint, params)
    minutes = vector["sample_minute_idx"]
    assert result["final_value"] == pytest.approx(float(vector["final_value"]), rel=1e-9)
    np.testing.assert_allclose(result["weights"][minutes], vector["weights_sampled_f64"],
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(result["value"][minutes], vector["values_sampled"], rtol=1e-9)
    np.testing.assert_allclose(result["rule_outputs"], vector["rule_outputs"], rtol=1e-9,
                               atol=1e-14)
    assert set(result["readouts"]) >= {"ewma", "gradients"}
    np.testing.assert_allclose(result["hodl_value"],
                               result["prices"] @ result["reserves"][0], rtol=1e-12)
    assert result["final_weights"] == pytest.approx(result["weights"][-1], abs=1e-15)


def test_do_run_low_data_mode_and_test_period(embedded_only, vectors_dir):
    fingerprint, params, _ = vector_case(vectors_dir, S1_VECTOR)
    fingerprint = {**fingerprint, "endTestDateString": "2023-08-01 00:00:00"}
    full = do_run_on_historic_data(fingerprint, params)
    train, test = do_run_on_historic_data(fingerprint, params, do_test_period=True,
                                          low_data_mode=True)
    assert "value" not in train and "prices" not in test
    assert train["final_value"] == full["final_value"]
    assert test["bout_length"] == 31 * 1440 and test["initial_reserves"].shape == (3,)
    assert test["initial_reserves"] @ test["initial_prices"] == pytest.approx(1e6, rel=1e-12)
    with pytest.raises(ValueError, match="must be a pandas DataFrame") as info:
        do_run_on_historic_data(fingerprint, params, fees_df=object())
    assert info.value.field == "fees"


def test_misspelt_keys_are_refused_with_the_valid_ones(embedded_only):
    with pytest.raises(FingerprintError, match="did you mean 'chunk_period'") as info:
        do_run_on_historic_data({**guide_fingerprint(), "chunk_perod": 60})
    assert info.value.field == "chunk_perod"
    assert "valid keys here:" in str(info.value) and "weight_interpolation_period" in str(
        info.value)
    fp = guide_fingerprint()
    fp["optimisation_settings"] = {"n_iteration": 5}
    with pytest.raises(FingerprintError, match="did you mean 'n_iterations'"):
        train_on_historic_data(fp)


def test_settings_the_service_lacks_are_refused_not_dropped():
    fp = fill_defaults({**guide_fingerprint(), "optimisation_settings": {"use_swa": True}})
    with pytest.raises(FingerprintError, match="optimisation_settings.use_swa"):
        to_training_settings(fp)
    fp = fill_defaults({**guide_fingerprint(), "optimisation_settings": {"method": "bfgs"}})
    with pytest.raises(FingerprintError, match="optimisation_settings.method"):
        to_training_settings(fp)


def test_guide_keys_map_onto_training_settings():
    fp = fill_defaults(guide_fingerprint())
    fp["optimisation_settings"].update({"method": "gradient_descent", "optimiser": "adam",
                                        "base_lr": 0.01, "batch_size": 16,
                                        "n_parameter_sets": 4, "n_iterations": 10000,
                                        "decay_lr_plateau": 200, "decay_lr_ratio": 0.8})
    fp["optimisation_settings"]["optuna_settings"].update({
        "n_trials": 100, "timeout": 7200,
        "early_stopping": {"enabled": True, "patience": 100, "min_improvement": 0.001}})
    fp["optimisation_settings"]["optuna_settings"]["parameter_config"]["memory_length"] = {
        "low": 2, "high": 100, "log_scale": True, "scalar": True}
    written = fp["optimisation_settings"]["optuna_settings"]["parameter_config"]
    settings = to_training_settings(fp, 100, {"memory_length": written["memory_length"]})
    assert settings.method == training_pb2.TRAINING_METHOD_GRADIENT_DESCENT
    gradient = settings.gradient_descent
    assert (gradient.optimiser, gradient.base_lr, gradient.batch_size, gradient.n_iterations,
            gradient.decay_lr_plateau, gradient.decay_lr_ratio) == ("adam", 0.01, 16, 10000,
                                                                     200, 0.8)
    assert settings.n_parameter_sets == 4 and settings.report_every == 100
    assert settings.bout_offset_minutes == 10080 and settings.val_fraction == 0.2
    assert settings.initial_values.memory_length_days == 10.0
    assert settings.initial_values.k_per_day == 20.0
    optuna = settings.optuna
    assert (optuna.n_trials, optuna.timeout_seconds, optuna.early_stopping,
            optuna.early_stopping_patience) == (100, 7200, True, 100)
    # Only the ranges the user wrote travel; the service applies the defaults to the others.
    assert list(optuna.parameter_config) == ["memory_length"]
    assert optuna.parameter_config["memory_length"].high == 100
    assert optuna.parameter_config["memory_length"].scalar
    # The guide's Optuna example sets the method inside optuna_settings.
    fp["optimisation_settings"]["optuna_settings"]["method"] = "optuna"
    assert to_training_settings(fp).method == training_pb2.TRAINING_METHOD_OPTUNA


def test_guide_gradient_descent_example_through_the_environment_addresses(via_environment):
    """The training guide's gradient-descent example (fewer iterations), on services started
    apart from the client and reached through QUANTAMM_SIM_ADDRESS / QUANTAMM_TRAIN_ADDRESS."""
    fp = fill_defaults(guide_fingerprint())
    fp["optimisation_settings"].update({"method": "gradient_descent", "optimiser": "adam",
                                        "base_lr": 0.01, "batch_size": 4,
                                        "n_parameter_sets": 2, "n_iterations": 12,
                                        "decay_lr_plateau": 200, "decay_lr_ratio": 0.8})
    params, metadata = train_on_historic_data(fp, iterations_per_print=4, verbose=False,
                                              return_training_metadata=True)
    assert set(params) == {"log_k", "logit_lamb", "logit_delta_lamb", "initial_weights_logits"}
    assert all(np.shape(v) == (2,) and np.all(np.isfinite(v)) for v in params.values())
    assert metadata["method"] == "gradient_descent"
    assert metadata["selection_method"] == "best_val"
    assert metadata["selection_metric"] == "daily_log_sharpe"
    assert metadata["epochs_trained"] >= 12
    for key in ("best_train_metrics", "best_val_metrics", "best_continuous_test_metrics"):
        assert np.isfinite(metadata[key][0]["daily_log_sharpe"]), key
    assert metadata["history"] and metadata["history"][-1]["iteration"] >= 11
    # The job ran on the separately started training service, not an embedded one.
    trainer = TrainClient(via_environment["train"].address)
    job = trainer.get(metadata["run_location"])
    assert job.state == "SUCCEEDED" and job.result.best_parameters.keys() == params.keys()
    # The final state reported is that of the chosen parameters at the end of the training
    # period: the same run through do_run_on_historic_data ends there too.
    run = do_run_on_historic_data(fp, params, low_data_mode=True)
    np.testing.assert_allclose(metadata["best_final_weights"], run["final_weights"], rtol=1e-12)
    np.testing.assert_allclose(metadata["best_final_reserves"], run["final_reserves"],
                               rtol=1e-12)
    # Selection (docs/training.md §3.9): the best iteration has the highest set-mean validation
    # metric of all evaluations (so of every reported one), and the chosen set is the best set
    # of that iteration (its own metric at least the mean).
    validation = [event["validation_metric"] for event in metadata["history"]]
    assert metadata["best_metric_value"] >= max(validation) - 1e-12
    assert metadata["best_val_metrics"][0]["daily_log_sharpe"] >= metadata[
        "best_metric_value"] - 1e-12


def test_guide_optuna_example(via_environment):
    """The guide's Optuna example, ``method`` inside ``optuna_settings`` as the guide writes it."""
    fp = fill_defaults(guide_fingerprint())
    fp["optimisation_settings"]["optuna_settings"].update({
        "method": "optuna", "n_trials": 6, "n_jobs": 2, "timeout": 600, "n_startup_trials": 3,
        "early_stopping": {"enabled": True, "patience": 100, "min_improvement": 0.001},
        "parameter_config": {"memory_length": {"low": 2, "high": 100, "log_scale": True,
                                               "scalar": False}},
    })
    params, metadata = train_on_historic_data(fp, verbose=False, return_training_metadata=True)
    assert metadata["method"] == "optuna"
    complete = [t for t in metadata["trials"] if t.state == "COMPLETE"]
    assert len(complete) == 6
    assert params is not None and set(params) >= {"log_k", "logit_lamb"}
    best = max(complete, key=lambda t: t.values[0])
    np.testing.assert_allclose(params["logit_lamb"], best.parameters["logit_lamb"])


def test_time_varying_fees_and_trades_match_the_in_process_engine(embedded_only):
    """fees_df / gas_cost_df / arb_fees_df / raw_trades travel as MinuteInputs and give the
    in-process runner's numbers."""
    import pandas as pd

    from sim_service import compat as engine
    from quantamm.core.rules import human_to_params

    fp = {"tokens": ["BTC", "ETH", "USDC"], "rule": "momentum",
          "startDateString": "2023-03-01 00:00:00", "endDateString": "2023-03-06 00:00:00"}
    params = {"memory_days": [10.0], "k_per_day": [20.0]}
    start_ms = 1677628800000  # 2023-03-01 UTC
    day = 86_400_000
    tables = {
        "fees_df": pd.DataFrame({"unix": [start_ms, start_ms + 2 * day], "fees": [0.003, 0.001]}),
        "gas_cost_df": pd.DataFrame({"unix": [start_ms], "gas": [1.0]}),
        "arb_fees_df": pd.DataFrame({"unix": [start_ms + day], "arb": [0.0005]}),
        "raw_trades": pd.DataFrame({"unix": [start_ms + 60_000 * 90, start_ms + 3 * day],
                                    "token_in": ["USDC", "ETH"], "token_out": ["BTC", "USDC"],
                                    "amount_in": [50_000.0, 10.0]}),
    }
    remote = do_run_on_historic_data(fp, params, **tables)
    local = engine.do_run_on_historic_data(fp, human_to_params(engine_rules.get("momentum"), params, 3, 1440),
                                           **tables)
    np.testing.assert_allclose(remote["value"], local["value"], rtol=1e-12)
    np.testing.assert_allclose(remote["reserves"], local["reserves"], rtol=1e-12)
    fee_free = do_run_on_historic_data(fp, params)
    assert remote["final_value"] != pytest.approx(fee_free["final_value"], rel=1e-6)
    bad = {**tables, "raw_trades": tables["raw_trades"].assign(token_in=["DOGE", "ETH"])}
    with pytest.raises(InvalidArgumentError, match="minute_inputs.trades") as info:
        do_run_on_historic_data(fp, params, **bad)
    assert info.value.field == "minute_inputs.trades"
    inputs = minute_inputs(fees=tables["fees_df"])
    inputs.fees.unix_ms.CopyFrom(to_tensor(np.array([1.0, 2.0])))  # float times
    with SimClient(embedded.addresses()[0]) as sim, pytest.raises(
            InvalidArgumentError, match="minute_inputs.fees.unix_ms: must be a \\[K\\] int64"):
        sim.simulate(fp, params, inputs=inputs)



def test_settings_without_effect_are_accepted_and_logged(all_logs):
    """The reference accepts n_cycles, max_mc_version and a top-level bout_length, and none
    changes its gradient descent: accepted here, each logged with its key."""
    fp = fill_defaults({**guide_fingerprint(), "bout_length": 1441,
                        "optimisation_settings": {"n_cycles": 3, "max_mc_version": 2}})
    all_logs.clear()
    settings = to_training_settings(fp)
    assert settings == to_training_settings(fill_defaults(guide_fingerprint()))
    assert {entry["key"] for entry in all_logs} == {"optimisation_settings.n_cycles",
                                                    "optimisation_settings.max_mc_version"}


@pytest.mark.parametrize("key", ["clip_norm", "use_gradient_clipping"])
def test_misplaced_training_key_is_refused_pointing_at_optimisation_settings(key):
    with pytest.raises(FingerprintError,
                       match=f"did you mean 'optimisation_settings.{key}'"):
        train_on_historic_data({**guide_fingerprint(), key: 5.0})


@pytest.mark.parametrize("settings, field, message", [
    ({"optimisation_settings": {"base_lr": "0.1"}}, "optimisation_settings.base_lr",
     "must be a number"),
    ({"optimisation_settings": {"n_iterations": 10.5}}, "optimisation_settings.n_iterations",
     "must be an int, got 10.5"),
    ({"optimisation_settings": {"early_stopping": 0.3}}, "optimisation_settings.early_stopping",
     "must be a bool"),
    ({"optimisation_settings": {"optuna_settings": {"n_trials": 2.5}}},
     "optimisation_settings.optuna_settings.n_trials", "must be an int"),
    ({"initial_memory_length": "ten"}, "initial_memory_length", "must be a number"),
])
def test_wrong_types_in_training_settings_are_typed_errors(settings, field, message):
    with pytest.raises(FingerprintError, match=message) as info:
        to_training_settings(fill_defaults({**guide_fingerprint(), **settings}))
    assert info.value.field == field
    assert to_training_settings(
        fill_defaults({**guide_fingerprint(), "bout_offset": 10080.0})).bout_offset_minutes == 10080
