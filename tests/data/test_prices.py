"""PriceSeries (quantamm.data.prices): bad and malformed series refused, the minute grid,
selection, slicing and the reference's DataFrame format."""

from __future__ import annotations

import numpy as np
import pytest

from quantamm.data import BadPriceError, DataError, DataRangeError, PriceSeries, UnknownTokenError
from tests.data.conftest import MINUTE, T0, small_series


@pytest.mark.parametrize("bad", [np.nan, 0.0, -3.0, np.inf])
def test_bad_price_rejected(bad: float) -> None:
    prices = np.full((4, 2), 5.0)
    prices[2, 1] = bad
    with pytest.raises(BadPriceError) as info:
        PriceSeries(("BTC", "ETH"), T0, prices)
    error = info.value
    assert error.field == "prices"
    assert (error.token, error.unix_ms) == ("ETH", T0 + 2 * MINUTE)
    assert "ETH" in str(error) and "2023-01-01T00:02:00Z" in str(error)
    assert repr(float(bad)) in str(error)


def test_first_bad_price_is_the_earliest() -> None:
    prices = np.full((5, 2), 5.0)
    prices[3, 0] = np.nan
    prices[1, 1] = -1.0
    with pytest.raises(BadPriceError) as info:
        PriceSeries(("BTC", "ETH"), T0, prices)
    assert (info.value.token, info.value.unix_ms, info.value.value) == ("ETH", T0 + MINUTE, -1.0)


@pytest.mark.parametrize(
    ("tokens", "start", "prices", "field"),
    [
        (("BTC", "BTC"), T0, np.ones((2, 2)), "tokens"),
        ((), T0, np.ones((2, 0)), "tokens"),
        (("BTC", ""), T0, np.ones((2, 2)), "tokens"),
        (("BTC", "ETH"), T0, np.ones((2, 3)), "prices"),
        (("BTC",), T0, np.ones(3), "prices"),
        (("BTC",), T0, np.ones((0, 1)), "prices"),
        (("BTC",), T0 + 1, np.ones((2, 1)), "start"),
    ],
)
def test_malformed_series_rejected(
    tokens: tuple[str, ...], start: int, prices: np.ndarray, field: str
) -> None:
    with pytest.raises(DataError) as info:
        PriceSeries(tokens, start, prices)
    assert info.value.field == field


def test_series_grid() -> None:
    series = small_series()
    assert series.n_minutes == 3
    assert series.end_unix_ms == T0 + 2 * MINUTE
    assert series.index_of(T0 + 2 * MINUTE) == 2
    assert series.unix_ms_at(1) == T0 + MINUTE
    with pytest.raises(IndexError):
        series.unix_ms_at(3)
    assert series.prices.dtype == np.float64
    with pytest.raises(ValueError):
        series.prices[0, 0] = 1.0


def test_series_does_not_lock_the_callers_array() -> None:
    prices = np.ones((2, 1))
    PriceSeries(("BTC",), T0, prices)
    prices[0, 0] = 2.0
    assert prices.flags.writeable


def test_index_of_off_grid_and_out_of_range() -> None:
    series = small_series()
    with pytest.raises(DataRangeError) as info:
        series.index_of(T0 + 30_000, field="end")
    assert info.value.field == "end"
    assert "2023-01-01T00:00:30Z" in str(info.value) and "not a whole minute" in str(info.value)
    with pytest.raises(DataRangeError) as info:
        series.index_of(T0 - MINUTE)
    assert info.value.field == "start"
    assert "outside" in str(info.value) and "2023-01-01T00:02:00Z" in str(info.value)
    with pytest.raises(DataRangeError):
        series.index_of(T0 + 3 * MINUTE)


def test_select_and_slice() -> None:
    series = small_series()
    picked = series.select(["USDC", "BTC"])
    assert picked.tokens == ("USDC", "BTC")
    np.testing.assert_array_equal(picked.prices, [[1.0, 100.0], [1.0, 101.0], [0.99, 102.0]])
    assert series.select(("BTC", "ETH", "USDC")) is series
    with pytest.raises(UnknownTokenError) as info:
        series.select(["BTC", "SOL"])
    assert info.value.field == "tokens" and info.value.token == "SOL"
    assert "BTC, ETH, USDC" in str(info.value)

    tail = series.slice_rows(1, 3)
    assert tail.start_unix_ms == T0 + MINUTE
    np.testing.assert_array_equal(tail.prices, series.prices[1:])
    with pytest.raises(IndexError):
        series.slice_rows(2, 4)


def test_to_dataframe_is_the_reference_format() -> None:
    frame = small_series().to_dataframe()
    assert frame.index.name == "unix" and frame.index.dtype == np.int64
    assert list(frame.index) == [T0, T0 + MINUTE, T0 + 2 * MINUTE]
    assert list(frame.columns) == ["close_BTC", "close_ETH", "close_USDC"]
    assert frame.loc[T0 + 2 * MINUTE, "close_USDC"] == 0.99
    frame.iloc[0, 0] = 1.0  # writable copy
