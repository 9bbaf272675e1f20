"""Parameter sets -> stacked engine params: converting sets together gives what each set gives
alone, mixed name groups are merged in request order, stacked tensors give what repeated sets
give, and a bad value is refused naming the set it is in."""

import grpc
import numpy as np
import pytest

from quantamm.core import parameters
from quantamm.core.fingerprint import fill_defaults
from quantamm.core.runs import RunSpec
from quantamm.core.rules import human_to_params
from quantamm.wire.errors import RequestError
from quantamm.wire.tensors import to_tensor
from quantamm_api.v1 import types_pb2
from sim_service.engine import rules as engine_rules
from sim_service.translate import stack_parameter_sets, stacked_parameters
from tests.service.conftest import parameter_set

FP = fill_defaults({"rule": "mean_reversion_channel", "tokens": ["BTC", "ETH", "USDC"],
                    "chunk_period": 60, "initial_memory_length": 7.0})
RUN = RunSpec.from_settings(FP)


def one_by_one(sets: list[dict]) -> dict[str, np.ndarray]:
    """The expected stack: each set converted alone with parameters.human_to_params."""
    spec = engine_rules.get(FP["rule"])
    defaults = parameters.base_parameters(spec, FP, FP["chunk_period"], 3, 1)
    engine = [{**{k: v[0] for k, v in defaults.items()},
               **human_to_params(spec, s, 3, FP["chunk_period"])} for s in sets]
    return {key: np.stack([np.broadcast_to(e[key], (3,)) for e in engine]) for key in engine[0]}


def test_sets_converted_together_equal_sets_converted_alone():
    sets = [{"memory_days": [3.0, 4.0, 5.0], "k_per_day": [20.0], "amplitude": 2.0,
             "weights": [0.5, 0.3, 0.2]},
            {"memory_days": [30.0], "k_per_day": [1.0, 2.0, 3.0], "amplitude": [1.0, 2.0, 3.0],
             "weights": [1.0, 1.0, 2.0]},
            {"sp_k": [0.5, -0.5, 0.0]},                      # a second name group
            {"memory_days": [9.0], "k_per_day": [5.0], "amplitude": 1.0, "weights": [1, 2, 3]}]
    stacked = stack_parameter_sets([parameter_set(s) for s in sets], RUN, 3, "parameter_sets")
    expected = one_by_one(sets)
    assert sorted(stacked) == sorted(expected)
    for key, value in expected.items():
        assert stacked[key].shape == (4, 3)
        np.testing.assert_allclose(stacked[key], value, rtol=1e-15, atol=0, err_msg=key)
    # set 2 gave only sp_k: everything else is the fingerprint's initial values
    np.testing.assert_allclose(stacked["logit_lamb"][2], stacked["logit_lamb"][2, 0])
    assert not np.allclose(stacked["logit_lamb"][2], stacked["logit_lamb"][0])


@pytest.mark.parametrize("bad_set, field, problem", [
    ({"memory_days": [10.0, -1.0, 10.0]}, "parameter_sets[2].values['memory_days']", "(0, 3650]"),
    ({"memory_days": [np.nan]}, "parameter_sets[2].values['memory_days']", "finite"),
    ({"weights": [1.0, 0.0, 1.0]}, "parameter_sets[2].values['weights']", "positive"),
    ({"sp_k": [2000.0]}, "parameter_sets[2].values['sp_k']", "[-1000, 1000]"),
    ({"memory_days": [1.0, 2.0]}, "parameter_sets[2].values['memory_days']", "shape [3] or [1]"),
])
def test_a_bad_value_is_refused_naming_its_set(bad_set, field, problem):
    good = {"memory_days": [10.0], "k_per_day": [20.0]}
    if "memory_days" not in bad_set:
        bad_set = {**good, **bad_set}
    sets = [parameter_set(good), parameter_set(good), parameter_set(bad_set)]
    with pytest.raises(RequestError) as raised:
        stack_parameter_sets(sets, RUN, 3, "parameter_sets")
    assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.field == field and problem in str(raised.value)


def stacked(values: dict) -> types_pb2.StackedParameters:
    return types_pb2.StackedParameters(values={k: to_tensor(np.asarray(v, dtype=np.float64))
                                               for k, v in values.items()})


def test_stacked_tensors_equal_the_same_sets_given_one_by_one():
    sets = [{"memory_days": [3.0, 4.0, 5.0], "k_per_day": [20.0, 20.0, 20.0], "sp_width": [0.1]},
            {"memory_days": [30.0, 30.0, 30.0], "k_per_day": [1.0, 2.0, 3.0], "sp_width": [0.2]}]
    one_each = stack_parameter_sets([parameter_set(s) for s in sets], RUN, 3, "parameter_sets")
    together = stacked_parameters(stacked({
        "memory_days": [[3.0, 4.0, 5.0], [30.0, 30.0, 30.0]],
        "k_per_day": [[20.0, 20.0, 20.0], [1.0, 2.0, 3.0]],
        "sp_width": [[0.1], [0.2]],  # [S, 1]: one value for every asset
    }), RUN, 3, "stacked_parameters")
    assert sorted(together) == sorted(one_each)
    for key in one_each:
        np.testing.assert_array_equal(together[key], one_each[key], err_msg=key)


@pytest.mark.parametrize("values, field, problem", [
    ({"memory_days": [[10.0, 10.0, 10.0], [10.0, -1.0, 10.0]]},
     "stacked_parameters.values['memory_days'][1]", "(0, 3650]"),
    ({"memory_days": [[10.0] * 3] * 2, "k_per_day": [[20.0] * 3] * 3},
     "stacked_parameters.values['memory_days']", "has 2 sets, the others 3"),
    ({"memory_days": [[[10.0]]]}, "stacked_parameters.values['memory_days']", "[S, 3]"),
    ({"memory_days": [[10.0, 10.0]]}, "stacked_parameters.values['memory_days']", "[S, 3]"),
    ({"no_such": [[1.0]]}, "stacked_parameters.values['no_such']", "not a parameter"),
])
def test_a_bad_stacked_tensor_is_refused_naming_it(values, field, problem):
    with pytest.raises(RequestError) as raised:
        stacked_parameters(stacked(values), RUN, 3, "stacked_parameters")
    assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.field == field and problem in str(raised.value)
