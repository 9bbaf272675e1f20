"""Warm-up (sim_service.warmup): the shapes it compiles are those a later evaluate uses."""

import pytest

from sim_service import warmup
from sim_service.datasets import DatasetRegistry
from sim_service.engine import simulation
from sim_service.servicer import SimulationServicer


def test_warmup_compiles_the_shapes_a_later_evaluate_uses():
    with pytest.raises(ValueError, match="momentum"):
        warmup.parse("momentum")
    assert warmup.parse("momentum:7, power_channel:30") == [("momentum", 7),
                                                             ("power_channel", 30)]
    servicer = SimulationServicer(DatasetRegistry())
    before = simulation.value_and_grad_sets._cache_size()
    assert warmup.warm_up(servicer, "momentum:9") > 0
    after = simulation.value_and_grad_sets._cache_size()
    assert after == before + 1
    warmup.warm_up(servicer, "momentum:9")  # same shapes, other parameters: no new program
    assert simulation.value_and_grad_sets._cache_size() == after
