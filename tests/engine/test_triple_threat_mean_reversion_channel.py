"""The triple-threat mean-reversion channel (docs/pools.md §3.1): the definition's vectors, its
reduction to the mean-reversion channel, its step form, and runs through the simulator."""

from __future__ import annotations

import grpc
import jax.numpy as jnp
import numpy as np
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from quantamm.core.units import inverse_squareplus
from quantamm.wire.tensors import from_tensor, to_tensor
from quantamm_api.v1 import simulation_pb2, simulation_pb2_grpc, types_pb2
from sim_service.compat import do_run_on_historic_data
from sim_service.engine import pools, rules
from sim_service.engine.rules import triple_threat_mean_reversion_channel as triple
from sim_service.server import create_server

RULE = "triple_threat_mean_reversion_channel"
FP = {"rule": RULE, "tokens": ["A", "B"], "chunk_period": 1440, "max_memory_days": 365,
      "use_pre_exp_scaling": True}
DAILY = np.array([(100, 10), (102, 10.1), (101, 10.3), (105, 10.2), (107, 9.9), (104, 10.0),
                  (108, 10.4), (110, 10.1)], dtype=np.float64)
T2_FIRST_ASSET = [-4.788171143763679, 9.53553324178895, -12.960672702974936,
                  -38.742976350653656, -16.818277577588972, -6.407052779579584,
                  -25.314645526235484]


def test_t1_one_update_from_three_gradients():
    gradients = jnp.array([[0.01, -0.02], [0.03, -0.01], [0.5, -0.2]])
    params = {"absolute_k": jnp.array([10.0, 10.0]), "raw_width": jnp.zeros(2),
              "log_amplitude": jnp.ones(2), "raw_exponents": jnp.full(2, inverse_squareplus(1.5))}
    out = triple.output(gradients, params, rules.RuleSettings(use_pre_exp_scaling=False), 1.0)
    np.testing.assert_allclose(out, [-0.546599774430443, 0.546599774430443], rtol=1e-13)


def t2_params() -> dict:
    pool = pools.create_pool(RULE)
    initial = pool.init_base_parameters({}, FP, 2)
    params = {key: value[0] for key, value in initial.items()}
    params["logit_lamb"] = jnp.array([[0.0, 0.0], [1.0, 1.0], [-1.0, -1.0]])
    return params


def test_t2_initial_values_and_full_rule():
    params = t2_params()
    np.testing.assert_allclose(params["logit_lamb_for_ewma"], 0.7554299808242099, rtol=1e-15)
    np.testing.assert_allclose(params["log_k"], 4.321928094887363, rtol=1e-15)
    np.testing.assert_array_equal(params["raw_pre_exp_scaling"], [-1.0, -1.0])
    assert params["logit_lamb"].shape == (3, 2)
    prices = np.repeat(DAILY, 1440, axis=0)
    outputs = pools.create_pool(RULE).calculate_rule_outputs(params, FP, prices)
    np.testing.assert_allclose(outputs[:, 0], T2_FIRST_ASSET, rtol=1e-14)
    np.testing.assert_allclose(outputs[:, 1], -np.asarray(T2_FIRST_ASSET), rtol=1e-14)


def test_initial_sets_give_one_memory_to_all_three_rows():
    initial = pools.create_pool(RULE).init_base_parameters(
        {"initial_memory_length": 20.0}, FP, 2, n_parameter_sets=3)
    assert initial["logit_lamb"].shape == (3, 3, 2)
    np.testing.assert_array_equal(initial["logit_lamb"][0], np.broadcast_to(
        initial["logit_lamb_for_ewma"][0], (3, 2)))


