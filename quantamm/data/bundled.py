"""The bundled default dataset: packaged daily closes, bridged to minutes by a seeded
log-Brownian bridge (tests/vectors/README.md, "The price series").

The minute array is generated on first use (about a second) and cached on disk as a ``.npy``
(float64 [T, n_tokens]) in ``cache_dir``, env ``QUANTAMM_CACHE_DIR``, or ``~/.cache/quantamm``.

The CSV has no XRP closes after 2024-06-01 and no PAXG closes after 2024-09-01: their minute
columns are NaN after their last close, and a series that includes them ends there. The default
series is BTC, ETH, SOL, USDC over the whole span, the reference vectors' series.
"""

from __future__ import annotations

import functools
import os
import pathlib
import tempfile
from collections.abc import Sequence
from importlib import resources

import numpy as np
import pandas as pd
import structlog

from quantamm.data.errors import DataError, UnknownTokenError
from quantamm.data.prices import MS_PER_MINUTE, PriceSeries

log = structlog.get_logger(__name__)

CSV_NAME = "daily_close_2021-06_2024-12.csv"
SEED = 20261122
MINUTES_PER_DAY = 1440
CACHE_VERSION = 1
CACHE_ENV = "QUANTAMM_CACHE_DIR"


def daily_closes() -> pd.DataFrame:
    """The packaged daily closes: float64 [1308, 6] USD, indexed by ``unix_ms`` (int64, UTC
    midnights), columns BTC, ETH, SOL, USDC, XRP, PAXG; NaN where a token has no close."""
    with resources.files(__package__).joinpath(CSV_NAME).open("rb") as handle:
        frame = pd.read_csv(handle, index_col="unix_ms")
    return frame.drop(columns="date_utc").astype(np.float64)


def bridge_sigma(closes: np.ndarray) -> float:
    """Per-minute volatility: population std of the daily log returns of ``closes`` [D + 1]
    (over the days with both closes), divided by sqrt(1440)."""
    returns = np.log(closes[1:] / closes[:-1])
    return float(returns[np.isfinite(returns)].std() / np.sqrt(MINUTES_PER_DAY))


