"""Price series from user data: a folder of per-token files, or an in-memory DataFrame / array.

Every loader returns a float64 ``PriceSeries`` on a grid of consecutive minutes. Coarser data
(hourly, daily) and gaps are forward-filled: a minute's price is the last close observed at or
before it.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import structlog

from quantamm.data.errors import BadPriceError, DataError, DataRangeError, UnknownTokenError
from quantamm.data.prices import MS_PER_MINUTE, PriceSeries, bad_prices

log = structlog.get_logger(__name__)

SUFFIXES = (".parquet", ".csv")
NUMERIC_TIME_COLUMNS = ("unix", "unix_ms", "timestamp")
DATE_COLUMNS = ("date", "datetime")
SECONDS_BELOW = 1e11
"""Numeric timestamps whose largest magnitude is below this are seconds (1e11 s is the year
5138; 1e11 ms is 1973), otherwise milliseconds."""


def sorted_last_wins(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort rows by time (stable) and keep the last row of each repeated time.

    ``times`` int64 [k], ``values`` [k, ...]; returns strictly increasing times and their rows.
    Already strictly increasing times (the usual case) are returned as they are, with no sort
    or copy: linear time.
    """
    if times.size < 2 or bool(np.all(times[1:] > times[:-1])):
        return times, values
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    keep = np.append(times[1:] != times[:-1], True)
    return times[keep], values[keep]


def forward_fill(times: np.ndarray, values: np.ndarray, first: int, last: int) -> np.ndarray:
    """Values on the minute grid ``first .. last`` (unix ms, inclusive): each minute takes the
    row of the latest time <= it. ``times`` int64 [k] strictly increasing with
    ``times[0] <= first``; ``values`` [k, ...]; returns [(last - first) / 60000 + 1, ...]."""
    grid = np.arange(first, last + 1, MS_PER_MINUTE, dtype=np.int64)
    return values[np.searchsorted(times, grid, side="right") - 1]


def check_raw_prices(tokens: Sequence[str], times: np.ndarray, values: np.ndarray) -> None:
    """BadPriceError for the earliest (by time, then row, then column) NaN, infinite or
    non-positive value; ``times`` int64 [k] unix ms in any order, ``values`` float64
    [k, len(tokens)]."""
    bad = bad_prices(values)
    rows = np.flatnonzero(bad.any(axis=1))
    if rows.size:
        row = rows[np.argmin(times[rows])]
        column = int(np.argmax(bad[row]))
        raise BadPriceError(tokens[column], int(times[row]), values[row, column])


def _column(frame: pd.DataFrame, names: Sequence[str]) -> str | None:
    """The first column of ``frame`` whose name equals one of ``names`` (case-insensitive)."""
    by_lower = {str(c).lower(): c for c in frame.columns}
    return next((by_lower[n] for n in names if n in by_lower), None)


def _numeric_ms(values: np.ndarray) -> np.ndarray:
    """Unix ms int64 [k] from float64 unix seconds or milliseconds [k] (told apart by the
    largest magnitude)."""
    scale = 1000 if np.abs(values).max() < SECONDS_BELOW else 1
    return np.round(values * scale).astype(np.int64)


def _parsed_ms(column: pd.Series, source: str) -> np.ndarray:
    """Unix ms int64 from date strings or datetimes (naive ones are UTC)."""
    try:
        stamps = pd.to_datetime(column, utc=True)
    except (ValueError, TypeError) as error:
        raise DataError("prices", f"{source}: cannot parse the times: {error}") from error
    if stamps.isna().any():
        raise DataError("prices", f"{source}: missing or unparseable times")
    return stamps.dt.tz_localize(None).to_numpy("datetime64[ms]").astype(np.int64)


def timestamps_ms(frame: pd.DataFrame, source: str) -> np.ndarray:
    """Unix ms int64 [k] of a file's rows, from a ``unix`` / ``unix_ms`` / ``timestamp`` column
    (unix s or ms, or datetimes) or a ``date`` / ``datetime`` column; ``source`` names the file
    in errors."""
    name = _column(frame, NUMERIC_TIME_COLUMNS + DATE_COLUMNS)
    if name is None:
        raise DataError(
            "prices",
            f"{source}: no time column (one of {', '.join(NUMERIC_TIME_COLUMNS + DATE_COLUMNS)})",
        )
    column = frame[name]
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        if column.isna().any():
            raise DataError("prices", f"{source}: missing times in column {name!r}")
        return _numeric_ms(column.to_numpy(np.float64))
    return _parsed_ms(column, source)


def _read_table(path: pathlib.Path) -> pd.DataFrame:
    """A parquet or CSV file as a DataFrame, with a named index turned into a column."""
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    return frame.reset_index() if frame.index.name is not None else frame


def _file_token(path: pathlib.Path) -> str:
    """The token a file name stands for: ``BTC.csv`` and ``BTC_USD.parquet`` -> ``BTC``."""
    return path.stem.split("_", 1)[0]


def find_token_file(files: Sequence[pathlib.Path], token: str) -> pathlib.Path:
    """The file of ``token`` among ``files``: ``<TOKEN>.parquet``, else ``<TOKEN>.csv``, else the
    only ``<TOKEN>_<anything>.parquet/.csv``. UnknownTokenError when there is none, DataError
    when several prefixed files compete."""
    by_name = {f.name: f for f in files}
    for suffix in SUFFIXES:
        if token + suffix in by_name:
            return by_name[token + suffix]
    prefixed = sorted(f for f in files if f.name.startswith(token + "_"))
    if len(prefixed) > 1:
        names = ", ".join(f.name for f in prefixed)
        raise DataError("tokens", f"several price files for {token}: {names}")
    if not prefixed:
        raise UnknownTokenError(token, sorted({_file_token(f) for f in files}))
    return prefixed[0]


