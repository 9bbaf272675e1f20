"""The names users choose among, declared once (the engine implements each; tests check that
its registries hold exactly these names)."""

from __future__ import annotations

import difflib
from typing import Sequence

# Objectives (the fingerprint's return_val), in the reference's order.
RETURN_VALS: tuple[str, ...] = (
    "sharpe", "daily_sharpe", "daily_log_sharpe", "returns", "annualised_returns",
    "returns_over_hodl", "annualised_returns_over_hodl", "returns_over_uniform_hodl",
    "annualised_returns_over_uniform_hodl", "greatest_draw_down", "weekly_max_drawdown",
    "daily_var_95%", "daily_var_95%_trad", "daily_var_99%", "daily_var_99%_trad",
    "weekly_var_95%", "weekly_var_95%_trad", "weekly_var_99%", "weekly_var_99%_trad",
    "daily_raroc", "weekly_raroc", "daily_rovar", "weekly_rovar", "monthly_rovar",
    "daily_rovar_trad", "weekly_rovar_trad", "monthly_rovar_trad", "ulcer", "sterling",
    "calmar", "fee_revenue_over_value",
)
# Minute-weight interpolation ("optimal" is the seeds' name of "approx_optimal").
INTERPOLATION_METHODS: tuple[str, ...] = ("linear", "approx_optimal", "optimal")
# Scalar metrics reported for every train / validation / test period (EvaluatePeriods).
PERIOD_METRICS: frozenset[str] = frozenset({
    "sharpe", "jax_sharpe", "daily_log_sharpe", "return", "annualised_returns",
    "returns_over_hodl", "annualised_returns_over_hodl", "returns_over_uniform_hodl",
    "annualised_returns_over_uniform_hodl", "ulcer", "calmar", "sterling",
})
# Period metrics that select parameter sets and stop training early.
SELECTION_METRICS: tuple[str, ...] = ("sharpe", "daily_log_sharpe", "return", "returns_over_hodl",
                                      "returns_over_uniform_hodl", "calmar", "sterling", "ulcer")
# Objective names whose per-period metric has another name.
_PERIOD_NAME = {"sharpe": "jax_sharpe", "daily_sharpe": "sharpe", "returns": "return"}
# Gradient-descent choices.
OPTIMISERS: tuple[str, ...] = ("adam", "adamw", "sgd")
SAMPLE_METHODS: tuple[str, ...] = ("uniform", "exponential", "stratified")
SCHEDULES: tuple[str, ...] = ("constant", "cosine", "warmup_cosine", "exponential")


def period_metric_of(return_val: str) -> str:
    """The per-period metric that equals the objective ``return_val`` on a slice."""
    return _PERIOD_NAME.get(return_val, return_val)


def choice_problem(value: str, valid: Sequence[str], what: str) -> str | None:
    """None when ``value`` is one of ``valid``; else a sentence naming the valid values and the
    closest one (case-insensitive)."""
    if value in valid:
        return None
    lowered = {name.lower(): name for name in valid}
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1)
    hint = f" (did you mean {lowered[close[0]]!r}?)" if close else ""
    return f"unknown {what} {value!r}{hint}; valid: {', '.join(valid)}"
