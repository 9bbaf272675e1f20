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

from sim_service.data.errors import DataError
from sim_service.data.prices import MS_PER_MINUTE

TIME_COLUMNS = ("unix", "unix_timestamp", "timestamp", "unix_ms")


def times_and_values(table: pd.DataFrame, field: str) -> tuple[np.ndarray, np.ndarray]:
    """(unix ms [K] int64, values [K] float64) of a series table, sorted by time."""
    if not isinstance(table, pd.DataFrame):
        raise DataError(field, f"must be a pandas DataFrame, got {type(table).__name__}")
    time_column = next((c for c in TIME_COLUMNS if c in table.columns), None)
    times = table[time_column] if time_column else table.index.to_series()
    values = table.drop(columns=[time_column]) if time_column else table
    if values.shape[1] != 1:
        raise DataError(field, f"needs one value column besides the time, got {list(values.columns)}")
    times = np.asarray(times, dtype=np.int64)
    values = np.asarray(values.iloc[:, 0], dtype=np.float64)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise DataError(field, "values must be finite and >= 0")
    order = np.argsort(times, kind="stable")
    return times[order], values[order]


def series_on_grid(table: pd.DataFrame, first_unix_ms: int, n_minutes: int, field: str):
    """Values [n_minutes] of a series table on the grid first_unix_ms + 60000 i."""
    times, values = times_and_values(table, field)
    if times.size == 0:
        raise DataError(field, "the table is empty")
    grid = first_unix_ms + MS_PER_MINUTE * np.arange(n_minutes, dtype=np.int64)
    index = np.searchsorted(times, grid, side="right") - 1
    return values[np.maximum(index, 0)]


def trades_on_grid(
    raw_trades: pd.DataFrame, tokens: Sequence[str], first_unix_ms: int, n_minutes: int
) -> np.ndarray:
    """Trades [n_minutes, 3] = (token-in index, token-out index, amount in; 0 = no trade)."""
    trades = np.zeros((n_minutes, 3))
    if len(raw_trades) == 0:
        return trades
    table = raw_trades.iloc[:, :4]
    table.columns = ["unix", "token_in", "token_out", "amount_in"]
    for token in set(table["token_in"]) | set(table["token_out"]):
        if token not in tokens:
            raise DataError("raw_trades", f"unknown token {token!r}; the pool holds {list(tokens)}")
    offset = table["unix"].to_numpy(np.int64) - first_unix_ms
    row = offset // MS_PER_MINUTE
    keep = (offset % MS_PER_MINUTE == 0) & (row >= 0) & (row < n_minutes)
    position = {token: i for i, token in enumerate(tokens)}
    for r, t_in, t_out, amount in zip(
        row[keep], table["token_in"][keep], table["token_out"][keep],
        table["amount_in"][keep], strict=True,
    ):
        trades[r] = (position[t_in], position[t_out], float(amount))
    return trades