def test_equal_memories_reduce_to_the_mean_reversion_channel():
    rng = np.random.default_rng(4)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (60 * 1440, 3)), axis=0))
    logit = jnp.array([1.2, 0.4, -0.3])
    shared = {"log_k": jnp.array([3.0, 4.0, 5.0]), "log_amplitude": jnp.array([0.5, -0.5, 1.0]),
              "raw_width": jnp.array([-1.0, 0.0, 0.5]), "raw_exponents": jnp.array([0.5, 1.0, 2.0]),
              "raw_pre_exp_scaling": jnp.array([-1.0, 0.0, 1.0])}
    ours = {**shared, "logit_lamb": jnp.broadcast_to(logit, (3, 3)), "logit_lamb_for_ewma": logit}
    channel = {**shared, "logit_lamb": logit, "logit_delta_lamb": jnp.zeros(3)}
    fp = {**FP, "tokens": ["A", "B", "C"]}
    a = pools.create_pool(RULE).calculate_rule_outputs(ours, fp, prices)
    b = pools.create_pool("mean_reversion_channel").calculate_rule_outputs(channel, fp, prices)
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_step_form_equals_the_vectorised_form():
    pool = pools.create_pool(RULE)
    params = t2_params()
    prices = np.repeat(DAILY, 1440, axis=0)
    carry = pool.get_initial_rule_state(DAILY[0], params, FP)
    steps = []
    for price in DAILY[1:]:
        carry, output = pool.calculate_rule_output_step(carry, price, params, FP)
        steps.append(output)
    # Eager steps against one compiled scan: the same arithmetic, fused differently.
    np.testing.assert_allclose(np.stack(steps), pool.calculate_rule_outputs(params, FP, prices),
                               rtol=1e-14, atol=1e-14)


RUN = {"rule": RULE, "tokens": ["BTC", "ETH", "USDC"], "startDateString": "2023-01-01 00:00:00",
       "endDateString": "2023-03-01 00:00:00"}


def test_a_run_keeps_value_and_weights_on_the_simplex():
    result = do_run_on_historic_data(RUN, {})
    weights = result["weights"]
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(weights > 0) and np.isfinite(result["final_value"])
    assert np.ptp(weights[:, 0]) > 1e-3  # the rule moves the weights


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    server, _, port, _ = create_server(host="127.0.0.1", port=0,
                                       data_dir=str(tmp_path_factory.mktemp("data")))
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield simulation_pb2_grpc.SimulationServiceStub(channel)
    channel.close()
    server.stop(0)


def test_listed_with_its_three_row_memory(stub):
    info = {r.name: r for r in stub.ListRules(simulation_pb2.ListRulesRequest()).rules}[RULE]
    rows = {p.name: p.rows for p in info.params}
    assert rows["logit_lamb"] == 3 and rows["log_k"] == 1 and info.dynamic_weights


def test_evaluate_stacked_sets_with_gradients_through_the_service(stub):
    fp = types_pb2.RunFingerprint(tokens=RUN["tokens"], rule=RULE,
                                  start_time=Timestamp(seconds=1672531200),
                                  end_time=Timestamp(seconds=1677628800))
    logit = np.array([[[1.0, 0.5, 0.0], [0.5, 0.5, 0.5], [-1.0, 0.0, 1.0]],
                      [[0.2, 0.2, 0.2], [1.5, 1.0, 0.5], [0.0, 0.0, 0.0]]])
    request = simulation_pb2.EvaluateRequest(
        dataset="default", fingerprint=fp, window_start_offsets_minutes=[0, 1440],
        window_length_minutes=20 * 1440, with_gradient=True,
        stacked_parameters=types_pb2.StackedParameters(values={"logit_lamb": to_tensor(logit)}))
    response = stub.Evaluate(request)
    objectives = from_tensor(response.objectives, "objectives")
    gradient = from_tensor(response.gradients["logit_lamb"], "logit_lamb")
    assert objectives.shape == (2, 2) and np.all(np.isfinite(objectives))
    assert gradient.shape == (2, 3, 3) and np.all(np.isfinite(gradient))
    assert not np.allclose(objectives[0], objectives[1])
    # One set given row by row equals the same set in the stack.
    single = simulation_pb2.EvaluateRequest(
        dataset="default", fingerprint=fp, window_start_offsets_minutes=[0, 1440],
        window_length_minutes=20 * 1440,
        parameter_sets=[types_pb2.ParameterSet(values={"logit_lamb": to_tensor(logit[1])})])
    np.testing.assert_allclose(from_tensor(stub.Evaluate(single).objectives, "o")[0],
                               objectives[1], rtol=1e-12)
    bad = simulation_pb2.EvaluateRequest(
        dataset="default", fingerprint=fp, window_start_offsets_minutes=[0],
        window_length_minutes=20 * 1440,
        parameter_sets=[types_pb2.ParameterSet(values={"logit_lamb": to_tensor(logit[1, :2])})])
    with pytest.raises(grpc.RpcError) as refused:
        stub.Evaluate(bad)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "parameter_sets[0].values['logit_lamb']: must have shape [3, 3]" in \
        refused.value.details()
