"""The vocabulary is declared once and the engine implements exactly it."""

from __future__ import annotations

import jax.numpy as jnp

from quantamm.core import vocabulary
from sim_service.engine import metrics, weights


def test_the_engine_implements_every_return_val_and_no_other():
    assert metrics.RETURN_VALS == vocabulary.RETURN_VALS
    assert metrics.FUSED_RETURN_VALS <= set(vocabulary.RETURN_VALS)


def test_period_metrics_are_what_a_slice_reports():
    n = 3 * 1440
    values = jnp.linspace(1.0, 1.1, n)
    reserves = jnp.ones((n, 2))
    prices = jnp.stack([values, values], axis=1) / 2
    reported = set(metrics.slice_metrics(values, reserves, prices)) - {"daily_returns"}
    assert reported == vocabulary.PERIOD_METRICS
    assert set(vocabulary.SELECTION_METRICS) <= vocabulary.PERIOD_METRICS
    assert {vocabulary.period_metric_of(name) for name in ("sharpe", "daily_sharpe", "returns",
                                                           "daily_log_sharpe")} <= reported


def test_interpolation_methods_are_the_engines():
    assert weights.INTERPOLATION_METHODS is vocabulary.INTERPOLATION_METHODS


def test_an_unknown_choice_names_the_closest_and_the_valid_ones():
    problem = vocabulary.choice_problem("daily_log_sharp", vocabulary.RETURN_VALS, "return_val")
    assert "did you mean 'daily_log_sharpe'?" in problem and "valid: sharpe, " in problem
    assert "did you mean 'calmar'" in vocabulary.choice_problem("CALMAR", vocabulary.RETURN_VALS,
                                                                 "return_val")
    assert vocabulary.choice_problem("calmar", vocabulary.RETURN_VALS, "return_val") is None
