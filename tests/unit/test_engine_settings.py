from sim_service.engine import rules as engine_rules
from quantamm.core.rules import human_to_params
"""Parameter transforms, schemas, initialisation, fingerprints and window planning."""

import numpy as np
import pytest

from quantamm.core import parameters
from quantamm.core import rules as schema
from sim_service.engine import pools, transforms, windows
from quantamm.core.fingerprint import (
    FingerprintError,
    fill_defaults,
    sorted_tokens,
)


@pytest.mark.parametrize(
    "days, chunk, lamb, logit",
    [
        (10, 1440, 0.680360711885157, 0.755429980824),
        (10, 60, 0.984933761242677, 4.180117994737),
        (30, 1440, 0.883747605303189, 2.028407863710),
        (365, 1440, 0.990076220832141, 4.602848117654),
        (0.5, 1440, 0.002584031044949, -5.955817303419),
    ],
)
def test_memory_days_to_lambda_matches_reference(days, chunk, lamb, logit):
    assert float(transforms.memory_days_to_lamb(days, chunk)) == pytest.approx(lamb, rel=1e-13)
    assert float(transforms.memory_days_to_lamb_np(days, chunk)) == pytest.approx(lamb, rel=1e-14)
    assert float(transforms.memory_days_to_logit_lamb(days, chunk)) == pytest.approx(logit, abs=1e-11)


@pytest.mark.parametrize(
    "logit, days_1440, days_60",
    [(0.0, 5.768998281230, 0.240374928385), (2.0, 29.224839369315, 1.217701640388),
     (4.0, 200.838336599397, 8.368264024975)],
)
def test_logit_lambda_to_memory_days(logit, days_1440, days_60):
    assert float(transforms.logit_lamb_to_memory_days(logit, 1440)) == pytest.approx(days_1440, rel=1e-11)
    assert float(transforms.logit_lamb_to_memory_days(logit, 60)) == pytest.approx(days_60, rel=1e-11)


def test_numpy_lambda_variant_guards_extremes():
    assert transforms.memory_days_to_lamb_np(0.0, 1440) == 0.0
    assert float(transforms.memory_days_to_lamb_np(365, 1)) == 1.0  # reference: lambda = 1


def test_squareplus_round_trip():
    assert float(transforms.squareplus(0.0)) == 1.0
    assert transforms.inverse_squareplus(20.0) == pytest.approx(19.95)
    assert float(transforms.squareplus(transforms.inverse_squareplus(3.7))) == pytest.approx(3.7)


def test_momentum_schema_is_the_seeds():
    spec = pools.MomentumPool.PARAM_SCHEMA
    assert set(spec) == {"initial_weights_logits", "log_k", "logit_delta_lamb", "logit_lamb"}
    assert spec["log_k"] == schema.ParamSpec(
        initial=4.32, optuna=schema.OptunaRange(-6.6, 12.0), transform="log2",
        description="Log2 of momentum sensitivity factor (k) per day",
    )
    assert spec["logit_lamb"].optuna == schema.OptunaRange(-4.0, 8.0)
    assert not spec["initial_weights_logits"].trainable
    assert pools.MomentumPool.get_param_schema() == spec


def test_init_base_parameters_shapes_defaults_and_noise():
    pool = pools.MomentumPool()
    params = pool.init_base_parameters({"initial_memory_length": 10.0, "initial_k_per_day": 20},
                                       {"chunk_period": 1440}, 3, n_parameter_sets=4)
    assert list(params) == ["log_k", "logit_lamb", "logit_delta_lamb", "initial_weights_logits"]
    np.testing.assert_allclose(params["log_k"][0], [4.321928094887363] * 3)
    np.testing.assert_allclose(params["logit_lamb"][0], [0.7554299808242099] * 3, rtol=1e-12)
    np.testing.assert_array_equal(params["initial_weights_logits"], np.ones((4, 3)))
    # sets 1.. get unit Gaussian noise drawn in key order from RandomState(0)
    draws = np.random.RandomState(0).standard_normal((3, 3))
    np.testing.assert_allclose(params["log_k"][1:], 4.321928094887363 + draws)
    assert np.all(np.asarray(params["logit_delta_lamb"][1:]) != 0)


@pytest.mark.parametrize("method", ["sobol", "lhs", "centered_lhs"])
def test_quasi_random_initial_noise_is_seeded(method):
    a = parameters.init_base_parameters(engine_rules.get("power_channel"), {}, {"chunk_period": 1440}, 2, 5, method)
    b = parameters.init_base_parameters(engine_rules.get("power_channel"), {}, {"chunk_period": 1440}, 2, 5, method)
    np.testing.assert_array_equal(a["sp_k"], b["sp_k"])
    for column in a["sp_k"][1:].T:  # sets 1.. are distinct points of the design
        assert np.unique(column).size == 4
    np.testing.assert_allclose(a["sp_k"][0], 19.95)


