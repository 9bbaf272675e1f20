"""The simulation service over real gRPC on loopback: rules, datasets, simulate, readouts,
evaluate (numbers against the engine called directly), compile caching."""

import grpc
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc

from sim_service.engine import rules as engine_rules
from quantamm_api.v1 import simulation_pb2 as sim_pb2
from quantamm.wire.tensors import from_tensor, to_tensor
from quantamm.core import parameters
from sim_service.device import bundled_dataset
from sim_service.engine import simulation
from sim_service.engine.windows import plan_window
from tests.service.conftest import S1_START, parameter_set, s1_fingerprint


@pytest.fixture(scope="module")
def s1(vectors_dir):
    vector = np.load(vectors_dir / "S1.npz")
    params = {k[len("param_"):]: vector[k] for k in vector.files if k.startswith("param_")}
    return vector, params


def test_health_reports_serving(sim_server):
    channel = grpc.insecure_channel(f"127.0.0.1:{sim_server['port']}")
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "quantamm.v1.SimulationService"):
        status = health.Check(health_pb2.HealthCheckRequest(service=service)).status
        assert status == health_pb2.HealthCheckResponse.SERVING


def test_list_rules_with_schemas(stub):
    rules = {r.name: r for r in stub.ListRules(sim_pb2.ListRulesRequest()).rules}
    assert set(rules) >= {"momentum", "anti_momentum", "power_channel", "mean_reversion_channel",
                          "difference_momentum", "min_variance", "balancer", "hodl"}
    momentum = {p.name: p for p in rules["momentum"].params}
    assert momentum["log_k"].optuna.low == -6.6 and momentum["log_k"].optuna.high == 12.0
    assert momentum["log_k"].trainable and not momentum["initial_weights_logits"].trainable
    assert rules["min_variance"].outputs_weights and not rules["hodl"].dynamic_weights


def test_default_dataset_is_described(stub):
    info = stub.GetDataset(sim_pb2.GetDatasetRequest(name="default")).dataset
    assert info.n_minutes == 1_882_081 and info.first_minute.seconds == 1622505600
    assert list(info.tokens)[:4] == ["BTC", "ETH", "SOL", "USDC"]


