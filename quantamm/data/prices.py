"""``PriceSeries``: minute close prices of several tokens on one grid of consecutive minutes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantamm.data.errors import BadPriceError, DataError, DataRangeError, UnknownTokenError

MS_PER_MINUTE = 60_000


def bad_prices(prices: np.ndarray) -> np.ndarray:
    """Mask (bool, same shape as ``prices``) of the prices that are NaN, infinite or <= 0."""
    return ~((prices > 0) & (prices < np.inf))


def first_bad_price(prices: np.ndarray) -> tuple[int, int] | None:
    """(row, column) of the earliest price that is NaN, infinite or <= 0, or None.

    ``prices`` is float64 [T, n]; ties within a row go to the lowest column.
    """
    bad = bad_prices(prices)
    if not bad.any():
        return None
    row, column = np.unravel_index(int(np.argmax(bad)), prices.shape)
    return int(row), int(column)


@dataclass(frozen=True, eq=False)
class PriceSeries:
    """Minute close prices of several tokens on one grid of consecutive minutes.

    ``prices`` is float64 [T, n] (USD per token unit), row i = minute
    ``start_unix_ms + i * 60_000``; column j belongs to ``tokens[j]``. The array is stored as a
    read-only view; the series never copies what it is given, so do not modify it afterwards.
    """

    tokens: tuple[str, ...]
    start_unix_ms: int
    prices: np.ndarray

    def __post_init__(self) -> None:
        tokens = tuple(self.tokens)
        if not tokens or not all(isinstance(t, str) and t for t in tokens):
            raise DataError("tokens", f"tokens must be non-empty names, got {list(tokens)}")
        if len(set(tokens)) != len(tokens):
            raise DataError("tokens", f"tokens must be unique, got {list(tokens)}")
        start = int(self.start_unix_ms)
        if start % MS_PER_MINUTE:
            raise DataError("start", f"start_unix_ms {start} is not a whole minute")
        prices = np.asarray(self.prices, dtype=np.float64)
        if prices.ndim != 2 or prices.shape[0] == 0 or prices.shape[1] != len(tokens):
            raise DataError(
                "prices",
                f"prices must be [T >= 1, {len(tokens)}] for tokens {list(tokens)}, "
                f"got shape {prices.shape}",
            )
        bad = first_bad_price(prices)
        if bad is not None:
            row, column = bad
            raise BadPriceError(tokens[column], start + row * MS_PER_MINUTE, prices[row, column])
        view = prices.view()
        view.setflags(write=False)
        object.__setattr__(self, "tokens", tokens)
        object.__setattr__(self, "start_unix_ms", start)
        object.__setattr__(self, "prices", view)

    @property
    def n_minutes(self) -> int:
        """Number of rows T."""
        return int(self.prices.shape[0])

    @property
    def end_unix_ms(self) -> int:
        """Unix ms of the last row."""
        return self.unix_ms_at(self.n_minutes - 1)

    def index_of(self, unix_ms: int, field: str = "start") -> int:
        """Row of the minute ``unix_ms``; DataRangeError (naming ``field``) when it is off the
        grid or outside the data."""
        offset = int(unix_ms) - self.start_unix_ms
        row, remainder = divmod(offset, MS_PER_MINUTE)
        if remainder or not 0 <= row < self.n_minutes:
            raise DataRangeError(field, int(unix_ms), self.start_unix_ms, self.end_unix_ms)
        return row

    def unix_ms_at(self, index: int) -> int:
        """Unix ms of row ``index`` (0 <= index < T)."""
        if not 0 <= index < self.n_minutes:
            raise IndexError(f"row {index} outside 0 .. {self.n_minutes - 1}")
        return self.start_unix_ms + int(index) * MS_PER_MINUTE

    def select(self, tokens: Sequence[str]) -> PriceSeries:
        """The series of ``tokens``, columns in that order (a copy unless it is all columns in
        the same order); UnknownTokenError for a token not in the series."""
        wanted = tuple(tokens)
        if wanted == self.tokens:
            return self
        missing = [t for t in wanted if t not in self.tokens]
        if missing:
            raise UnknownTokenError(missing[0], self.tokens)
        columns = [self.tokens.index(t) for t in wanted]
        return PriceSeries(wanted, self.start_unix_ms, self.prices[:, columns])

    def slice_rows(self, first: int, last_exclusive: int) -> PriceSeries:
        """Rows ``first .. last_exclusive - 1`` as a series (a view, no copy)."""
        if not 0 <= first < last_exclusive <= self.n_minutes:
            raise IndexError(f"rows {first}:{last_exclusive} outside 0:{self.n_minutes}")
        return PriceSeries(self.tokens, self.unix_ms_at(first), self.prices[first:last_exclusive])

    def to_dataframe(self) -> pd.DataFrame:
        """The reference simulator's ``price_data``: a (writable) DataFrame indexed by unix ms
        (int64, named ``unix``) with columns ``close_<TOKEN>``."""
        unix = self.start_unix_ms + MS_PER_MINUTE * np.arange(self.n_minutes, dtype=np.int64)
        return pd.DataFrame(
            self.prices.copy(),
            index=pd.Index(unix, name="unix"),
            columns=[f"close_{t}" for t in self.tokens],
        )
