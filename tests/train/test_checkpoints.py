"""Checkpoints (train_service.checkpoints, and the gradient loop's use of them): a round trip
restores the optimiser state and the tracker."""

import math

import jax
import numpy as np

from tests.train.conftest import gradient_request
from train_service import checkpoints, gradient, tracker
from train_service.optimiser import Optimiser
from train_service.problem import prepare
from train_service.simclient import SimClient


def test_checkpoint_round_trip_restores_optimiser_state_and_tracker(sim_address):
    sim = SimClient([sim_address])
    problem = prepare(gradient_request(), sim)
    optimiser = Optimiser(problem.settings.gradient)
    loop = gradient._fresh(problem, optimiser)
    loop.tracker = tracker.observe(loop.tracker, 0, np.array([1.0, 2.0]), loop.params)
    loop.iteration, loop.nan_events = 7, 2
    restored = gradient.from_checkpoint(gradient.to_checkpoint(loop), optimiser, problem)
    assert (restored.iteration, restored.nan_events, restored.tracker.value) == (7, 2, 1.5)
    for a, b in zip(jax.tree_util.tree_leaves(loop.opt_state),
                    jax.tree_util.tree_leaves(restored.opt_state), strict=True):
        np.testing.assert_array_equal(a, b)
    arrays, meta = checkpoints.unpack(checkpoints.pack({"a": np.arange(3)}, {"b": math.inf}))
    assert meta == {"b": math.inf} and arrays["a"].tolist() == [0, 1, 2]
