"""Parameter sets (train_service.parameters): the simulator's initial set equals the engine's
initialiser (the transforms of docs/simulation.md §2.1), and noise spreads sets one onwards."""

import numpy as np
import pytest

from quantamm.core import parameters as engine_parameters
from sim_service.engine import rules as engine_rules
from train_service import parameters
from train_service.simclient import SimClient

@pytest.mark.parametrize("rule", ["momentum", "anti_momentum", "power_channel",
                                  "mean_reversion_channel", "difference_momentum",
                                  "min_variance", "balancer", "hodl"])
def test_initial_set_from_the_simulator_equals_the_engine_initialiser(sim_address, rule):
    initial = {"memory_length_days": [7.0, 20.0, 45.0], "memory_length_delta_days": 2.0,
               "k_per_day": 8.0, "weights_logits": [0.5, 0.0, -0.5], "log_amplitude": 0.5,
               "raw_width": -1.0, "raw_exponents": 1.5, "pre_exp_scaling": 0.3}
    ours = SimClient([sim_address]).initial_parameters(rule, 3, 60, initial)
    engine = engine_parameters.base_parameters(
        engine_rules.get(rule),
        {parameters.INITIAL_KEY_OF[k]: v for k, v in initial.items()}, 60, 3, 1)
    assert ours.keys() == engine.keys()
    for key in ours:
        np.testing.assert_array_equal(ours[key], engine[key][0], err_msg=key)


def test_noise_spreads_sets_one_onwards_with_noise_scale_and_keeps_set_zero(sim_address):
    base = SimClient([sim_address]).initial_parameters("momentum", 3, 1440, {})
    stacked = parameters.stack(base, 4)
    for method in parameters.NOISE_METHODS:
        noisy = parameters.perturb(stacked, ["log_k", "logit_lamb"], method, 0.1, seed=3)
        np.testing.assert_array_equal(noisy["log_k"][0], base["log_k"])
        np.testing.assert_array_equal(noisy["initial_weights_logits"],
                                      stacked["initial_weights_logits"])
        spread = noisy["logit_lamb"][1:] - base["logit_lamb"]
        assert 0 < np.abs(spread).max() < 0.6
        again = parameters.perturb(stacked, ["log_k", "logit_lamb"], method, 0.1, seed=3)
        np.testing.assert_array_equal(noisy["log_k"], again["log_k"])
