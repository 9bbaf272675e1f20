"""Per-minute simulation inputs from tables: fees / gas / arb-fee series and trade lists.

A series table has a time column (``unix``, ``unix_timestamp`` or ``timestamp``, unix ms) or a
time index and one value column. On the window's minute grid each minute takes the last value
at or before it; minutes before the first row take the first value. Unlike the reference, a value
of exactly 0 is a value (the reference's fill treats it as missing, so "fees drop to 0" could not
be expressed).

A trade table has columns unix time (ms), token_in, token_out, amount_in (token-in units), as the
reference's ``raw_trades``. Trades off the minute grid or outside the window are dropped, the
last trade of a minute wins, and an unknown token is an error (the reference silently maps it to
the first token).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from quantamm.data.errors import DataError
from quantamm.data.prices import MS_PER_MINUTE

TIME_COLUMNS = ("unix", "unix_timestamp", "timestamp", "unix_ms")


def times_and_values(table: pd.DataFrame, field: str) -> tuple[np.ndarray, np.ndarray]:
    """(unix ms [K] int64, values [K] float64) of a series table, in its row order."""
    if not isinstance(table, pd.DataFrame):
        raise DataError(field, f"must be a pandas DataFrame, got {type(table).__name__}")
    time_column = next((c for c in TIME_COLUMNS if c in table.columns), None)
    times = table[time_column] if time_column else table.index.to_series()
    values = table.drop(columns=[time_column]) if time_column else table
    if values.shape[1] != 1:
        raise DataError(field, f"needs one value column besides the time, got {list(values.columns)}")
    return np.asarray(times, dtype=np.int64), np.asarray(values.iloc[:, 0], dtype=np.float64)


def values_on_grid(times: np.ndarray, values: np.ndarray, first_unix_ms: int, n_minutes: int,
                   field: str) -> np.ndarray:
    """Values [n_minutes] of a series (unix ms [K], values [K], any order) on the grid
    first_unix_ms + 60000 i: each minute the last value at or before it."""
    if times.size == 0:
        raise DataError(field, "the table is empty")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise DataError(field, "values must be finite and >= 0")
    order = np.argsort(times, kind="stable")
    grid = first_unix_ms + MS_PER_MINUTE * np.arange(n_minutes, dtype=np.int64)
    index = np.searchsorted(times[order], grid, side="right") - 1
    return values[order][np.maximum(index, 0)]


def series_on_grid(table: pd.DataFrame, first_unix_ms: int, n_minutes: int, field: str):
    """Values [n_minutes] of a series table on the grid first_unix_ms + 60000 i."""
    return values_on_grid(*times_and_values(table, field), first_unix_ms, n_minutes, field)


def trade_rows_on_grid(times: np.ndarray, token_in: Sequence[str], token_out: Sequence[str],
                       amounts: np.ndarray, tokens: Sequence[str], first_unix_ms: int,
                       n_minutes: int, field: str = "raw_trades") -> np.ndarray:
    """Trades [n_minutes, 3] = (token-in index, token-out index, amount in; 0 = no trade) from
    trade columns [K] each."""
    trades = np.zeros((n_minutes, 3))
    for token in set(token_in) | set(token_out):
        if token not in tokens:
            raise DataError(field, f"unknown token {token!r}; the pool holds {list(tokens)}")
    offset = np.asarray(times, dtype=np.int64) - first_unix_ms
    row = offset // MS_PER_MINUTE
    keep = (offset % MS_PER_MINUTE == 0) & (row >= 0) & (row < n_minutes)
    position = {token: i for i, token in enumerate(tokens)}
    for r, t_in, t_out, amount in zip(row[keep], np.asarray(token_in, dtype=object)[keep],
                                      np.asarray(token_out, dtype=object)[keep],
                                      np.asarray(amounts)[keep], strict=True):
        trades[r] = (position[t_in], position[t_out], float(amount))
    return trades


def trades_on_grid(
    raw_trades: pd.DataFrame, tokens: Sequence[str], first_unix_ms: int, n_minutes: int
) -> np.ndarray:
    """Trades [n_minutes, 3] of a trade table (unix ms, token_in, token_out, amount_in)."""
    if len(raw_trades) == 0:
        return np.zeros((n_minutes, 3))
    table = raw_trades.iloc[:, :4]
    return trade_rows_on_grid(table.iloc[:, 0].to_numpy(np.int64), list(table.iloc[:, 1]),
                              list(table.iloc[:, 2]), table.iloc[:, 3].to_numpy(np.float64),
                              tokens, first_unix_ms, n_minutes)
