"""Schedules and the optimiser chain (train_service.optimiser): learning-rate decay, plateau
decay, clipping and a per-set reset."""

import jax
import numpy as np
import pytest

from quantamm_api.v1 import training_pb2
from train_service.optimiser import Optimiser, schedule
from train_service.settings import GradientSettings, resolve


def _gradient_settings(**changes) -> GradientSettings:
    message = training_pb2.TrainingSettings(
        gradient_descent=training_pb2.GradientDescentSettings(**changes), val_fraction=0.2)
    return resolve(message, 3).gradient


def test_schedules_decay_from_base_lr_to_base_over_ratio():
    constant = schedule(_gradient_settings(n_iterations=100))
    assert constant(0) == constant(100) == pytest.approx(0.1)
    cosine = schedule(_gradient_settings(n_iterations=100, lr_schedule_type="cosine"))
    assert (cosine(0), cosine(50), cosine(100)) == pytest.approx((0.1, 0.05005, 1e-4))
    exponential = schedule(_gradient_settings(n_iterations=100, lr_schedule_type="exponential"))
    assert (exponential(0), exponential(100)) == pytest.approx((0.1, 1e-4))
    warm = schedule(_gradient_settings(n_iterations=100, lr_schedule_type="warmup_cosine",
                                       warmup_steps=10))
    assert (warm(0), warm(10), warm(100)) == pytest.approx((1e-4, 0.1, 1e-4))


def test_plateau_decay_clipping_and_a_per_set_reset():
    settings = _gradient_settings(optimiser="adam", base_lr=0.1, use_plateau_decay=True,
                                  decay_lr_plateau=3, decay_lr_ratio=0.5, clip_norm=1.0)
    optimiser = Optimiser(settings)
    params = {"x": np.zeros((2, 3))}
    state = optimiser.init(params)
    for _ in range(4):  # the same objective: no improvement after the first step
        params, state = optimiser.step(params, {"x": np.full((2, 3), 1e6)}, np.ones(2), state)
    assert optimiser.learning_rate(state, 4) == pytest.approx(0.05)
    sgd = Optimiser(_gradient_settings(optimiser="sgd", base_lr=1.0, clip_norm=1.0))
    moved, _ = sgd.step({"x": np.zeros((1, 3))}, {"x": np.full((1, 3), 1e6)}, np.ones(1),
                        sgd.init({"x": np.zeros((1, 3))}))
    assert np.linalg.norm(moved["x"]) == pytest.approx(1.0)  # clipped, then ascended
    assert np.all(moved["x"] > 0)
    reset = optimiser.reset(state, params, np.array([False, True]))
    counts = [leaf for leaf in jax.tree_util.tree_leaves(reset) if leaf.dtype == np.int32]
    assert any(int(c[0]) > 0 and int(c[1]) == 0 for c in counts)