def read_token_file(path: pathlib.Path, token: str) -> tuple[np.ndarray, np.ndarray]:
    """(minute times int64 [k] strictly increasing, closes float64 [k]) of one price file.

    Each row counts for the minute containing it; within a minute the latest row wins. Bad
    closes in the raw rows raise BadPriceError.
    """
    frame = _read_table(path)
    close = _column(frame, ("close",))
    if close is None:
        raise DataError("prices", f"{path.name}: no close column")
    if frame.empty:
        raise DataError("prices", f"{path.name}: no rows")
    times = timestamps_ms(frame, path.name)
    closes = pd.to_numeric(frame[close], errors="coerce").to_numpy(np.float64)
    check_raw_prices((token,), times, closes[:, None])
    return sorted_last_wins(times - times % MS_PER_MINUTE, closes)


def load_price_folder(folder: str | os.PathLike, tokens: Sequence[str]) -> PriceSeries:
    """Minute series of ``tokens`` from per-token files in ``folder``, over the span all tokens
    cover (latest first minute .. earliest last minute), forward-filled."""
    if not tokens:
        raise DataError("tokens", "no tokens requested")
    directory = pathlib.Path(folder)
    if not directory.is_dir():
        raise DataError("root", f"price folder {str(folder)!r} does not exist")
    files = [f for f in directory.iterdir() if f.suffix in SUFFIXES and f.is_file()]
    series = [read_token_file(find_token_file(files, t), t) for t in tokens]
    first = max(int(times[0]) for times, _ in series)
    last = min(int(times[-1]) for times, _ in series)
    if first > last:
        raise DataError("tokens", f"the price files of {', '.join(tokens)} do not overlap in time")
    columns = [forward_fill(times, closes, first, last) for times, closes in series]
    return PriceSeries(tuple(tokens), first, np.stack(columns, axis=1))


def _frame_columns(frame: pd.DataFrame, tokens: Sequence[str]) -> list[str]:
    """Column of each token in a price_data frame: ``close_<TOKEN>``, else ``<TOKEN>``."""
    available = [str(c).removeprefix("close_") for c in frame.columns]
    columns = []
    for token in tokens:
        name = next((n for n in (f"close_{token}", token) if n in frame.columns), None)
        if name is None:
            raise UnknownTokenError(token, available)
        columns.append(name)
    return columns


def _index_ms(index: pd.Index) -> np.ndarray:
    """Unix ms int64 of a frame's index: integers (unix ms) or datetimes (naive = UTC)."""
    if isinstance(index, pd.DatetimeIndex):
        naive = index.tz_convert(None) if index.tz is not None else index
        return naive.to_numpy("datetime64[ms]").astype(np.int64)
    if not pd.api.types.is_numeric_dtype(index):
        raise DataError("prices", f"price_data must be indexed by unix ms, got {index.dtype}")
    return np.round(index.to_numpy(np.float64)).astype(np.int64)


def _from_frame(frame: pd.DataFrame, tokens: Sequence[str]) -> PriceSeries:
    """PriceSeries from a frame indexed by unix ms with ``close_<TOKEN>`` or ``<TOKEN>``
    columns; duplicate minutes keep the last row, gaps are forward-filled with a warning."""
    if frame.empty:
        raise DataError("prices", "price_data has no rows")
    times = _index_ms(frame.index)
    values = frame[_frame_columns(frame, tokens)].to_numpy(np.float64)
    check_raw_prices(tokens, times, values)
    times, values = sorted_last_wins(times, values)
    off_grid = np.flatnonzero(times % MS_PER_MINUTE)
    if off_grid.size:
        raise DataRangeError("prices", int(times[off_grid[0]]), int(times[0]), int(times[-1]))
    n_minutes = (int(times[-1]) - int(times[0])) // MS_PER_MINUTE + 1
    if n_minutes != times.size:
        log.warning(
            "price_gaps_filled",
            filled_minutes=n_minutes - times.size,
            gaps=int(np.count_nonzero(np.diff(times) != MS_PER_MINUTE)),
        )
        values = forward_fill(times, values, int(times[0]), int(times[-1]))
    return PriceSeries(tuple(tokens), int(times[0]), values)


def from_price_data(
    price_data: Any, tokens: Sequence[str], start_unix_ms: int | None = None
) -> PriceSeries:
    """PriceSeries from in-memory prices.

    Args:
      price_data: a DataFrame indexed by unix ms with ``close_<TOKEN>`` (or ``<TOKEN>``)
        columns, rows consecutive minutes once sorted (duplicates keep the last, gaps are
        forward-filled with a warning); or an array [T, len(tokens)] of USD prices per minute,
        columns in ``tokens`` order (copied).
      tokens: the tokens wanted, in column order of the result.
      start_unix_ms: unix ms of the array's row 0; required for an array, not for a DataFrame.
    """
    if isinstance(price_data, pd.DataFrame):
        if start_unix_ms is not None:
            raise DataError("start", "start_unix_ms is for arrays; a DataFrame has its own index")
        return _from_frame(price_data, tokens)
    if start_unix_ms is None:
        raise DataError("start", "start_unix_ms is required with an array of prices")
    return PriceSeries(tuple(tokens), start_unix_ms, np.array(price_data, dtype=np.float64))
