"""SimClient against the real server: numpy results, typed errors with the field."""

import datetime as dt

import numpy as np
import pytest

from client.errors import InvalidArgumentError, NotFoundError
from client.sim import SimClient

S1 = {
    "tokens": ["ETH", "BTC", "USDC"],  # any order: the service sorts
    "rule": "momentum",
    "startDateString": "2023-01-01 00:00:00",
    "endDateString": "2023-07-01 00:00:00",
}


@pytest.fixture(scope="module")
def client(sim_server):
    with SimClient(f"127.0.0.1:{sim_server['port']}", timeout_seconds=120) as sim:
        yield sim


def test_simulate_returns_numpy_arrays_matching_the_reference(client, vectors_dir):
    vector = np.load(vectors_dir / "S1.npz")
    result = client.simulate(S1, {"memory_days": 10.0, "k_per_day": 20.0}, stride_minutes=60)
    assert result.tokens == ["BTC", "ETH", "USDC"]
    assert result.first_minute == dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc)
    assert result.values.shape == (4344,) and result.weights.shape == (4344, 3)
    np.testing.assert_allclose(result.values, vector["values_sampled"][:-1], rtol=1e-6)
    assert result.final_value == pytest.approx(float(vector["final_value"]), rel=1e-6)


def test_evaluate_returns_objectives_and_gradients(client):
    sets = [{"memory_days": 10.0, "k_per_day": 20.0}, {"memory_days": 20.0, "k_per_day": 5.0}]
    result = client.evaluate(S1, sets, [0, 1440], 30 * 1440, with_gradient=True)
    assert result.objectives.shape == (2, 2) and result.mean.shape == (2,)
    assert set(result.gradients) >= {"logit_lamb", "log_k"}
    assert result.gradients["log_k"].shape == (2, 3)


def test_errors_are_typed_and_name_the_field(client):
    with pytest.raises(InvalidArgumentError) as info:
        client.simulate({**S1, "maximum_change": -1.0})
    assert info.value.field == "fingerprint.maximum_change_per_minute"
    with pytest.raises(NotFoundError) as info:
        client.simulate(S1, dataset="missing")
    assert info.value.field == "dataset"


def test_datasets_are_listed(client):
    names = [d.name for d in client.list_datasets()]
    assert "default" in names
