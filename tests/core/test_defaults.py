"""Every default is declared once (``DEFAULT_RUN_FINGERPRINT``): the client, the simulation
server, the training server, the engine and the seeds' functions agree on each, including
Optuna's default ranges."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from client.training_settings import given_parameter_config, to_training_settings
from quantamm.core import training
from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT, fill_defaults
from quantamm.core.runs import RunSpec
from quantamm.wire import fingerprints
from quantamm_api.v1 import training_pb2
from sim_service.engine import pools, rules, simulation
from sim_service.translate import run_spec_of
from train_service import search_space
from train_service.parameters import per_asset
from train_service.settings import resolve

MINIMAL = {"tokens": ["BTC", "ETH", "USDC"], "rule": "momentum",
           "startDateString": "2023-01-01 00:00:00", "endDateString": "2023-03-01 00:00:00"}
OPTIMISATION = DEFAULT_RUN_FINGERPRINT["optimisation_settings"]
OPTUNA = OPTIMISATION["optuna_settings"]
# The training guide's Optuna example, as a user writes it.
GUIDE = {**MINIMAL, "optimisation_settings": {"optuna_settings": {
    "method": "optuna", "n_trials": 100, "n_jobs": 4, "timeout": 7200, "n_startup_trials": 10,
    "early_stopping": {"enabled": True, "patience": 100, "min_improvement": 0.001},
    "parameter_config": {"memory_length": {"low": 1, "high": 200, "log_scale": True,
                                           "scalar": False}}}}}


def test_the_simulator_fills_a_minimal_fingerprint_as_the_client_does():
    proto = fingerprints.to_proto(MINIMAL)
    assert run_spec_of(proto) == RunSpec.from_settings(MINIMAL) == \
        RunSpec.from_settings(fill_defaults(MINIMAL))


def test_the_engine_config_defaults_are_the_fingerprint_defaults():
    from_fingerprint = pools.sim_config(fill_defaults(MINIMAL), 3, bout_length=10)
    bare = simulation.SimConfig("momentum", 3, 10)
    assert dataclasses.asdict(from_fingerprint) == dataclasses.asdict(bare)
    assert bare.rule_settings == rules.RuleSettings()
    assert bare.chunk_period == DEFAULT_RUN_FINGERPRINT["chunk_period"]


def test_the_training_server_fills_unset_fields_as_the_client_would_send_them():
    unset = resolve(training_pb2.TrainingSettings(), 3)
    sent = resolve(to_training_settings(fill_defaults(MINIMAL)), 3)
    # The client sends the initial values it filled; unset, the server reads the same defaults.
    assert dataclasses.replace(unset, initial_values={}) == \
        dataclasses.replace(sent, initial_values={})
    for field in training.INITIAL_VALUE_FIELDS.values():
        np.testing.assert_array_equal(per_asset(unset.initial_values, field, 3),
                                      per_asset(sent.initial_values, field, 3))


@pytest.mark.parametrize("key", training.GRADIENT_KEYS)
def test_gradient_descent_defaults(key):
    resolved = resolve(training_pb2.TrainingSettings(), 3).gradient
    expected = OPTIMISATION.get(key, training.OWN_DEFAULTS.get(("gradient_descent", key)))
    assert getattr(resolved, key) == expected


def test_common_optuna_and_stopping_defaults():
    resolved = resolve(training_pb2.TrainingSettings(), 3)
    for key, field in training.COMMON_KEYS.items():
        assert getattr(resolved, field) == OPTIMISATION[key], key
    assert resolved.bout_offset_minutes == DEFAULT_RUN_FINGERPRINT["bout_offset"]
    for key, field in training.OPTUNA_KEYS.items():
        assert getattr(resolved.search, field) == OPTUNA[key], key
    for key, field in training.OPTUNA_STOPPING_KEYS.items():
        assert getattr(resolved.search, field) == OPTUNA["early_stopping"][key], key


def test_initial_values_default_to_the_fingerprint():
    for key, field in training.INITIAL_VALUE_FIELDS.items():
        np.testing.assert_array_equal(per_asset({}, field, 3),
                                      np.broadcast_to(DEFAULT_RUN_FINGERPRINT[key], 3))


@pytest.mark.parametrize("name", ["memory_length", "k_per_day"])
def test_optunas_default_ranges_are_the_default_parameter_config(name):
    entry = OPTUNA["parameter_config"][name]
    assert dataclasses.astuple(search_space.natural_default(name)) == (
        entry["low"], entry["high"], entry["log_scale"], entry["scalar"])


def test_the_guides_parameter_config_is_sent_as_written():
    """The example's entry equals the default entry; it is sent all the same, field by field."""
    settings = to_training_settings(fill_defaults(GUIDE), None, given_parameter_config(GUIDE))
    assert list(settings.optuna.parameter_config) == ["memory_length"]
    entry = settings.optuna.parameter_config["memory_length"]
    assert (entry.low, entry.high, entry.log_scale, entry.scalar) == (1, 200, True, False)
    assert [entry.HasField(f) for f in ("low", "high", "log_scale", "scalar")] == [True] * 4
    unwritten = to_training_settings(fill_defaults(MINIMAL), None, given_parameter_config(MINIMAL))
    assert not unwritten.optuna.parameter_config
