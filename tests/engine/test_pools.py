"""Pools (sim_service.engine.pools): the momentum pool's parameter schema and initial sets."""

import numpy as np

from quantamm.core import rules as schema
from sim_service.engine import pools


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