def bridge_asset(closes: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Minute prices [D * 1440 + 1] of one asset from its daily closes [D + 1] and standard
    normals [D, 1440]; the day starts and the last minute are the closes themselves.

    ln p[d, j] = (1 - j/1440) ln c[d] + (j/1440) ln c[d+1] + sigma (W_j - (j/1440) W_1440), with
    W_j the sequential cumulative sum of the first j normals of day d. The evaluation order here
    is the one that reproduces the reference vectors bit for bit.
    """
    fraction = np.arange(MINUTES_PER_DAY) / MINUTES_PER_DAY
    log_closes = np.log(closes)
    walk = np.cumsum(normals, axis=1)
    walk_before = np.zeros_like(walk)
    walk_before[:, 1:] = walk[:, :-1]
    log_prices = (
        (1 - fraction) * log_closes[:-1, None]
        + fraction * log_closes[1:, None]
        + bridge_sigma(closes) * (walk_before - fraction * walk[:, -1:])
    )
    prices = np.empty(log_prices.size + 1)
    np.exp(log_prices.ravel(), out=prices[:-1])
    prices[::MINUTES_PER_DAY] = closes
    return prices


def generate_minute_prices(closes: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Minute prices float64 [D * 1440 + 1, n] from daily closes [D + 1, n]: one generator,
    one ``standard_normal((D, 1440))`` draw per asset in column order."""
    n_days = closes.shape[0] - 1
    rng = np.random.default_rng(seed=seed)
    prices = np.empty((n_days * MINUTES_PER_DAY + 1, closes.shape[1]))
    for column in range(closes.shape[1]):
        normals = rng.standard_normal((n_days, MINUTES_PER_DAY))
        prices[:, column] = bridge_asset(closes[:, column], normals)
    return prices


def default_cache_dir() -> pathlib.Path:
    """``$QUANTAMM_CACHE_DIR`` if set, else ``~/.cache/quantamm``."""
    return pathlib.Path(os.environ.get(CACHE_ENV) or pathlib.Path.home() / ".cache" / "quantamm")


def cache_path(cache_dir: str | os.PathLike | None = None) -> pathlib.Path:
    """Absolute path of the cached minute array in ``cache_dir`` (default: default_cache_dir)."""
    directory = pathlib.Path(cache_dir) if cache_dir is not None else default_cache_dir()
    name = f"bundled_minute_prices_v{CACHE_VERSION}_seed{SEED}.npy"
    return (directory.expanduser() / name).resolve()


def _matches(array: np.ndarray, closes: np.ndarray) -> bool:
    """Whether a cached array fits ``closes`` [D + 1, n]: shape, dtype and the day starts."""
    shape = ((closes.shape[0] - 1) * MINUTES_PER_DAY + 1, closes.shape[1])
    return (
        array.shape == shape
        and array.dtype == np.float64
        and np.array_equal(array[::MINUTES_PER_DAY], closes, equal_nan=True)
    )


def _read_cache(path: pathlib.Path, closes: np.ndarray) -> np.ndarray | None:
    """The cached array at ``path`` if it exists and fits ``closes``, else None."""
    if not path.exists():
        return None
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        log.warning("bundled_cache_unreadable", path=str(path), error=str(error))
        return None
    if not _matches(array, closes):
        log.warning("bundled_cache_stale", path=str(path), shape=array.shape)
        return None
    return array


def _write_cache(path: pathlib.Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` atomically (temp file + rename); a failure only warns."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                np.save(file, array)
            os.chmod(temp_name, 0o644)
            os.replace(temp_name, path)
        except BaseException:
            os.unlink(temp_name)
            raise
    except OSError as error:
        log.warning("bundled_cache_not_written", path=str(path), error=str(error))


@functools.lru_cache(maxsize=1)
def _closes() -> tuple[tuple[str, ...], int, np.ndarray]:
    """(tokens, unix ms of the first close, read-only closes float64 [D + 1, n]) of the CSV."""
    frame = daily_closes()
    closes = frame.to_numpy()
    closes.setflags(write=False)
    return tuple(frame.columns), int(frame.index[0]), closes


@functools.lru_cache(maxsize=2)
def _minute_array(path: pathlib.Path) -> np.ndarray:
    """The full bundled minute array (read-only, float64 [T, 6], NaN where a token has no data),
    read from the cache at ``path`` or generated and cached there."""
    closes = _closes()[2]
    array = _read_cache(path, closes)
    if array is None:
        array = generate_minute_prices(closes)
        _write_cache(path, array)
    array.setflags(write=False)
    return array


def bundled_minute_prices(
    cache_dir: str | os.PathLike | None = None, *, tokens: Sequence[str] | None = None
) -> PriceSeries:
    """The bundled minute series of ``tokens``, columns in that order, from 2021-06-01 00:00 UTC
    (start_unix_ms 1622505600000) to the last minute at which every requested token has a
    price: 2024-12-29 00:00 (1 882 081 minutes) for BTC, ETH, SOL, USDC; 2024-06-01 with XRP,
    2024-09-01 with PAXG.

    ``tokens`` None: the tokens with a close on every day (BTC, ETH, SOL, USDC), i.e. exactly
    the reference vectors' series.
    """
    available, first_close_ms, closes = _closes()
    if tokens is None:
        complete = np.isfinite(closes).all(axis=0)
        wanted = tuple(t for t, full in zip(available, complete, strict=True) if full)
    else:
        wanted = tuple(tokens)
    for token in wanted:
        if token not in available:
            raise UnknownTokenError(token, available)
    columns = [available.index(t) for t in wanted]
    days = np.flatnonzero(np.isfinite(closes[:, columns]).all(axis=1))
    if not days.size:
        raise DataError("tokens", f"the bundled data has no day with closes for all {wanted}")
    first, last = days[0] * MINUTES_PER_DAY, days[-1] * MINUTES_PER_DAY + 1
    array = _minute_array(cache_path(cache_dir))
    start = first_close_ms + int(first) * MS_PER_MINUTE
    return PriceSeries(wanted, start, array[first:last, columns])
