"""Chunk raw outputs -> minute weights: guardrails, speed limit, interpolation, assembly.

Shapes: ``n`` assets, ``n_c`` chunks in the window, ``c`` = chunk period in minutes,
``N = weight_interpolation_period + 1`` interpolation points per block.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jax import Array, lax

from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT as DEFAULTS
from quantamm.core.vocabulary import INTERPOLATION_METHODS

MAX_CHANGE_EPSILON = 1e-10
# "optimal" is the seeds' name for the reference's "approx_optimal" interpolation.


class WeightSettings(NamedTuple):
    """Static settings of the fine-weight stage."""

    n_assets: int
    chunk_period: int = DEFAULTS["chunk_period"]
    weight_interpolation_period: int = DEFAULTS["weight_interpolation_period"]
    weight_interpolation_method: str = DEFAULTS["weight_interpolation_method"]
    maximum_change: float = DEFAULTS["maximum_change"]
    minimum_weight: float | None = DEFAULTS["minimum_weight"]
    ste_max_change: bool = DEFAULTS["ste_max_change"]
    ste_min_max_weight: bool = DEFAULTS["ste_min_max_weight"]

    @property
    def floor(self) -> float:
        """Minimum weight per asset (default 0.1 / n)."""
        return 0.1 / self.n_assets if self.minimum_weight is None else self.minimum_weight


def straight_through(soft: Array, hard: Array) -> Array:
    """Forward value ``hard``, gradient of ``soft``."""
    return soft + lax.stop_gradient(hard - soft)


def guardrail(raw_weights: Array, settings: WeightSettings) -> Array:
    """Normalise, clip to [floor, 1 - (n - 1) floor], rescale the unclipped-low entries once,
    and put the rounding residue on the largest entry (straight-through). [n] -> [n]."""
    floor = settings.floor
    ceiling = 1.0 - (settings.n_assets - 1) * floor
    normed = raw_weights / jnp.sum(raw_weights)
    below = normed < floor
    clipped = jnp.clip(normed, floor, ceiling)
    if settings.ste_min_max_weight:
        clipped = straight_through(normed, clipped)
    remaining = 1 - jnp.sum(below) * floor
    others_sum = jnp.sum(jnp.where(below, 0.0, clipped))
    target = jnp.where(below, clipped, clipped * remaining / others_sum)
    largest = jnp.argmax(target) == jnp.arange(settings.n_assets)
    corrected = jnp.where(largest, target - jnp.sum(target) + 1.0, target)
    return target + lax.stop_gradient(corrected - target)


def capped_step(start: Array, target: Array, interpolation_points: int, settings) -> Array:
    """Per-minute step toward the target, scaled down uniformly to maximum_change. [n] -> [n]."""
    step = 1 / (interpolation_points - 1) * (target - start)
    largest = jnp.max(jnp.abs(step))
    scale = settings.maximum_change / (largest + MAX_CHANGE_EPSILON)
    capped = jnp.where(largest > settings.maximum_change, step * scale, step)
    if settings.ste_max_change:
        capped = straight_through(step, capped)
    return capped


def coarse_step(
    position: Array,
    raw_output: Array,
    settings: WeightSettings,
    smoothing_lamb: Array | None,
    interpolation_points: int,
) -> tuple[Array, tuple[Array, Array, Array]]:
    """One chunk: (actual position [n], raw output [n]) -> (next position, (start, step, target)).

    Delta rules add the output to the position; weight rules (``smoothing_lamb`` given) blend
    ``lamb * position + (1 - lamb) * output``.
    """
    if smoothing_lamb is None:
        raw_weights = position + raw_output
    else:
        raw_weights = smoothing_lamb * position + (1 - smoothing_lamb) * raw_output
    target = guardrail(raw_weights, settings)
    step = capped_step(position, target, interpolation_points, settings)
    next_position = (position + step * (interpolation_points - 1)).astype(position.dtype)
    return next_position, (position, step, target)


def weight_rule_start(raw_output: Array, settings: WeightSettings, smoothing_lamb: Array) -> Array:
    """Start position of a weight rule: the target of one step from ``raw_output`` to itself
    (N = 2), i.e. the guardrailed output. [n] -> [n]"""
    _, (_, _, target) = coarse_step(raw_output, raw_output, settings, smoothing_lamb, 2)
    return target


def coarse_scan(
    raw_outputs: Array,
    start: Array,
    settings: WeightSettings,
    smoothing_lamb: Array | None = None,
) -> tuple[Array, Array]:
    """Scan the window's raw outputs [n_c, n] from position ``start`` [n] -> (block starts
    [n_c, n], per-minute steps [n_c, n])."""
    points = settings.weight_interpolation_period + 1

    def step(position: Array, raw_output: Array):
        next_position, (block_start, delta, _) = coarse_step(
            position, raw_output, settings, smoothing_lamb, points
        )
        return next_position, (block_start, delta)

    _, (starts, deltas) = lax.scan(step, start, raw_outputs)
    return starts, deltas


def interpolate_blocks(starts: Array, deltas: Array, settings: WeightSettings) -> Array:
    """Blocks of ``c`` minutes from (starts, steps) [n_c, n] -> weights [n_c * c, n].

    Linear: minute i of a block holds ``start + min(i, N - 1) * step``. Approx-optimal: the
    normalised mean of the linear ramp and a geometric ramp, the block end un-normalised.
    """
    c = settings.chunk_period
    points = settings.weight_interpolation_period + 1
    ramp_index = jnp.minimum(jnp.arange(c), points - 1).astype(starts.dtype)[None, :, None]
    linear = ramp_index * deltas[:, None, :] + starts[:, None, :]
    if settings.weight_interpolation_method == "linear":
        blocks = linear
    elif settings.weight_interpolation_method in ("approx_optimal", "optimal"):
        end = starts + (points - 1) * deltas
        geometric = starts[:, None, :] * (end / starts)[:, None, :] ** (ramp_index / points)
        mixed = linear + geometric
        mixed = mixed / jnp.sum(mixed, axis=-1, keepdims=True)
        blocks = jnp.where(ramp_index <= points - 2, mixed, linear)
    else:
        raise ValueError(
            f"weight_interpolation_method must be one of {', '.join(INTERPOLATION_METHODS)}, "
            f"got {settings.weight_interpolation_method!r}"
        )
    return blocks.reshape(-1, settings.n_assets)


def n_window_chunks(bout_length: int, chunk_period: int) -> int:
    """Number of raw-output rows a window of ``bout_length`` timestamps uses."""
    return bout_length // chunk_period + (1 if bout_length % chunk_period else 0)


def window_raw_outputs(raw_outputs: Array, start_index: Array, bout_length: int, c: int) -> Array:
    """Rows [floor(start / c), + n_c) of the whole-array raw outputs [K - 1, n]."""
    n_c = n_window_chunks(bout_length, c)
    first = start_index // c
    return lax.dynamic_slice_in_dim(raw_outputs, first, n_c, axis=0)


def fine_weights(
    window_outputs: Array,
    start: Array,
    settings: WeightSettings,
    smoothing_lamb: Array | None = None,
    hold_first_chunk: bool = True,
) -> Array:
    """Minute weights of a window from its raw outputs [n_c, n], starting at ``start`` [n]:
    [(n_c + 1) c, n] when the first chunk holds ``start`` (delta rules; causal weight rules),
    [n_c c, n] otherwise; the caller keeps the first ``bout_length - 1`` rows.
    """
    starts, deltas = coarse_scan(window_outputs, start, settings, smoothing_lamb)
    blocks = interpolate_blocks(starts, deltas, settings)
    if hold_first_chunk:
        lead = jnp.broadcast_to(start, (settings.chunk_period, settings.n_assets))
        blocks = jnp.concatenate([lead.astype(blocks.dtype), blocks], axis=0)
    return blocks
