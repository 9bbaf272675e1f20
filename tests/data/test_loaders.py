"""Loaders (quantamm.data.loaders): folders of per-token price files and in-memory frames
and arrays, filled forward onto the minute grid."""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest
from structlog.testing import capture_logs

from quantamm.data import (
    BadPriceError,
    DataError,
    DataRangeError,
    UnknownTokenError,
    from_price_data,
    load_price_folder,
)
from quantamm.data import loaders
from tests.data.conftest import HOUR, MINUTE, T0, small_series


def write_folder(folder: pathlib.Path) -> None:
    """BTC: minute parquet 00:00..00:06 with 00:03-00:04 missing; ETH: hourly CSV with date
    strings 22:00 .. 02:00; SOL: CSV in unix seconds, two rows inside 00:01."""
    btc_minutes = [0, 1, 2, 5, 6]
    pd.DataFrame(
        {"unix_ms": [T0 + m * MINUTE for m in btc_minutes], "close": [10.0, 11, 12, 15, 16]}
    ).to_parquet(folder / "BTC.parquet")
    pd.DataFrame(
        {
            "date": [f"2022-12-31 {h}:00:00" for h in ("22", "23")]
            + [f"2023-01-01 0{h}:00:00" for h in range(3)],
            "close": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    ).to_csv(folder / "ETH_USD.csv", index=False)
    seconds = T0 // 1000 + np.array([-120, 0, 60, 75, 80, 300])
    pd.DataFrame({"timestamp": seconds, "close": [7.0, 8, 9, 9.5, 9.75, 10]}).to_csv(
        folder / "SOL.csv", index=False
    )
    (folder / "notes.txt").write_text("not a price file")


def test_load_folder_fills_and_intersects(tmp_path: pathlib.Path) -> None:
    write_folder(tmp_path)
    series = load_price_folder(tmp_path, ["SOL", "BTC", "ETH"])
    # Span: latest first minute (BTC 00:00) .. earliest last minute (SOL 00:05).
    assert series.tokens == ("SOL", "BTC", "ETH")
    assert series.start_unix_ms == T0 and series.end_unix_ms == T0 + 5 * MINUTE
    assert series.prices.dtype == np.float64
    np.testing.assert_array_equal(
        series.prices,
        [
            [8.0, 10.0, 3.0],
            [9.75, 11.0, 3.0],  # SOL: last row within 00:01 wins
            [9.75, 12.0, 3.0],
            [9.75, 12.0, 3.0],  # BTC gap filled
            [9.75, 12.0, 3.0],
            [10.0, 15.0, 3.0],
        ],
    )


def test_load_folder_hourly_span(tmp_path: pathlib.Path) -> None:
    write_folder(tmp_path)
    series = load_price_folder(tmp_path, ["ETH"])
    assert series.start_unix_ms == T0 - 2 * HOUR
    assert series.n_minutes == 4 * 60 + 1
    hourly_close = np.repeat([1.0, 2.0, 3.0, 4.0], 60)
    np.testing.assert_array_equal(series.prices[:-1, 0], hourly_close)
    assert series.prices[-1, 0] == 5.0


def test_load_folder_unix_index_and_datetime_column(tmp_path: pathlib.Path) -> None:
    pd.DataFrame(
        {"close": [2.0, 3.0]}, index=pd.Index([T0, T0 + 2 * MINUTE], name="unix")
    ).to_parquet(tmp_path / "AAA_USD.parquet")
    stamps = pd.to_datetime([T0 + MINUTE, T0 + 3 * MINUTE], unit="ms", utc=True)
    pd.DataFrame({"datetime": stamps, "close": [5.0, 6.0]}).to_parquet(tmp_path / "BBB.parquet")
    series = load_price_folder(tmp_path, ["AAA", "BBB"])
    assert series.start_unix_ms == T0 + MINUTE
    np.testing.assert_array_equal(series.prices, [[2.0, 5.0], [3.0, 5.0]])


def test_load_folder_unknown_token(tmp_path: pathlib.Path) -> None:
    write_folder(tmp_path)
    with pytest.raises(UnknownTokenError) as info:
        load_price_folder(tmp_path, ["BTC", "DOGE"])
    assert info.value.field == "tokens"
    assert info.value.available == ("BTC", "ETH", "SOL")


def test_load_folder_bad_price(tmp_path: pathlib.Path) -> None:
    pd.DataFrame({"unix": [T0 + MINUTE, T0], "close": [0.0, 1.0]}).to_csv(
        tmp_path / "BTC.csv", index=False
    )
    with pytest.raises(BadPriceError) as info:
        load_price_folder(tmp_path, ["BTC"])
    assert (info.value.token, info.value.unix_ms) == ("BTC", T0 + MINUTE)
    assert "2023-01-01T00:01:00Z" in str(info.value)


def test_load_folder_rejects_ambiguous_and_disjoint(tmp_path: pathlib.Path) -> None:
    frame = pd.DataFrame({"unix": [T0], "close": [1.0]})
    frame.to_csv(tmp_path / "BTC_USD.csv", index=False)
    frame.to_csv(tmp_path / "BTC_USDT.csv", index=False)
    with pytest.raises(DataError, match="several price files"):
        load_price_folder(tmp_path, ["BTC"])
    frame.to_csv(tmp_path / "BTC.csv", index=False)  # the exact name wins
    assert load_price_folder(tmp_path, ["BTC"]).n_minutes == 1
    pd.DataFrame({"unix": [T0 + HOUR], "close": [1.0]}).to_csv(tmp_path / "ETH.csv", index=False)
    with pytest.raises(DataError, match="do not overlap"):
        load_price_folder(tmp_path, ["BTC", "ETH"])
    with pytest.raises(DataError) as info:
        load_price_folder(tmp_path / "missing", ["BTC"])
    assert info.value.field == "root"


def test_from_price_data_frame() -> None:
    frame = small_series().to_dataframe()
    series = from_price_data(frame, ["ETH", "BTC"])
    assert series.tokens == ("ETH", "BTC") and series.start_unix_ms == T0
    np.testing.assert_array_equal(series.prices, [[10.0, 100.0], [11.0, 101.0], [12.0, 102.0]])
    plain = frame.rename(columns=lambda c: c.removeprefix("close_"))
    np.testing.assert_array_equal(from_price_data(plain, ["USDC"]).prices[:, 0], [1, 1, 0.99])
    with pytest.raises(UnknownTokenError, match="BTC, ETH, USDC"):
        from_price_data(frame, ["SOL"])


def test_from_price_data_gap_duplicates_and_order() -> None:
    index = [T0 + 3 * MINUTE, T0, T0 + MINUTE, T0 + MINUTE]
    frame = pd.DataFrame({"close_BTC": [4.0, 1.0, 2.0, 2.5]}, index=index)
    with capture_logs() as logs:
        series = from_price_data(frame, ["BTC"])
    np.testing.assert_array_equal(series.prices[:, 0], [1.0, 2.5, 2.5, 4.0])
    assert [e["event"] for e in logs] == ["price_gaps_filled"]
    assert logs[0]["filled_minutes"] == 1 and logs[0]["log_level"] == "warning"


def test_from_price_data_rejects_bad_frames() -> None:
    with pytest.raises(DataRangeError) as info:
        from_price_data(pd.DataFrame({"close_BTC": [1.0, 2.0]}, index=[T0, T0 + 90_000]), ["BTC"])
    assert info.value.unix_ms == T0 + 90_000
    with pytest.raises(BadPriceError, match="2023-01-01T00:01:00Z"):
        from_price_data(
            pd.DataFrame({"close_BTC": [1.0, np.nan]}, index=[T0, T0 + MINUTE]), ["BTC"]
        )


def test_from_price_data_array() -> None:
    prices = np.array([[1, 2], [3, 4]], dtype=np.int64)
    series = from_price_data(prices, ["BTC", "ETH"], start_unix_ms=T0)
    assert series.prices.dtype == np.float64
    np.testing.assert_array_equal(series.prices, [[1.0, 2.0], [3.0, 4.0]])
    floats = prices.astype(np.float64)
    copied = from_price_data(floats, ["BTC", "ETH"], start_unix_ms=T0)
    floats[0, 0] = 9.0
    assert copied.prices[0, 0] == 1.0
    with pytest.raises(DataError) as info:
        from_price_data(prices, ["BTC", "ETH"])
    assert info.value.field == "start"
    with pytest.raises(DataError) as info:
        from_price_data(prices, ["BTC"], start_unix_ms=T0)
    assert info.value.field == "prices"


def test_sorted_unique_times_are_handed_over_without_a_sort_or_a_copy():
    times = np.arange(5, dtype=np.int64) * 60_000
    values = np.arange(10.0).reshape(5, 2)
    kept_times, kept_values = loaders.sorted_last_wins(times, values)
    assert kept_times is times and kept_values is values


def test_unsorted_or_repeated_times_are_sorted_and_the_last_row_wins():
    times = np.array([120_000, 0, 60_000, 0], dtype=np.int64)
    values = np.array([[3.0], [1.0], [2.0], [1.5]])
    kept_times, kept_values = loaders.sorted_last_wins(times, values)
    np.testing.assert_array_equal(kept_times, [0, 60_000, 120_000])
    np.testing.assert_array_equal(kept_values[:, 0], [1.5, 2.0, 3.0])
