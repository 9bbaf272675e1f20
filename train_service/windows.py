"""Where the data windows of a training run lie (docs/training.md §2).

All positions are minutes after the fingerprint's ``start_time``; ``end_time`` and
``end_test_time`` are exclusive ends, as in the simulation API:

- train ``[0, t_eff)``, validation ``[t_eff, t_train)``, test ``[t_train, t_train + t_test)``;
- a gradient step simulates ``batch_size`` independent windows ``[s, s + window)`` with
  ``0 <= s < bout_offset``, so no training window touches validation or test minutes.

Window starts come from a sampler (``GradientDescentSettings.window_sampler``): ``reference``
(default) draws what the reference draws, from a JAX threefry key chain started at ``seed`` and
split once per iteration (``reference_legacy``: the same with the non-partitionable split);
``numpy`` draws from a NumPy generator keyed by (seed, iteration). All are pure functions of
(seed, iteration), so a resumed job draws the windows an uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import threading

import jax
import jax.numpy as jnp
import numpy as np

from quantamm.wire import fingerprints
from quantamm_api.v1 import types_pb2
from train_service.errors import invalid

EXPONENTIAL_RATE = 5.0  # later starts up to e^5 times likelier (sample_method "exponential")
N_EVALUATION_RANDOM = 20
N_EVALUATION_EVEN = 20


@dataclasses.dataclass(frozen=True)
class Layout:
    """Lengths in minutes: the training period, its validation tail, the window-start span and
    the test period (0: none)."""

    t_train: int
    val_len: int
    bout_offset: int
    t_test: int

    @property
    def t_eff(self) -> int:
        """Length of the training region before validation."""
        return self.t_train - self.val_len

    @property
    def window(self) -> int:
        """Length L of every training window."""
        return self.t_eff - self.bout_offset

    def periods(self, with_test: bool) -> list[tuple[str, int, int]]:
        """(name, start, end) of train, validation (if any) and test (if asked and present)."""
        periods = [("train", 0, self.t_eff)]
        if self.val_len:
            periods.append(("validation", self.t_eff, self.t_train))
        if with_test and self.t_test:
            periods.append(("test", self.t_train, self.t_train + self.t_test))
        return periods


def _minutes(later, earlier, field: str) -> int:
    seconds = later.ToSeconds() - earlier.ToSeconds()
    if seconds % 60 or later.nanos or earlier.nanos:
        raise invalid(field, "must be a whole number of minutes after the previous time")
    return seconds // 60


def layout(fp: types_pb2.RunFingerprint, bout_offset: int, val_fraction: float) -> Layout:
    """The run's layout; INVALID_ARGUMENT when validation is shorter than one chunk or no
    window length is left."""
    for name in ("start_time", "end_time"):
        if not fp.HasField(name):
            raise invalid(f"fingerprint.{name}", "required")
    t_train = _minutes(fp.end_time, fp.start_time, "fingerprint.end_time")
    if t_train < 2:
        raise invalid("fingerprint.end_time", "must be at least two minutes after start_time")
    t_test = 0
    if fp.HasField("end_test_time"):
        t_test = _minutes(fp.end_test_time, fp.end_time, "fingerprint.end_test_time")
        if t_test < 2:
            raise invalid("fingerprint.end_test_time",
                          "must be at least two minutes after end_time")
    chunk = int(fingerprints.setting(fp, "chunk_period"))
    val_len = math.floor(t_train * val_fraction)
    if val_fraction > 0 and val_len < chunk:
        raise invalid("settings.val_fraction", f"the validation period ({val_len} minutes) is "
                      f"shorter than one chunk ({chunk} minutes)")
    result = Layout(t_train, val_len, bout_offset, t_test)
    if result.window < 2:
        raise invalid("settings.bout_offset_minutes",
                      f"{bout_offset} minutes leave no window: the training region before "
                      f"validation is {result.t_eff} minutes (need bout_offset < t_eff - 1)")
    return result


def training_offsets(seed: int, iteration: int, batch_size: int, bout_offset: int,
                     method: str, sampler: str = "reference") -> np.ndarray:
    """[batch_size] int64 distinct window starts in [0, bout_offset) for one iteration.

    A function of its arguments alone (a resumed run draws the windows of an uninterrupted one).
    ``uniform``: without replacement; ``exponential``: without replacement, probability
    proportional to exp(5 i / bout_offset); ``stratified``: one uniform start in each of
    ``batch_size`` equal segments. ``sampler``: ``reference`` (the reference's draws: JAX threefry,
    partitionable split, the default of current JAX releases), ``reference_legacy`` (the same
    with the older non-partitionable split, which the reference's own test suite pins) or
    ``numpy``.
    """
    if sampler in _PARTITIONABLE:
        return _reference_offsets(seed, iteration, batch_size, bout_offset, method,
                                  _PARTITIONABLE[sampler])
    if sampler != "numpy":
        raise ValueError(f"unknown window sampler {sampler!r}")
    return _numpy_offsets(seed, iteration, batch_size, bout_offset, method)


def _numpy_offsets(seed: int, iteration: int, batch_size: int, bout_offset: int,
                   method: str) -> np.ndarray:
    """The ``numpy`` sampler: a generator keyed by (seed, iteration)."""
    rng = np.random.default_rng([seed, iteration])
    if method == "stratified":
        edges = np.linspace(0, bout_offset, batch_size + 1).astype(np.int64)
        return rng.integers(edges[:-1], edges[1:])
    weights = None
    if method == "exponential":
        weights = np.exp(EXPONENTIAL_RATE * np.arange(bout_offset) / bout_offset)
        weights /= weights.sum()
    return rng.choice(bout_offset, size=batch_size, replace=False, p=weights).astype(np.int64)


# window_sampler -> jax_threefry_partitionable of its draws.
_PARTITIONABLE = {"reference": True, "reference_legacy": False}


class _KeyChain:
    """The reference's key sequence: ``key = jax.random.key(seed)``, then per iteration
    ``key, subkey = split(key)``; iteration i draws with the i-th subkey. ``subkey`` is a pure
    function of (seed, iteration, partitionable); the last key reached per (seed, partitionable)
    is remembered only so that consecutive iterations cost one split each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reached: dict[tuple[int, bool], tuple[int, jax.Array]] = {}  # -> (i, key before i)

    def subkey(self, seed: int, iteration: int, partitionable: bool) -> jax.Array:
        """The subkey of ``iteration``; call inside the sampler's config context."""
        with self._lock:
            done, key = self._reached.get((seed, partitionable), (0, None))
            if key is None or done > iteration:
                done, key = 0, jax.random.key(seed)
            if iteration > done:
                key = _advance(key, iteration - done)
            key, subkey = jax.random.split(key)
            self._reached[(seed, partitionable)] = (iteration + 1, key)
            if len(self._reached) > 64:  # many seeds (tests, searches): keep the newest
                self._reached.pop(next(iter(self._reached)))
            return subkey


@jax.jit
def _advance(key: jax.Array, n: jax.Array) -> jax.Array:
    """``key`` after ``n`` iterations' splits (the partitionable flag is part of jit's cache
    key, so each setting gets its own compilation)."""
    return jax.lax.fori_loop(0, n, lambda _, k: jax.random.split(k)[0], key)


_CHAIN = _KeyChain()


@functools.partial(jax.jit, static_argnames=("batch_size", "bout_offset", "method"))
def _reference_draw(subkey: jax.Array, batch_size: int, bout_offset: int,
                    method: str) -> jax.Array:
    """Window starts [batch_size] drawn with ``subkey`` as the reference draws them (compiled
    once per shape, method and flags: the flags are part of jit's cache key)."""
    if method == "stratified":
        edges = jnp.linspace(0, bout_offset, batch_size + 1).astype(jnp.int64)
        sizes = jnp.maximum(edges[1:] - edges[:-1], 1)
        return edges[:-1] + jax.random.randint(subkey, (batch_size,), 0, sizes, dtype=jnp.int64)
    weights = None
    if method == "exponential":
        weights = jnp.exp(EXPONENTIAL_RATE * jnp.arange(bout_offset) / bout_offset)
        weights = weights / jnp.sum(weights)
    return jax.random.choice(subkey, bout_offset, shape=(batch_size,), replace=False, p=weights)


def _reference_offsets(seed: int, iteration: int, batch_size: int, bout_offset: int,
                       method: str, partitionable: bool) -> np.ndarray:
    """The reference's draws for one iteration (its training loop runs with float64 enabled,
    which the exponential and stratified draws depend on)."""
    with jax.threefry_partitionable(partitionable), jax.enable_x64(True):
        subkey = _CHAIN.subkey(seed, iteration, partitionable)
        return np.asarray(_reference_draw(subkey, batch_size, bout_offset, method),
                          dtype=np.int64)


def evaluation_offsets(seed: int, bout_offset: int) -> np.ndarray:
    """Sorted distinct window starts in [0, bout_offset) of the gradient-free evaluation: 20
    uniform random ones and 20 evenly spaced ones (up to 40 windows, fixed per seed)."""
    rng = np.random.default_rng(seed)
    random = rng.integers(0, bout_offset, N_EVALUATION_RANDOM)
    even = np.linspace(0, bout_offset - 1, N_EVALUATION_EVEN).astype(np.int64)
    return np.unique(np.concatenate([random, even]))
