"""Rule schemas (quantamm.core.rules): human-unit parameters to the engine's parameters."""

import numpy as np
import pytest

from quantamm.core.rules import human_to_params
from sim_service.engine import rules as engine_rules
from sim_service.engine import transforms


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
