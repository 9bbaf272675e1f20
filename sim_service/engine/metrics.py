"""Scalar performance metrics of a simulated window: training objectives and slice reports.

Inputs are pool values per minute ``values [L]`` (with ``reserves [L, n]`` and ``prices [L, n]``
for the HODL benchmarks) on the full path, or the daily boundary values ``b [D + 1]``
(``b_k = values[1440 k]``) on the fused daily path. Returns are simple (``v[t+1] / v[t] - 1``)
unless called log returns, standard deviations are population (ddof 0), percentiles interpolate
linearly, and every metric is "higher is better" (risk measures come out negative).

"Chunked" metrics cut the series into consecutive blocks of a fixed number of minutes from index
0, drop the incomplete tail and give NaN when too few blocks exist. Metric names are static: each
name compiles its own program. The public drawdown functions a user calls directly
(``greatest_draw_down``, ``max_drawdown``, ``weekly_max_drawdown``, ``calmar``) raise ValueError
naming the minimum length instead, as the reference does; the objectives keep NaN.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Mapping, NamedTuple, TypeVar

import jax
import jax.numpy as jnp
from jax import Array, lax

from sim_service.engine import prefix
from sim_service.engine.transforms import MINUTES_PER_DAY

DAYS_PER_YEAR = 365
DAYS_PER_WEEK = 7
DAYS_PER_MONTH = 30
MINUTES_PER_YEAR = DAYS_PER_YEAR * MINUTES_PER_DAY
MINUTES_PER_WEEK = DAYS_PER_WEEK * MINUTES_PER_DAY
MINUTES_PER_MONTH = DAYS_PER_MONTH * MINUTES_PER_DAY

VAR_95_PERCENTILE = 5.0
VAR_99_PERCENTILE = 1.0
LOG_OFFSET = 1e-12
LOG_SHARPE_STD_OFFSET = 1e-8
SLICE_SHARPE_MIN_STD = 1e-12


class MinutePath(NamedTuple):
    """One simulated window: values [L], reserves [L, n], prices [L, n], fee revenue [L] or None."""

    values: Array
    reserves: Array
    prices: Array
    fee_revenue: Array | None


PathMetric = Callable[[MinutePath], Array]
SeriesMetric = Callable[[Array], Array]
VarFn = Callable[[Array, int, float], Array]
Metric = TypeVar("Metric")


# --------------------------------------------------------------------------- series helpers


def daily_values(values: Array, minutes_per_day: int = MINUTES_PER_DAY) -> Array:
    """Values at minutes 0, m, 2m, ... of the window (m = minutes_per_day): [L] -> [ceil(L / m)]."""
    return values[::minutes_per_day]


def simple_returns(values: Array) -> Array:
    """Simple returns along the last axis: [..., T] -> [..., T - 1]."""
    return jnp.diff(values, axis=-1) / values[..., :-1]


def complete_blocks(values: Array, block: int) -> Array:
    """Consecutive blocks of ``block`` minutes from index 0, tail dropped.

    Shapes: [L] -> [L // block, block].
    """
    n_blocks = values.shape[0] // block
    return values[: n_blocks * block].reshape(n_blocks, block)


@jax.custom_jvp
def running_peak(values: Array) -> Array:
    """Running maximum along the last axis: [..., T] -> [..., T].

    Its derivative is taken from the position that set each peak (the latest one on exact
    ties), a gather, so no scan is differentiated.
    """
    return prefix.cummax(values)


@running_peak.defjvp
def _running_peak_jvp(primals, tangents):
    (values,), (tangent,) = primals, tangents
    peak = prefix.cummax(values)
    position = lax.broadcasted_iota(jnp.int32, values.shape, values.ndim - 1)
    peak_position = prefix.cummax(jnp.where(values == peak, position, 0))
    return peak, jnp.take_along_axis(tangent, peak_position, axis=-1)


def drawdowns(values: Array) -> Array:
    """Relative drawdown from the running peak along the last axis (<= 0): [..., T] -> [..., T]."""
    peak = running_peak(values)
    return (values - peak) / peak


def _nan_if_empty(x: Array, reduce: SeriesMetric) -> Array:
    """``reduce(x)``, or NaN when ``x`` has no elements (too few blocks or periods)."""
    return reduce(x) if x.size else jnp.array(jnp.nan, dtype=x.dtype)


def _mean(x: Array) -> Array:
    """Mean of [B], NaN when B = 0."""
    return _nan_if_empty(x, jnp.mean)


def _min(x: Array) -> Array:
    """Minimum of [B], NaN when B = 0."""
    return _nan_if_empty(x, jnp.min)


def _percentile(x: Array, q: float) -> Array:
    """Linearly interpolated q-th percentile (q in percent) of [B], NaN when B = 0."""
    return _nan_if_empty(x, partial(jnp.percentile, q=q, method="linear"))


# --------------------------------------------------------------------------- shared formulas


def _annualise(growth: Array, periods_per_year: float) -> Array:
    """Annualised return ``growth ** periods_per_year - 1`` of a per-period growth factor."""
    return growth**periods_per_year - 1.0


def _sharpe(returns: Array, periods_per_year: float, std_offset: float = 0.0) -> Array:
    """Annualised Sharpe ``sqrt(periods_per_year) * mean / (std + std_offset)`` of returns [T]."""
    return jnp.sqrt(periods_per_year) * (jnp.mean(returns) / (jnp.std(returns) + std_offset))


def _return_over_var(annual_return: Array, var: Array, var_periods: float) -> Array:
    """``-annual_return / (var * sqrt(var_periods))``; VaR is a (negative) return percentile."""
    return -annual_return / (var * jnp.sqrt(var_periods))


def _growth(values: Array) -> Array:
    """Last over first value of [T]."""
    return values[-1] / values[0]


def _window_periods_per_year(n_minutes: int) -> float:
    """Windows per year ``365 / (L / 1440)`` (RAROC, ROVAR, Sterling and Calmar convention)."""
    return DAYS_PER_YEAR / (n_minutes / MINUTES_PER_DAY)


def _window_annualised_return(values: Array) -> Array:
    """Whole-window return of [L] annualised with ``365 / (L / 1440)``."""
    return _annualise(_growth(values), _window_periods_per_year(values.shape[0]))


def _period_var(period_values: Array, q: float) -> Array:
    """q-th percentile of the returns between consecutive period values [P] (NaN if P < 2)."""
    return _percentile(simple_returns(period_values), q)


# --------------------------------------------------------------------------- daily-series metrics


def daily_sharpe(daily: Array) -> Array:
    """Arithmetic Sharpe of daily values [D + 1], annualised by sqrt(365)."""
    return _sharpe(simple_returns(daily), DAYS_PER_YEAR)


def daily_log_sharpe(daily: Array) -> Array:
    """Sharpe of daily log returns of [D + 1], with the reference's log and std offsets."""
    log_returns = jnp.diff(jnp.log(daily + LOG_OFFSET))
    return _sharpe(log_returns, DAYS_PER_YEAR, LOG_SHARPE_STD_OFFSET)


# --------------------------------------------------------------------------- minute-series metrics


def minute_sharpe(values: Array) -> Array:
    """Arithmetic Sharpe of minute values [L], annualised by sqrt(525600)."""
    return _sharpe(simple_returns(values), MINUTES_PER_YEAR)


def _require_length(values: Array, minimum: int, metric: str) -> None:
    """ValueError naming the minimum when [L] is shorter (a check on the static shape, so it
    also holds under jit)."""
    if values.shape[-1] < minimum:
        raise ValueError(f"{metric} needs at least {minimum} values, got {values.shape[-1]}")


def _greatest_draw_down(values: Array) -> Array:
    return jnp.min(values - values[0]) / values[0]


def greatest_draw_down(values: Array) -> Array:
    """Worst value of [L] relative to the first value (not to a running peak), as a return.
    ValueError when L < 1 (the reference raises on an empty series too)."""
    _require_length(values, 1, "greatest_draw_down")
    return _greatest_draw_down(values)


def _max_drawdown(values: Array, block: int) -> Array:
    return _min(jnp.min(drawdowns(complete_blocks(values, block)), axis=1))


def max_drawdown(values: Array, block: int) -> Array:
    """Worst drawdown from the running peak within any complete block of [L].

    ValueError naming the minimum when L < ``block`` (no complete block), as the reference's
    ``_calculate_max_drawdown`` raises; the training objective of the same name (``objective``)
    gives NaN there instead."""
    _require_length(values, block, f"max_drawdown (block {block})")
    return _max_drawdown(values, block)


def weekly_max_drawdown(values: Array) -> Array:
    """``max_drawdown`` over weekly blocks (10080 minutes; ValueError when L < 10080)."""
    _require_length(values, MINUTES_PER_WEEK, "weekly_max_drawdown")
    return _max_drawdown(values, MINUTES_PER_WEEK)


def intraday_var(values: Array, block: int, q: float) -> Array:
    """Mean over complete blocks of the q-th percentile of the block's minute returns."""
    minute_returns = simple_returns(complete_blocks(values, block))
    per_block = jnp.percentile(minute_returns, q, axis=-1, method="linear")
    return _mean(per_block)


def block_end_var(values: Array, block: int, q: float) -> Array:
    """q-th percentile of the returns between the last values of consecutive complete blocks."""
    return _period_var(complete_blocks(values, block)[:, -1], q)


def raroc(values: Array, block: int) -> Array:
    """Annualised whole-window return over the annualised intraday 95 % VaR of ``block`` blocks."""
    var_periods = _window_periods_per_year(values.shape[0]) * MINUTES_PER_DAY / block
    var = intraday_var(values, block, VAR_95_PERCENTILE)
    return _return_over_var(_window_annualised_return(values), var, var_periods)


def rovar(values: Array, block: int, var_of: VarFn) -> Array:
    """Mean annualised per-block return over the annualised 95 % VaR given by ``var_of``."""
    blocks = complete_blocks(values, block)
    mean_annual = _mean(_annualise(blocks[:, -1] / blocks[:, 0], MINUTES_PER_YEAR / block))
    var_periods = _window_periods_per_year(values.shape[0]) * MINUTES_PER_DAY / block
    return _return_over_var(mean_annual, var_of(values, block, VAR_95_PERCENTILE), var_periods)


def ulcer(values: Array, block: int = MINUTES_PER_MONTH) -> Array:
    """Minus the mean over complete blocks of the RMS drawdown from the block's running peak."""
    per_block = jnp.sqrt(jnp.mean(jnp.square(drawdowns(complete_blocks(values, block))), axis=1))
    return -_mean(per_block)


def sterling(values: Array, block: int = MINUTES_PER_MONTH) -> Array:
    """Annualised return over minus the mean per-block maximum drawdown (+inf if that is <= 0)."""
    denominator = -_mean(jnp.min(drawdowns(complete_blocks(values, block)), axis=1))
    return jnp.where(
        denominator <= 0, jnp.inf, _window_annualised_return(values) / denominator
    )


def calmar(values: Array) -> Array:
    """Annualised return over minus the whole-window maximum drawdown (+inf without drawdown).
    ValueError when L < 1 (the reference raises on an empty series too)."""
    _require_length(values, 1, "calmar")
    return _calmar(values)


def _calmar(values: Array) -> Array:
    worst = jnp.min(drawdowns(values))
    return jnp.where(worst >= 0, jnp.inf, _window_annualised_return(values) / -worst)


# --------------------------------------------------------------------------- full-path objectives


def _pool_growth(path: MinutePath) -> Array:
    """Growth factor of the pool over the window."""
    return _growth(path.values)


def _hodl_growth(path: MinutePath) -> Array:
    """Final value over the final value of the (gradient-stopped) first reserves."""
    benchmark = jnp.sum(lax.stop_gradient(path.reserves[0]) * path.prices[-1])
    return path.values[-1] / benchmark


def _uniform_hodl_growth(path: MinutePath) -> Array:
    """Final value over the final value of an equal-value split of the initial value."""
    first_prices = path.prices[0]
    n_assets = path.reserves.shape[1]
    holdings = jnp.sum(path.reserves[0] * first_prices) / (n_assets * first_prices)
    return path.values[-1] / jnp.sum(lax.stop_gradient(holdings) * path.prices[-1])


def _returns(growth: PathMetric) -> PathMetric:
    """Total return metric of a growth factor."""
    return lambda path: growth(path) - 1.0


def _annualised_returns(growth: PathMetric) -> PathMetric:
    """Growth factor annualised over the L - 1 minute returns of the window."""
    return lambda path: _annualise(growth(path), MINUTES_PER_YEAR / (path.values.shape[0] - 1))


def _fee_revenue_over_value(path: MinutePath) -> Array:
    """Total fee revenue over the initial value (0 without fee revenue)."""
    if path.fee_revenue is None:
        return jnp.zeros((), path.values.dtype)
    return jnp.sum(path.fee_revenue) / path.values[0]


def _on_values(metric: SeriesMetric) -> PathMetric:
    """Lift a metric of the minute values to a path metric."""
    return lambda path: metric(path.values)


def _on_daily_values(metric: SeriesMetric) -> PathMetric:
    """Lift a metric of daily values to a path metric (values sampled every 1440 minutes)."""
    return lambda path: metric(daily_values(path.values))


def _var_metrics(block: int, period: str) -> dict[str, PathMetric]:
    """The intraday and block-end 95 % / 99 % VaR metrics of one block length."""
    metrics: dict[str, PathMetric] = {}
    for level, q in (("95%", VAR_95_PERCENTILE), ("99%", VAR_99_PERCENTILE)):
        metrics[f"{period}_var_{level}"] = _on_values(partial(intraday_var, block=block, q=q))
        metrics[f"{period}_var_{level}_trad"] = _on_values(partial(block_end_var, block=block, q=q))
    return metrics


_OBJECTIVES: dict[str, PathMetric] = {
    "sharpe": _on_values(minute_sharpe),
    "daily_sharpe": _on_daily_values(daily_sharpe),
    "daily_log_sharpe": _on_daily_values(daily_log_sharpe),
    "returns": _returns(_pool_growth),
    "annualised_returns": _annualised_returns(_pool_growth),
    "returns_over_hodl": _returns(_hodl_growth),
    "annualised_returns_over_hodl": _annualised_returns(_hodl_growth),
    "returns_over_uniform_hodl": _returns(_uniform_hodl_growth),
    "annualised_returns_over_uniform_hodl": _annualised_returns(_uniform_hodl_growth),
    "greatest_draw_down": _on_values(_greatest_draw_down),
    "weekly_max_drawdown": _on_values(partial(_max_drawdown, block=MINUTES_PER_WEEK)),
    **_var_metrics(MINUTES_PER_DAY, "daily"),
    **_var_metrics(MINUTES_PER_WEEK, "weekly"),
    "daily_raroc": _on_values(partial(raroc, block=MINUTES_PER_DAY)),
    "weekly_raroc": _on_values(partial(raroc, block=MINUTES_PER_WEEK)),
    "daily_rovar": _on_values(partial(rovar, block=MINUTES_PER_DAY, var_of=intraday_var)),
    "weekly_rovar": _on_values(partial(rovar, block=MINUTES_PER_WEEK, var_of=intraday_var)),
    "monthly_rovar": _on_values(partial(rovar, block=MINUTES_PER_MONTH, var_of=intraday_var)),
    "daily_rovar_trad": _on_values(partial(rovar, block=MINUTES_PER_DAY, var_of=block_end_var)),
    "weekly_rovar_trad": _on_values(partial(rovar, block=MINUTES_PER_WEEK, var_of=block_end_var)),
    "monthly_rovar_trad": _on_values(
        partial(rovar, block=MINUTES_PER_MONTH, var_of=block_end_var)
    ),
    "ulcer": _on_values(ulcer),
    "sterling": _on_values(sterling),
    "calmar": _on_values(_calmar),
    "fee_revenue_over_value": _fee_revenue_over_value,
}

RETURN_VALS: tuple[str, ...] = tuple(_OBJECTIVES)


def _lookup(registry: Mapping[str, Metric], name: str, what: str) -> Metric:
    """``registry[name]``, or a ValueError that lists the valid names."""
    if name not in registry:
        raise ValueError(f"unknown {what} {name!r}; valid: {', '.join(registry)}")
    return registry[name]


@partial(jax.jit, static_argnames=("name",))
def objective(
    name: str,
    values: Array,
    reserves: Array,
    prices: Array,
    fee_revenue: Array | None = None,
) -> Array:
    """The scalar ``return_val`` ``name`` of a full minute path.

    Args:
      name: one of ``RETURN_VALS`` (static).
      values: [L] pool value per minute, ``sum(reserves * prices, -1)``.
      reserves: [L, n] pool reserves (row 0 sets the HODL benchmarks, gradient stopped).
      prices: [L, n] minute prices used for valuation.
      fee_revenue: [L] fee revenue per minute, or None (counts as zero).

    Returns:
      The metric, a scalar (NaN for chunked metrics without enough complete blocks).
    """
    metric = _lookup(_OBJECTIVES, name, "return_val")
    return metric(MinutePath(values, reserves, prices, fee_revenue))


# --------------------------------------------------------------------------- fused daily path


def _boundary_returns(boundary: Array) -> Array:
    """Return from the first to the last day boundary."""
    return _growth(boundary) - 1.0


def _boundary_annualised_returns(boundary: Array) -> Array:
    """Boundary-to-boundary growth annualised with 365 / D."""
    return _annualise(_growth(boundary), DAYS_PER_YEAR / (boundary.shape[0] - 1))


def _boundary_var(boundary: Array, days: int, q: float) -> Array:
    """q-th percentile of the returns between boundary values ``days`` apart (from b_0)."""
    return _period_var(boundary[::days], q)


def _boundary_rovar(boundary: Array, days: int) -> Array:
    """Mean annualised return over the 95 % VaR of returns between boundaries ``days`` apart."""
    returns = simple_returns(boundary[::days])
    periods_per_year = DAYS_PER_YEAR / days
    mean_annual = _mean(_annualise(1.0 + returns, periods_per_year))
    var = _percentile(returns, VAR_95_PERCENTILE)
    return _return_over_var(mean_annual, var, periods_per_year / returns.shape[0])


_FUSED_OBJECTIVES: dict[str, SeriesMetric] = {
    "daily_log_sharpe": daily_log_sharpe,
    "daily_sharpe": daily_sharpe,
    "daily_var_95%_trad": partial(_boundary_var, days=1, q=VAR_95_PERCENTILE),
    "daily_var_99%_trad": partial(_boundary_var, days=1, q=VAR_99_PERCENTILE),
    "weekly_var_95%_trad": partial(_boundary_var, days=DAYS_PER_WEEK, q=VAR_95_PERCENTILE),
    "weekly_var_99%_trad": partial(_boundary_var, days=DAYS_PER_WEEK, q=VAR_99_PERCENTILE),
    "daily_rovar_trad": partial(_boundary_rovar, days=1),
    "weekly_rovar_trad": partial(_boundary_rovar, days=DAYS_PER_WEEK),
    "monthly_rovar_trad": partial(_boundary_rovar, days=DAYS_PER_MONTH),
    "returns": _boundary_returns,
    "annualised_returns": _boundary_annualised_returns,
    # Reference quirk: the HODL-relative names lose their benchmark on the fused path.
    "returns_over_hodl": _boundary_returns,
    "annualised_returns_over_hodl": _boundary_annualised_returns,
    "returns_over_uniform_hodl": _boundary_returns,
    "annualised_returns_over_uniform_hodl": _boundary_annualised_returns,
}

FUSED_RETURN_VALS: frozenset[str] = frozenset(_FUSED_OBJECTIVES)


@partial(jax.jit, static_argnames=("name",))
def fused_objective(name: str, boundary_values: Array) -> Array:
    """The ``return_val`` ``name`` on the fused daily path, from day-boundary values.

    Args:
      name: one of ``FUSED_RETURN_VALS`` (static).
      boundary_values: [D + 1] pool values at minutes 0, 1440, ..., 1440 D of the window.

    Returns:
      The metric, a scalar. Returns-type and ``_trad`` names differ from ``objective``'s.
    """
    metric = _lookup(_FUSED_OBJECTIVES, name, "fused-path return_val")
    return metric(boundary_values)


# --------------------------------------------------------------------------- reports and penalties

_SLICE_OBJECTIVES: dict[str, str] = {
    "jax_sharpe": "sharpe",
    "daily_log_sharpe": "daily_log_sharpe",
    "return": "returns",
    "returns_over_hodl": "returns_over_hodl",
    "returns_over_uniform_hodl": "returns_over_uniform_hodl",
    "annualised_returns": "annualised_returns",
    "annualised_returns_over_hodl": "annualised_returns_over_hodl",
    "annualised_returns_over_uniform_hodl": "annualised_returns_over_uniform_hodl",
    "ulcer": "ulcer",
    "calmar": "calmar",
    "sterling": "sterling",
}


def guarded_daily_sharpe(daily_returns: Array) -> Array:
    """Sharpe of daily returns [D] annualised by sqrt(365), 0 when their std is <= 1e-12."""
    return jnp.where(
        jnp.std(daily_returns) > SLICE_SHARPE_MIN_STD,
        _sharpe(daily_returns, DAYS_PER_YEAR),
        0.0,
    )


@jax.jit
def slice_metrics(
    values: Array, reserves: Array, prices: Array, fee_revenue: Array | None = None
) -> dict[str, Array]:
    """Metrics reported for a train / validation / test slice.

    Args:
      values: [L] pool value per minute of the slice.
      reserves: [L, n] reserves of the slice (row 0 sets the HODL benchmarks).
      prices: [L, n] prices of the slice.
      fee_revenue: [L] fee revenue per minute, or None; when given, ``fee_revenue_over_value``
        is reported too.

    Returns:
      ``sharpe`` (daily arithmetic, see ``guarded_daily_sharpe``), ``jax_sharpe`` (per minute)
      and the other scalars named in ``_SLICE_OBJECTIVES``, then ``daily_returns``
      [ceil(L / 1440) - 1], the simple returns of ``daily_values(values)``.
    """
    path = MinutePath(values, reserves, prices, fee_revenue)
    daily_returns = simple_returns(daily_values(values))
    metrics = {"sharpe": guarded_daily_sharpe(daily_returns)}
    metrics.update({key: _OBJECTIVES[name](path) for key, name in _SLICE_OBJECTIVES.items()})
    if fee_revenue is not None:
        metrics["fee_revenue_over_value"] = _fee_revenue_over_value(path)
    metrics["daily_returns"] = daily_returns
    return metrics


@jax.jit
def turnover(values: Array, reserves: Array, prices: Array) -> Array:
    """Mean over minutes of the L1 change of implied weights ``reserves * prices / values``.

    Shapes: values [L], reserves and prices [L, n]; the result is a scalar (weight units/minute).
    """
    implied_weights = reserves * prices / values[:, None]
    return jnp.mean(jnp.sum(jnp.abs(jnp.diff(implied_weights, axis=0)), axis=-1))
