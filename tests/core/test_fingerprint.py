"""Run fingerprints (quantamm.core.fingerprint): defaults, misspelt keys, token order."""

import pytest

from quantamm.core.fingerprint import (
    FingerprintError,
    fill_defaults,
    sorted_tokens,
)


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


@pytest.mark.parametrize("key, value", [("clip_norm", 5.0), ("use_gradient_clipping", False)])
def test_misplaced_optimisation_key_points_at_optimisation_settings(key, value):
    """The reference silently ignores a top-level clip_norm; here it is refused, pointing home."""
    with pytest.raises(FingerprintError,
                       match=f"unknown setting; did you mean 'optimisation_settings.{key}'") as info:
        fill_defaults({key: value})
    assert info.value.field == key


def test_reference_internal_keys_are_accepted_logged_and_have_no_effect(all_logs):
    given = {"bout_length": 1441, "run_type": "normal", "all_sig_variations": [[1, -1]],
             "training_data_kind": "historic"}
    fp = fill_defaults(given)
    logged = list(all_logs)
    assert fp == fill_defaults({})
    assert sorted(entry["key"] for entry in logged) == sorted(given)
    assert all(entry["log_level"] == "info" for entry in logged)


def test_unknown_return_val_is_a_not_implemented_error_and_still_invalid_argument():
    """The reference raises NotImplementedError; ours is that and a FingerprintError (a
    ValueError with a field), so the servers still answer INVALID_ARGUMENT naming it."""
    import grpc

    from quantamm.core.fingerprint import UnknownReturnValError
    from quantamm.core.runs import RunSpec
    from quantamm.wire.errors import as_request_error

    with pytest.raises(NotImplementedError, match="return_val.*sharpe") as info:
        RunSpec.from_settings({"return_val": "sharp"})
    assert isinstance(info.value, UnknownReturnValError)
    assert isinstance(info.value, FingerprintError) and info.value.field == "return_val"
    refused = as_request_error(info.value, "fingerprint.")
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.field == "fingerprint.return_val"

