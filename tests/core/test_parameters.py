"""Initial parameter sets (quantamm.core.parameters): seeded quasi-random noise, checked shapes."""

import numpy as np
import pytest

from quantamm.core import parameters
from sim_service.engine import rules as engine_rules


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


def test_noise_none_gives_identical_sets_and_a_typo_is_refused():
    rule = engine_rules.get("momentum")
    plain = parameters.init_base_parameters(rule, {}, {"chunk_period": 1440}, 3, 4, "none")
    for value in plain.values():
        for row in value[1:]:
            np.testing.assert_array_equal(row, value[0])
    with pytest.raises(ValueError, match="gaussian, sobol, lhs, centered_lhs, none.*'gausian'"):
        parameters.init_base_parameters(rule, {}, {"chunk_period": 1440}, 3, 4, "gausian")
