"""The search space (train_service.search_space): the default parameter_config in natural
units, a given parameter_config as written, expand_around offsets and hard bounds."""

import math

import pytest

from quantamm_api.v1 import training_pb2
from tests.train.conftest import optuna_request
from train_service import search_space
from train_service.errors import RequestError
from train_service.problem import prepare
from train_service.simclient import SimClient


def _search_dims(sim_address, make_scalar: bool = False, **config):
    sim = SimClient([sim_address])
    request = optuna_request(make_scalar=make_scalar)
    for key, entry in config.items():
        request.settings.optuna.parameter_config[key].CopyFrom(training_pb2.ParameterRange(**entry))
    problem = prepare(request, sim)
    context = search_space.Context(problem.rule, problem.base, {}, 1440, 365.0)
    return search_space.dimensions(context, problem.settings.search, False)


def test_default_search_space_is_the_default_parameter_config_in_natural_units(sim_address):
    """No parameter_config: memory and k are searched over the default parameter_config's
    memory_length (1..200 days, log) and k_per_day (0.1..1000, log) entries, per asset."""
    dims = {d.name: d for d in _search_dims(sim_address)}
    assert set(dims) == {f"{k}_{i}" for k in ("k_per_day", "memory_length") for i in range(3)}
    memory, k = dims["memory_length_0"], dims["k_per_day_2"]
    assert (memory.key, memory.low, memory.high, memory.log_scale) == ("logit_lamb", 1, 200, True)
    assert (k.key, k.low, k.high, k.log_scale) == ("log_k", 0.1, 1000, True)
    assert memory.to_internal(10.0) == pytest.approx(0.755429980824)
    assert k.to_internal(8.0) == 3.0


def test_the_guides_parameter_config_is_applied_as_written(sim_address):
    """The training guide's example (memory_length 1..200, log scale, per asset), although it
    equals the default entry, is the range searched: absolute days, not expand_around offsets."""
    dims = [d for d in _search_dims(sim_address, memory_length={
        "low": 1, "high": 200, "log_scale": True, "scalar": False}) if d.key == "logit_lamb"]
    assert [(d.name, d.low, d.high, d.log_scale, d.asset) for d in dims] == [
        (f"memory_length_{i}", 1.0, 200.0, True, i) for i in range(3)]


def test_natural_units_and_expand_around_offsets_are_intersected_with_hard_bounds(sim_address):
    dims = {d.name: d for d in _search_dims(
        sim_address, memory_length={"low": 5.0, "high": 400.0, "scalar": True},
        log_k={"low": 1.0, "high": 2.0})}
    memory = dims["memory_length"]
    assert (memory.key, memory.low, memory.high) == ("logit_lamb", 5.0, 365.0)
    assert memory.log_scale
    assert memory.to_internal(10.0) == pytest.approx(0.755429980824)
    centre = math.log2(20)
    assert (dims["log_k_0"].low, dims["log_k_0"].high) == pytest.approx((centre - 1, centre + 2))
    scalar = _search_dims(sim_address, make_scalar=True, log_k={"low": 1.0, "high": 2.0})
    assert [d.name for d in scalar if d.key == "log_k"] == ["log_k"]
    assert [d.name for d in scalar if d.key == "logit_lamb"] == [
        f"memory_length_{i}" for i in range(3)]  # make_scalar: listed entries only
    with pytest.raises(RequestError, match=r"parameter_config\['logit_lamb'\]: empty"):
        _search_dims(sim_address, logit_lamb={"low": -20.0, "high": -19.0})
    with pytest.raises(RequestError, match="not a parameter of momentum"):
        _search_dims(sim_address, sp_k={"low": 0.0, "high": 1.0})