def test_upload_then_simulate_on_the_uploaded_prices(stub):
    series = bundled_dataset(("BTC", "ETH", "USDC")).series
    first = 833_760 - 30 * 1440  # 30 days of history before 2023-01-01
    prices = series.prices[first : 833_760 + 11 * 1440 + 1]
    header = sim_pb2.UploadHeader(name="uploaded-s1", tokens=["BTC", "ETH", "USDC"],
                                  first_minute=Timestamp(seconds=series.unix_ms_at(first) // 1000))
    requests = [sim_pb2.UploadDatasetRequest(header=header)] + [
        sim_pb2.UploadDatasetRequest(prices=to_tensor(block))
        for block in np.array_split(prices, 4)
    ]
    info = stub.UploadDataset(iter(requests)).dataset
    assert info.n_minutes == prices.shape[0] and info.source == "upload"
    fp = s1_fingerprint(max_memory_days=20.0)
    fp.end_time.seconds = S1_START + 10 * 86400
    params = parameter_set({"memory_days": [10.0], "k_per_day": [20.0]})
    uploaded = list(stub.Simulate(sim_pb2.SimulateRequest(dataset="uploaded-s1", fingerprint=fp,
                                                          parameters=params)))
    bundled = list(stub.Simulate(sim_pb2.SimulateRequest(dataset="default", fingerprint=fp,
                                                         parameters=params)))
    assert uploaded[0].summary.final_value_usd == pytest.approx(
        bundled[0].summary.final_value_usd, rel=1e-12)
    with pytest.raises(grpc.RpcError) as info:
        stub.UploadDataset(iter(requests))
    assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS


def test_register_a_folder_of_token_files(stub, sim_server):
    folder = sim_server["data_dir"] / "weekly"
    folder.mkdir()
    minutes = pd.date_range("2024-01-01", periods=6 * 1440, freq="min", tz="UTC")
    for token, base in (("AAA", 10.0), ("BBB", 2.0)):
        close = base * np.exp(np.cumsum(np.full(len(minutes), 1e-5)))
        pd.DataFrame({"timestamp": minutes, "close": close}).to_csv(folder / f"{token}.csv", index=False)
    info = stub.RegisterDataset(sim_pb2.RegisterDatasetRequest(
        name="weekly", directory="weekly", tokens=["AAA", "BBB"])).dataset
    assert list(info.tokens) == ["AAA", "BBB"] and info.n_minutes == 6 * 1440
    names = [d.name for d in stub.ListDatasets(sim_pb2.ListDatasetsRequest()).datasets]
    assert "weekly" in names and "default" in names


def test_simulate_s1_matches_the_reference_vector(stub, s1):
    vector, params = s1
    responses = list(stub.Simulate(sim_pb2.SimulateRequest(
        dataset="default", fingerprint=s1_fingerprint(), parameters=parameter_set(params),
        max_rows_per_message=40_000)))
    summary = responses[0].summary
    assert summary.final_value_usd == pytest.approx(float(vector["final_value"]), rel=1e-6)
    assert summary.n_rows == int(vector["n_minutes"]) and len(responses) == 1 + 7
    chunks = [r.chunk for r in responses[1:]]
    assert [c.first_row for c in chunks] == list(range(0, 260_640, 40_000))
    weights = np.concatenate([from_tensor(c.weights) for c in chunks])
    values = np.concatenate([from_tensor(c.values) for c in chunks])
    minutes = vector["sample_minute_idx"]
    np.testing.assert_allclose(weights[minutes], vector["weights_sampled_f64"], atol=1e-8, rtol=0)
    np.testing.assert_allclose(values[minutes], vector["values_sampled"], rtol=1e-6)
    np.testing.assert_allclose(from_tensor(summary.rule_outputs), vector["rule_outputs"], rtol=1e-9)
    assert summary.metrics["objective"] == pytest.approx(1.4074774011873075, rel=1e-6)


def test_simulate_downsamples_on_request(stub, s1):
    _, params = s1
    responses = list(stub.Simulate(sim_pb2.SimulateRequest(
        fingerprint=s1_fingerprint(), parameters=parameter_set(params), stride_minutes=1440)))
    assert responses[0].summary.n_rows == 181
    assert from_tensor(responses[1].chunk.values).shape == (181,)


def test_readouts_are_the_estimator_internals(stub, s1):
    _, params = s1
    response = stub.GetReadouts(sim_pb2.GetReadoutsRequest(
        fingerprint=s1_fingerprint(), parameters=parameter_set(params)))
    assert set(response.readouts) == {"gradients", "ewma", "running_a"}
    ewma = from_tensor(response.readouts["ewma"])
    assert ewma.shape == (182, 3) and response.chunk_period_minutes == 1440
    assert response.first_chunk_time.seconds == S1_START + 86400


def evaluate_request(param_sets, offsets, length, with_gradient=True):
    fp = s1_fingerprint()
    return sim_pb2.EvaluateRequest(
        dataset="default", fingerprint=fp, parameter_sets=[parameter_set(p) for p in param_sets],
        window_start_offsets_minutes=offsets, window_length_minutes=length,
        with_gradient=with_gradient)


def engine_sets(n_sets):
    sets = parameters.init_base_parameters(engine_rules.get("momentum"), {}, {"chunk_period": 1440}, 3, n_sets)
    return [{k: v[i] for k, v in sets.items()} for i in range(n_sets)]


def test_evaluate_matches_the_engine_directly(stub):
    sets = engine_sets(4)
    offsets = [0, 517, 1440 * 3 + 11, 5000, 7777, 8000, 9000, 10079]
    length = 60 * 1440
    response = stub.Evaluate(evaluate_request(sets, offsets, length))
    objectives = from_tensor(response.objectives)
    assert objectives.shape == (4, 8) and response.fused
    data = bundled_dataset(("BTC", "ETH", "USDC"))
    plan = plan_window(833_760, 1_094_400, data.series.n_minutes, 365)
    rows = slice(plan.first_row, plan.last_row)
    stacked = {k: jnp.asarray(np.stack([s[k] for s in sets])) for k in sets[0]}
    mean, per_window, grads = simulation.value_and_grad_sets(
        stacked, data.prices[rows], jnp.asarray(plan.start_index + np.array(offsets)),
        simulation.SimConfig("momentum", 3, length + 1), data.log_prices[rows])
    np.testing.assert_allclose(objectives, np.asarray(per_window), rtol=1e-12, atol=0)
    np.testing.assert_allclose(from_tensor(response.mean_objectives), np.asarray(mean), rtol=1e-12)
    for key in ("logit_lamb", "log_k"):
        np.testing.assert_allclose(from_tensor(response.gradients[key]), np.asarray(grads[key]),
                                   rtol=1e-12, atol=1e-15)


def test_second_evaluate_with_the_same_configuration_does_not_recompile(stub):
    sets = engine_sets(2)
    stub.Evaluate(evaluate_request(sets, [0, 100], 20 * 1440))
    before = simulation.value_and_grad_sets._cache_size()
    other = [{k: v + 0.05 for k, v in s.items()} for s in sets]
    response = stub.Evaluate(evaluate_request(other, [300, 4000], 20 * 1440))
    assert simulation.value_and_grad_sets._cache_size() == before
    assert np.all(np.isfinite(from_tensor(response.objectives)))


def test_evaluate_without_gradient_returns_objectives_only(stub):
    response = stub.Evaluate(evaluate_request(engine_sets(3), [0, 60, 120], 10 * 1440, False))
    assert from_tensor(response.objectives).shape == (3, 3) and not response.gradients


def test_evaluate_periods_reports_metrics_and_states(stub, s1):
    _, params = s1
    fp = s1_fingerprint()
    request = sim_pb2.EvaluatePeriodsRequest(
        fingerprint=fp, parameter_sets=[parameter_set(params)],
        periods=[sim_pb2.Period(name="train", start_offset_minutes=0, end_offset_minutes=200_000),
                 sim_pb2.Period(name="test", start_offset_minutes=200_000,
                                end_offset_minutes=260_640)],
        state_offsets_minutes=[0, 199_999])
    response = stub.EvaluatePeriods(request)
    train, test = response.sets[0].periods
    assert train.name == "train" and set(train.metrics) >= {"sharpe", "daily_log_sharpe",
                                                            "return", "returns_over_hodl"}
    assert from_tensor(train.daily_returns).shape == (138,)
    assert from_tensor(response.sets[0].weights).shape == (2, 3)
    np.testing.assert_allclose(from_tensor(response.sets[0].weights)[0], [1 / 3] * 3)

