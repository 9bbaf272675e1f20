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


def _walk(n_minutes: int, n_assets: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    return 100 * np.exp(np.cumsum(rng.normal(0, 1e-3, (n_minutes, n_assets)), axis=0))


def test_a_pool_object_computes_its_own_rule_whatever_the_fingerprint_names():
    """MomentumPool computes momentum weights with no ``rule`` in the fingerprint (whose default
    is the mean-reversion channel) and with another rule named; so does every pool class."""
    prices = _walk(40 * 1440, 3)
    fp = {"chunk_period": 1440, "bout_length": 10 * 1440, "max_memory_days": 5}
    for cls in (pools.MomentumPool, pools.PowerChannelPool, pools.MinVariancePool,
                pools.BalancerPool, pools.DifferenceMomentumPool):
        pool = cls()
        initial = pool.init_base_parameters({}, fp, 3)
        params = {key: value[0] for key, value in initial.items()}
        named = pool.calculate_weights(params, {**fp, "rule": cls.RULE}, prices, 20 * 1440)
        unnamed = pool.calculate_weights(params, fp, prices, 20 * 1440)
        other = pool.calculate_weights(params, {**fp, "rule": "hodl"}, prices, 20 * 1440)
        np.testing.assert_array_equal(unnamed, named, err_msg=cls.__name__)
        np.testing.assert_array_equal(other, named, err_msg=cls.__name__)
        if cls is not pools.BalancerPool:
            assert np.ptp(np.asarray(named)[:, 0]) > 0, cls.__name__  # a rule moved them
    outputs = pools.MomentumPool().calculate_rule_outputs(params_of("momentum"), {
        "chunk_period": 1440, "rule": "mean_reversion_channel"}, prices)
    np.testing.assert_array_equal(outputs, pools.MomentumPool().calculate_rule_outputs(
        params_of("momentum"), {"chunk_period": 1440}, prices))


def params_of(rule: str) -> dict:
    initial = pools.create_pool(rule).init_base_parameters({}, {"chunk_period": 1440}, 3)
    return {key: value[0] for key, value in initial.items()}


def test_a_registered_rule_without_a_named_class_gets_a_pool_of_its_kind():
    pool = pools.create_pool("triple_threat_mean_reversion_channel")
    assert isinstance(pool, pools.TFMMPool) and pool.RULE == "triple_threat_mean_reversion_channel"
    assert "logit_lamb_for_ewma" in pool.get_param_schema()


def test_init_parameters_carries_the_references_empty_subsidary_params():
    pool = pools.MomentumPool()
    params = pool.init_parameters({}, {"chunk_period": 1440}, 2, n_parameter_sets=2, noise="none")
    assert params["subsidary_params"] == []
    base = pool.init_base_parameters({}, {"chunk_period": 1440}, 2, n_parameter_sets=2, noise="none")
    assert list(params) == [*base, "subsidary_params"]
    np.testing.assert_array_equal(params["logit_lamb"][1], params["logit_lamb"][0])
    one_set = {k: (v[0] if k != "subsidary_params" else v) for k, v in params.items()}
    prices = np.exp(np.linspace(0.0, 0.1, 3 * 1440 + 1))[:, None] * np.ones((1, 2))
    weights = pool.calculate_weights(one_set, {"chunk_period": 1440, "bout_length": 1441},
                                     prices, start_index=1440)
    assert weights.shape == (1440, 2)