def test_initial_value_shapes_are_checked():
    with pytest.raises(ValueError, match="initial_k_per_day"):
        parameters.init_base_parameters(engine_rules.get("momentum"), {"initial_k_per_day": [1, 2]}, {"chunk_period": 60}, 3)


def test_human_parameters_convert_to_engine_parameters():
    params = human_to_params(
        engine_rules.get("mean_reversion_channel"),
        {"memory_days": 10, "k_per_day": 20, "amplitude": 10, "width": 1, "weights": [0.5, 0.3, 0.2]},
        3, 1440,
    )
    np.testing.assert_allclose(params["logit_lamb"], [0.7554299808242099] * 3, rtol=1e-12)
    np.testing.assert_allclose(transforms.squareplus(params["sp_k"]), 20.0)
    np.testing.assert_allclose(transforms.squareplus(params["sp_amplitude"]), 1.0)
    np.testing.assert_allclose(np.exp(params["initial_weights_logits"]), [0.5, 0.3, 0.2])
    mv = human_to_params(engine_rules.get("min_variance"), {"memory_days": [5, 6, 7]}, 3, 1440)
    np.testing.assert_array_equal(mv["memory_days_1"], mv["memory_days_2"])
    with pytest.raises(ValueError, match="amplitude needs memory_days"):
        human_to_params(engine_rules.get("mean_reversion_channel"), {"amplitude": 1}, 3, 1440)


def test_fingerprint_defaults_fill_recursively_and_none_means_default():
    fp = fill_defaults({"rule": "momentum", "chunk_period": None,
                        "optimisation_settings": {"base_lr": 0.01, "optuna_settings": {"n_trials": 3}}})
    assert fp["chunk_period"] == 1440
    assert fp["optimisation_settings"]["base_lr"] == 0.01
    assert fp["optimisation_settings"]["optimiser"] == "adamw"
    assert fp["optimisation_settings"]["optuna_settings"]["n_trials"] == 3
    assert fp["optimisation_settings"]["optuna_settings"]["n_jobs"] == 4
    assert fp["minimum_weight"] is None and fp["rule"] == "momentum"


def test_fingerprint_rejects_misspelt_keys_with_the_valid_ones():
    with pytest.raises(FingerprintError, match="did you mean 'chunk_period'") as info:
        fill_defaults({"chunk_perod": 60})
    assert info.value.field == "chunk_perod"
    assert "weight_interpolation_period" in str(info.value)
    with pytest.raises(FingerprintError, match="optimisation_settings.base_learning_rate"):
        fill_defaults({"optimisation_settings": {"base_learning_rate": 0.1}})
    with pytest.raises(FingerprintError, match="weight_interpolation_period"):
        fill_defaults({"chunk_period": 60, "weight_interpolation_period": 1440})


def test_unset_interpolation_period_spans_at_most_one_chunk():
    """The training guide sets chunk_period 60 alone: interpolation then spans the chunk."""
    assert fill_defaults({"chunk_period": 60})["weight_interpolation_period"] == 60
    assert fill_defaults({"chunk_period": 2880})["weight_interpolation_period"] == 1440
    assert fill_defaults({"chunk_period": 60, "weight_interpolation_period": 30})[
        "weight_interpolation_period"] == 30


def test_tokens_are_sorted_alphabetically():
    assert sorted_tokens({"tokens": ["USDC", "ETH", "BTC"]}) == ["BTC", "ETH", "USDC"]


def test_window_plan_keeps_a_year_of_burn_in_and_a_day_after_the_end():
    start, end = 833760, 1094400  # 2023-01-01, 2023-07-01 in the bundled data
    plan = windows.plan_window(start, end, 1882081, 365)
    assert (plan.first_row, plan.start_index, plan.bout_length) == (308160, 525600, 260641)
    assert plan.n_rows == 789120 and plan.warnings == ()


def test_window_plan_warns_on_short_history_and_refuses_none():
    plan = windows.plan_window(10 * 1440, 20 * 1440, 40 * 1440, 365)
    assert plan.max_memory_days == 9 and plan.first_row == 1440 and plan.warnings
    with pytest.raises(windows.WindowError, match="one whole day"):
        windows.plan_window(600, 5000, 40 * 1440, 365)


def test_window_plan_refuses_ends_too_close_to_the_data_end():
    with pytest.raises(windows.WindowError, match="endDateString"):
        windows.plan_window(2 * 1440, 10 * 1440, 10 * 1440 + 1, 1, rows_needed_after_start=lambda s: 10**9)


def test_dates_map_to_exact_rows():
    start = windows.parse_date("2021-06-01 00:00:00", "startDateString")
    assert start == 1622505600000
    assert windows.row_of(windows.parse_date("2023-01-01 00:00:00", "x"), start, 1882081, "x") == 833760
    with pytest.raises(windows.WindowError, match="endDateString"):
        windows.row_of(windows.parse_date("2030-01-01 00:00:00", "e"), start, 1882081, "endDateString")
    with pytest.raises(windows.WindowError, match="YYYY-MM-DD"):
        windows.parse_date("2023/01/01", "startDateString")
