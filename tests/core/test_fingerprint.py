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
