"""The engine's entry point: static configuration + params + prices -> weights, reserves, values.

``SimConfig`` holds every setting that changes shapes or code paths; it is hashable and passed as
a static argument, so each distinct configuration (and price-array length) compiles once and is
reused from JAX's cache. Parameters are a dict of arrays in the reference's parameterisation
(``logit_lamb`` [n], ``log_k`` [n], ``initial_weights_logits`` [n], ...).

Window convention: ``prices`` [T, n] is the whole (burn-in included) minute array, the rule runs
from its row 0, and the simulated window is rows ``start_index .. start_index + bout_length - 2``
(``bout_length - 1`` minutes). ``start_index`` may be traced, so windows vmap. ``log_prices``
(optional, = ``log(prices)``) lets a caller that keeps a dataset compute its logs once.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Mapping

import jax
import jax.numpy as jnp
from jax import Array, lax

from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT as DEFAULTS
from sim_service.engine import cow, fee_reserves, gyroscope, metrics, reserves, rules, weights
from sim_service.engine.rules import min_variance
from sim_service.engine.transforms import MINUTES_PER_DAY

Params = Mapping[str, Array]

TWO_ASSET_POOLS = ("cow", "gyroscope")  # pools with reserves of their own (engine/cow, gyroscope)


@dataclasses.dataclass(frozen=True)
class SimConfig:
    """Static settings of one simulation (hashable; one compilation per distinct value)."""

    rule: str
    n_assets: int
    bout_length: int
    chunk_period: int = DEFAULTS["chunk_period"]
    weight_interpolation_period: int = DEFAULTS["weight_interpolation_period"]
    weight_interpolation_method: str = DEFAULTS["weight_interpolation_method"]
    maximum_change: float = DEFAULTS["maximum_change"]
    minimum_weight: float | None = DEFAULTS["minimum_weight"]
    max_memory_days: float = DEFAULTS["max_memory_days"]
    use_alt_lamb: bool = DEFAULTS["use_alt_lamb"]
    use_pre_exp_scaling: bool = DEFAULTS["use_pre_exp_scaling"]
    ste_max_change: bool = DEFAULTS["ste_max_change"]
    ste_min_max_weight: bool = DEFAULTS["ste_min_max_weight"]
    initial_pool_value: float = DEFAULTS["initial_pool_value"]
    arb_frequency: int = DEFAULTS["arb_frequency"]
    do_arb: bool = DEFAULTS["do_arb"]
    return_val: str = DEFAULTS["return_val"]
    use_fused_reserves: bool = DEFAULTS["use_fused_reserves"]
    # True: weight rules without the one-chunk look-ahead
    weight_rule_causal: bool = DEFAULTS["weight_rule_causal"]
    fees: float = DEFAULTS["fees"]
    gas_cost: float = DEFAULTS["gas_cost"]
    arb_fees: float = DEFAULTS["arb_fees"]
    noise_trader_ratio: float = DEFAULTS["noise_trader_ratio"]
    protocol_fee_split: float = DEFAULTS["protocol_fee_split"]
    dynamic_inputs: bool = False  # per-minute fees / costs / trades are passed to the call
    # CoW: blend of perfect and single-arbitrageur models
    arb_quality: float = DEFAULTS["arb_quality"]
    numeraire_first: bool = False  # Gyroscope: the numeraire is the first sorted token

    def __post_init__(self) -> None:
        spec = rules.get(self.rule)  # ValueError naming the valid rules
        if self.bout_length < 3:
            raise ValueError(f"bout_length must be >= 3 minutes, got {self.bout_length}")
        if self.weight_interpolation_period > self.chunk_period:
            raise ValueError("weight_interpolation_period must be <= chunk_period")
        if self.arb_frequency < 1:
            raise ValueError("arb_frequency must be >= 1")
        if spec.n_assets is not None and self.n_assets != spec.n_assets:
            raise ValueError(f"{self.rule} pools hold exactly {spec.n_assets} tokens, "
                             f"got {self.n_assets}")
        if self.weight_interpolation_method not in weights.INTERPOLATION_METHODS:
            raise ValueError(
                "weight_interpolation_method must be one of "
                f"{', '.join(weights.INTERPOLATION_METHODS)}, "
                f"got {self.weight_interpolation_method!r}"
            )

    @property
    def n_minutes(self) -> int:
        """Simulated minutes L = bout_length - 1."""
        return self.bout_length - 1

    @property
    def pool(self) -> str:
        """How weights become reserves (``quantamm.core.rules.POOL_KINDS``)."""
        return rules.get(self.rule).pool

    @property
    def is_tfmm(self) -> bool:
        return self.pool == "tfmm"

    @property
    def outputs_weights(self) -> bool:
        """Whether the rule outputs target weights (min variance), not weight changes."""
        return rules.get(self.rule).outputs == "weights"

    @property
    def rule_settings(self) -> rules.RuleSettings:
        return rules.RuleSettings(
            self.chunk_period, self.max_memory_days, self.use_alt_lamb, self.use_pre_exp_scaling
        )

    @property
    def weight_settings(self) -> weights.WeightSettings:
        return weights.WeightSettings(
            self.n_assets,
            self.chunk_period,
            self.weight_interpolation_period,
            self.weight_interpolation_method,
            self.maximum_change,
            self.minimum_weight,
            self.ste_max_change,
            self.ste_min_max_weight,
        )

    @property
    def fee_settings(self) -> fee_reserves.FeeSettings:
        return fee_reserves.FeeSettings(
            self.fees, self.gas_cost, self.arb_fees, self.noise_trader_ratio,
            self.protocol_fee_split,
        )

    @property
    def uses_fee_path(self) -> bool:
        """Whether reserves come from the sequential arbitrage scan (docs/simulation.md §6.2)
        rather than the
        zero-fee closed form."""
        return self.dynamic_inputs or self.fees > 0 or self.gas_cost > 0 or self.arb_fees > 0

    @property
    def uses_fused_objective(self) -> bool:
        """Whether the objective is computed from daily boundary values only (docs/simulation.md
        §6.16)."""
        return (
            not self.uses_fee_path
            and self.use_fused_reserves
            and self.is_tfmm
            and not self.outputs_weights
            and self.return_val in metrics.FUSED_RETURN_VALS
            and self.arb_frequency == 1
            and self.do_arb
            and MINUTES_PER_DAY % self.chunk_period == 0
            and self.bout_length > 2 * MINUTES_PER_DAY
        )

    @property
    def uses_block_objective(self) -> bool:
        """Whether the fused objective comes from block-level arrays (linear interpolation; the
        other interpolations take the per-minute form of the same daily values)."""
        return self.uses_fused_objective and self.weight_interpolation_method == "linear"

    def min_price_rows(self, start_index: int) -> int:
        """Rows the price array needs so the window's rule outputs exist (no slice clamping)."""
        rows_for_window = start_index + self.bout_length - 1
        if not self.is_tfmm:
            return rows_for_window
        n_c = weights.n_window_chunks(self.bout_length, self.chunk_period)
        rows_for_rule = (start_index // self.chunk_period + n_c) * self.chunk_period + 1
        return max(rows_for_window, rows_for_rule)


# --------------------------------------------------------------------------- pieces


def initial_weights(params: Params, n_assets: int) -> Array:
    """Softmax of the stop-gradient ``initial_weights_logits`` (a scalar broadcasts), else the
    stop-gradient ``initial_weights``. -> [n]"""
    if "initial_weights_logits" in params:
        logits = jnp.broadcast_to(params["initial_weights_logits"], (n_assets,))
        return jax.nn.softmax(lax.stop_gradient(logits))
    if "initial_weights" in params:
        return lax.stop_gradient(jnp.broadcast_to(params["initial_weights"], (n_assets,)))
    raise ValueError("params need 'initial_weights_logits' or 'initial_weights'")


def whole_rule_outputs(params: Params, prices: Array, config: SimConfig) -> Array:
    """Raw rule outputs [K - 1, n] over the whole price array (chunks from row 0)."""
    chunk_prices = prices[:: config.chunk_period]
    return rules.rule_outputs(config.rule, params, config.rule_settings, chunk_prices)


def tfmm_window_weights(params: Params, raw_outputs: Array, start_index: Array, config):
    """Minute weights [L, n] of a TFMM window from the whole-array raw outputs [K - 1, n].

    Delta rules start from the initial weights and hold them for the first chunk. Weight rules
    (reference) start from the guardrailed first window output, which has seen the price one
    chunk ahead; causal weight rules start from the output of the chunk at or before the window
    start (equal weights when there is none) and hold it for the first chunk.
    """
    window_outputs = weights.window_raw_outputs(
        raw_outputs, start_index, config.bout_length, config.chunk_period
    )
    settings = config.weight_settings
    if not config.outputs_weights:
        start = initial_weights(params, config.n_assets)
        blocks = weights.fine_weights(window_outputs, start, settings)
        return blocks[: config.n_minutes]
    smoothing = min_variance.smoothing_lamb(params, config.rule_settings)
    if not config.weight_rule_causal:
        start = weights.weight_rule_start(window_outputs[0], settings, smoothing)
        blocks = weights.fine_weights(window_outputs, start, settings, smoothing, False)
        return blocks[: config.n_minutes]
    previous_row = start_index // config.chunk_period - 1
    previous = raw_outputs[jnp.maximum(previous_row, 0)]
    equal = jnp.full((config.n_assets,), 1.0 / config.n_assets, dtype=raw_outputs.dtype)
    start = jnp.where(previous_row >= 0, weights.weight_rule_start(previous, settings, smoothing),
                      equal)
    blocks = weights.fine_weights(window_outputs, start, settings, smoothing, True)
    return blocks[: config.n_minutes]


def eclp_params(params: Params) -> gyroscope.EclpParams:
    """The E-CLP geometry from params (scalars or [1] arrays)."""
    return gyroscope.EclpParams(*(jnp.reshape(params[k], ()) for k in ("alpha", "beta", "phi", "lam")))


def window_weights(params: Params, prices: Array, start_index: Array, config: SimConfig):
    """Minute weights [L, n] of the window (Gyroscope: value shares of its zero-fee reserves)."""
    if config.pool == "gyroscope":
        minute_prices = window_prices(prices, start_index, config)
        zero_fee = gyroscope.gyroscope_pool_reserves(
            minute_prices, eclp_params(params), config.initial_pool_value,
            gyroscope.GyroSettings(), config.numeraire_first, None, gyro_target(params),
        )
        return gyroscope.value_shares(zero_fee, minute_prices)
    if not config.is_tfmm:
        w0 = initial_weights(params, config.n_assets)
        return jnp.broadcast_to(w0, (config.n_minutes, config.n_assets))
    raw_outputs = whole_rule_outputs(params, prices, config)
    return tfmm_window_weights(params, raw_outputs, start_index, config)


def window_prices(prices: Array, start_index: Array, config: SimConfig) -> Array:
    """Rows [L, n] of the simulated minutes of a [T, n] array (prices or their logs)."""
    return lax.dynamic_slice_in_dim(prices, start_index, config.n_minutes, axis=0)


def window_log_prices(prices, log_prices, start_index, config: SimConfig) -> Array:
    """Log prices [L, n] of the window, from ``log_prices`` when the caller has them."""
    if log_prices is None:
        return jnp.log(window_prices(prices, start_index, config))
    return window_prices(log_prices, start_index, config)


def gyro_target(params: Params) -> Array | None:
    """Target first-token weight of a Gyroscope pool whose params carry initial weights."""
    if "initial_weights_logits" not in params:
        return None
    return jax.nn.softmax(lax.stop_gradient(params["initial_weights_logits"]))


def two_asset_reserves(params: Params, minute_weights, minute_prices, config, dynamic):
    """CoW or Gyroscope reserves [rows, 2] at the given (arbitrage-minute) prices."""
    v0 = config.initial_pool_value
    if config.pool == "cow":
        settings = cow.CowSettings(config.fees, config.gas_cost, config.arb_fees,
                                   config.noise_trader_ratio, config.arb_quality)
        start = reserves.initial_reserves(minute_weights[0], minute_prices[0], v0)
        return cow.cow_reserves(minute_prices, minute_weights[0], start, settings, dynamic)
    settings = gyroscope.GyroSettings(config.fees, config.gas_cost, config.arb_fees)
    return gyroscope.gyroscope_pool_reserves(
        minute_prices, eclp_params(params), v0, settings, config.numeraire_first, dynamic,
        gyro_target(params),
    )


def window_reserves(
    minute_weights: Array,
    minute_prices: Array,
    minute_log_prices: Array,
    config: SimConfig,
    dynamic: fee_reserves.DynamicInputs | None = None,
    params: Params | None = None,
) -> Array:
    """Reserves [L, n] for the configured rule, costs, arbitrage cadence and do_arb.

    ``dynamic``: per-minute fees, costs and trades (one row per arbitrage minute).
    """
    v0 = config.initial_pool_value
    f = config.arb_frequency
    if config.pool in TWO_ASSET_POOLS:
        if not config.do_arb:
            first = two_asset_reserves(params, minute_weights[:1], minute_prices[:1], config, None)
            return jnp.broadcast_to(first[0], minute_prices.shape)
        sampled = two_asset_reserves(params, minute_weights[::f], minute_prices[::f], config,
                                     dynamic)
        return reserves.hold_between_arbitrages(sampled, f, config.n_minutes)
    if config.pool == "hodl" or not config.do_arb:
        return reserves.hodl_reserves(minute_weights[0], minute_prices, v0)
    if config.uses_fee_path:
        start = reserves.initial_reserves(minute_weights[0], minute_prices[0], v0)
        if config.pool == "balancer":
            sampled = fee_reserves.balancer_fee_reserves(
                minute_weights[0], minute_prices[::f], start, config.fee_settings, dynamic
            )
        else:
            sampled = fee_reserves.tfmm_fee_reserves(
                minute_weights[::f], minute_prices[::f], start, config.fee_settings, dynamic
            )
    else:
        sampled = reserves.tfmm_reserves(
            minute_weights[::f], minute_prices[::f], minute_log_prices[::f], v0
        )
    return reserves.hold_between_arbitrages(sampled, f, config.n_minutes)


# --------------------------------------------------------------------------- entry points


def sequential_device(config: SimConfig, backend: str | None = None):
    """The device for a run whose reserves come from a per-minute sequential scan (with-fees
    path, CoW, Gyroscope): the CPU when the default ``backend`` is an accelerator (one long
    chain of tiny steps is faster there than as one accelerator launch per minute), else None
    (the default device)."""
    backend = backend or jax.default_backend()
    sequential = config.uses_fee_path or config.pool in TWO_ASSET_POOLS
    if backend == "cpu" or not sequential:
        return None
    try:
        return jax.devices("cpu")[0]
    except RuntimeError:
        return None


def simulate(
    params: Params,
    prices: Array,
    start_index: Array,
    config: SimConfig,
    log_prices=None,
    dynamic: fee_reserves.DynamicInputs | None = None,
) -> dict:
    """``simulate_on_device`` on the device ``sequential_device`` picks (inputs moved there)."""
    device = sequential_device(config)
    if device is not None and not isinstance(prices, jax.core.Tracer):
        params, prices, start_index, log_prices, dynamic = jax.device_put(
            (params, prices, start_index, log_prices, dynamic), device)
    return simulate_on_device(params, prices, start_index, config, log_prices, dynamic)


@partial(jax.jit, static_argnames=("config",))
def simulate_on_device(
    params: Params,
    prices: Array,
    start_index: Array,
    config: SimConfig,
    log_prices=None,
    dynamic: fee_reserves.DynamicInputs | None = None,
) -> dict:
    """One window: {weights, reserves, values, prices [L, ...], final_value, final_reserves,
    rule_outputs [K - 1, n] (TFMM rules only, over the whole array)}.

    HODL's weights are its value shares; every other pool's are its minute weights.
    """
    minute_prices = window_prices(prices, start_index, config)
    extra = {}
    if config.is_tfmm:
        extra["rule_outputs"] = whole_rule_outputs(params, prices, config)
        minute_weights = tfmm_window_weights(params, extra["rule_outputs"], start_index, config)
    else:
        minute_weights = window_weights(params, prices, start_index, config)
    minute_log_prices = window_log_prices(prices, log_prices, start_index, config)
    pool_reserves = window_reserves(
        minute_weights, minute_prices, minute_log_prices, config, dynamic, params
    )
    values = reserves.values_of(pool_reserves, minute_prices)
    if config.pool == "hodl":
        minute_weights = pool_reserves * minute_prices / values[:, None]
    return {
        "weights": minute_weights,
        "reserves": pool_reserves,
        "values": values,
        "prices": minute_prices,
        "final_value": values[-1],
        "final_reserves": pool_reserves[-1],
        **extra,
    }


simulate._cache_size = simulate_on_device._cache_size  # compiled programs (compile-once checks)


def daily_boundary_values(minute_weights: Array, minute_log_prices: Array, pool_value: float):
    """Values at minutes 0, 1440, ... (D + 1 points, D = floor((bout_length - 2) / 1440)) from
    minute weights and log prices [L, n] (per-day sums of the log growth, no minute cumsum)."""
    days = (minute_weights.shape[0] - 1) // MINUTES_PER_DAY
    increments = reserves.log_growth_increments(minute_weights, minute_log_prices)
    per_day = jnp.sum(increments[: days * MINUTES_PER_DAY].reshape(days, MINUTES_PER_DAY), axis=1)
    growth = jnp.concatenate([jnp.zeros((1,), per_day.dtype), jnp.cumsum(per_day)])
    boundary = minute_weights[:: MINUTES_PER_DAY][: days + 1]
    return pool_value * jnp.exp(growth) * reserves.asset_sum(boundary)


def _block_shape(config: SimConfig) -> tuple[int, int]:
    """(blocks up to the last day boundary, ramp minutes m) of the fused block path."""
    days = (config.bout_length - 2) // MINUTES_PER_DAY
    ramp = min(config.chunk_period - 1, config.weight_interpolation_period)
    return days * MINUTES_PER_DAY // config.chunk_period, ramp


def window_block_prices(prices, log_prices, start_indices: Array, config: SimConfig):
    """Block price sums of each window (``reserves.BlockPrices`` of [B, g, n]).

    A loop over windows, not a vmap: a vmapped dynamic slice becomes a gather, several times
    slower on CPU. Nothing here depends on the parameters.
    """
    n_blocks, ramp = _block_shape(config)
    rows = n_blocks * config.chunk_period + 1
    source = prices if log_prices is None else log_prices

    def one(start_index):
        window = lax.dynamic_slice_in_dim(source, start_index, rows, axis=0)
        window = jnp.log(window) if log_prices is None else window
        return reserves.block_prices(window, config.chunk_period, ramp, n_blocks)

    return lax.map(one, start_indices)


def block_boundary_values(params: Params, raw_outputs: Array, start_index: Array,
                          prices: reserves.BlockPrices, config: SimConfig) -> Array:
    """Daily boundary values [D + 1] of a delta-rule window with linear interpolation, from
    block-level arrays only (docs/simulation.md §6.16; equal to ``values[::1440]`` of the full
    path)."""
    n_blocks, ramp = _block_shape(config)
    window_outputs = weights.window_raw_outputs(
        raw_outputs, start_index, config.bout_length, config.chunk_period
    )[:n_blocks]
    start = initial_weights(params, config.n_assets)
    starts, steps = weights.coarse_scan(window_outputs, start, config.weight_settings)
    block_starts = jnp.concatenate([start[None], starts])  # lead block holds the start
    block_steps = jnp.concatenate([jnp.zeros_like(start)[None], steps[:-1]])
    growth = reserves.block_log_growth(
        block_starts[:-1], block_steps, block_starts[1:], prices, ramp
    )
    growth = jnp.concatenate([jnp.zeros((1,), growth.dtype), jnp.cumsum(growth)])
    per_day = MINUTES_PER_DAY // config.chunk_period
    boundary = reserves.asset_sum(block_starts[::per_day])
    return config.initial_pool_value * jnp.exp(growth[::per_day]) * boundary


def window_objective(
    params: Params, prices: Array, start_index: Array, config: SimConfig, log_prices=None
):
    """The configured ``return_val`` of one window (fused daily path where docs/simulation.md §6.16
    allows)."""
    if config.uses_block_objective:
        start = jnp.reshape(start_index, (1,))
        return batch_objective(params, prices, start, config, log_prices)[0]
    minute_log_prices = window_log_prices(prices, log_prices, start_index, config)
    minute_weights = window_weights(params, prices, start_index, config)
    if config.uses_fused_objective:
        boundary = daily_boundary_values(
            minute_weights, minute_log_prices, config.initial_pool_value
        )
        return metrics.fused_objective(config.return_val, boundary)
    minute_prices = window_prices(prices, start_index, config)
    pool_reserves = window_reserves(
        minute_weights, minute_prices, minute_log_prices, config, None, params
    )
    values = reserves.values_of(pool_reserves, minute_prices)
    return metrics.objective(config.return_val, values, pool_reserves, minute_prices)


@partial(jax.jit, static_argnames=("config",))
def objective(
    params: Params, prices: Array, start_index: Array, config: SimConfig, log_prices=None
) -> Array:
    """Scalar objective of one window (jit-compiled once per configuration)."""
    return window_objective(params, prices, start_index, config, log_prices)


def batch_objective(params, prices, start_indices, config: SimConfig, log_prices=None):
    """Objective per window [B] for one parameter set and window starts [B]."""
    if config.uses_block_objective:
        block_prices = window_block_prices(prices, log_prices, start_indices, config)
        raw_outputs = whole_rule_outputs(params, prices, config)
        boundary = jax.vmap(block_boundary_values, in_axes=(None, None, 0, 0, None))(
            params, raw_outputs, start_indices, block_prices, config
        )
        return jax.vmap(partial(metrics.fused_objective, config.return_val))(boundary)
    return jax.vmap(window_objective, in_axes=(None, None, 0, None, None))(
        params, prices, start_indices, config, log_prices
    )


def _mean_batch_objective(params, prices, start_indices, config, log_prices):
    per_window = batch_objective(params, prices, start_indices, config, log_prices)
    return jnp.mean(per_window), per_window


@partial(jax.jit, static_argnames=("config",))
def evaluate_sets(
    params: Params, prices: Array, start_indices: Array, config: SimConfig, log_prices=None
):
    """Objective per set and window [S, B] for stacked params (leading axis S) -- no gradient."""
    return jax.vmap(batch_objective, in_axes=(0, None, None, None, None))(
        params, prices, start_indices, config, log_prices
    )


@partial(jax.jit, static_argnames=("config",))
def value_and_grad_sets(
    params: Params, prices: Array, start_indices: Array, config: SimConfig, log_prices=None
):
    """For stacked params [S, ...]: (mean objective [S], per-window [S, B], gradients like params).

    The gradient is of the batch-mean objective of each set w.r.t. that set's parameters.
    """
    grad_fn = jax.value_and_grad(_mean_batch_objective, has_aux=True)
    (mean, per_window), grads = jax.vmap(grad_fn, in_axes=(0, None, None, None, None))(
        params, prices, start_indices, config, log_prices
    )
    return mean, per_window, grads


SETS_BATCH_CELLS = 1 << 22  # minute x asset cells of one batch of sets in period_reports


@partial(jax.jit, static_argnames=("config", "periods"))
def period_reports(
    params: Params,
    prices: Array,
    start_index: Array,
    config: SimConfig,
    periods: tuple[tuple[int, int], ...],
    states: Array,
    log_prices=None,
) -> tuple[tuple[dict, ...], Array, Array]:
    """One continuous run per stacked parameter set [S, ...], reported per period.

    Args:
      periods: (first, end) minute offsets in the window per period (static; end exclusive).
      states: [k] minute offsets whose weights and reserves are returned.

    Returns:
      (``metrics.slice_metrics`` of each period with every entry [S, ...], weights [S, k, n],
      reserves [S, k, n]). Sets run in batches of at most ``SETS_BATCH_CELLS`` minute x asset
      cells (at least one set), so memory stays bounded for many sets or long runs.
    """

    n_states = states.shape[0]
    rows = jnp.concatenate([states, jnp.zeros((1,), states.dtype)])  # lax.map: no empty outputs

    def one(set_params: Params):
        out = simulate(set_params, prices, start_index, config, log_prices)
        reports = tuple(
            metrics.slice_metrics(out["values"][a:b], out["reserves"][a:b], out["prices"][a:b])
            for a, b in periods
        )
        return reports, out["weights"][rows], out["reserves"][rows]

    n_sets = jax.tree_util.tree_leaves(params)[0].shape[0]
    batch = max(1, min(n_sets, SETS_BATCH_CELLS // (config.n_minutes * config.n_assets)))
    reports, weights, reserves = lax.map(one, params, batch_size=batch)
    return reports, weights[:, :n_states], reserves[:, :n_states]


@partial(jax.jit, static_argnames=("config",))
def readouts(params: Params, prices: Array, start_index: Array, config: SimConfig) -> dict:
    """Estimator internals of a momentum-family rule, sliced to the window: each [n_c, n]."""
    if not rules.get(config.rule).has_readouts:
        raise ValueError(f"readouts exist only for {', '.join(rules.readout_rules())}")
    readout = rules.gradient_readouts(params, config.rule_settings, prices[:: config.chunk_period])
    return {
        name: weights.window_raw_outputs(
            series, start_index, config.bout_length, config.chunk_period
        )
        for name, series in readout._asdict().items()
    }
