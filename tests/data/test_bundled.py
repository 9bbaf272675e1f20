"""Price datasets: the bundled bridge series against the reference probe, PriceSeries, loaders."""

from __future__ import annotations

import pathlib
import pickle

import numpy as np
import pandas as pd
import pytest
from structlog.testing import capture_logs

from quantamm.data import (
    BadPriceError,
    DataError,
    DataRangeError,
    PriceSeries,
    UnknownTokenError,
    bundled,
    bundled_minute_prices,
    daily_closes,
    from_price_data,
    load_price_folder,
)
from tests.platform import numpy_exp_is_the_references

START_MS = 1_622_505_600_000  # 2021-06-01 00:00 UTC
END_MS = 1_735_430_400_000  # 2024-12-29 00:00 UTC
N_MINUTES = 1_882_081
T0 = 1_672_531_200_000  # 2023-01-01 00:00 UTC
MINUTE = 60_000
HOUR = 3_600_000


# --- bundled dataset ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp("quantamm_cache")


@pytest.fixture(scope="module")
def full_array(cache_dir: pathlib.Path) -> np.ndarray:
    """The whole bundled minute array [T, 6] (generated once per module)."""
    bundled_minute_prices(cache_dir)
    return bundled._minute_array(bundled.cache_path(cache_dir))


@pytest.fixture(scope="module")
def probe(vectors_dir: pathlib.Path) -> dict[str, np.ndarray]:
    with np.load(vectors_dir / "minute_prices_probe.npz") as data:
        return {key: data[key] for key in data.files}


def test_daily_closes_table() -> None:
    closes = daily_closes()
    assert closes.shape == (1308, 6)
    assert list(closes.columns) == ["BTC", "ETH", "SOL", "USDC", "XRP", "PAXG"]
    assert closes.index[0] == START_MS and closes.index[-1] == END_MS
    assert np.all(np.diff(closes.index) == 86_400_000)
    assert closes.loc[START_MS, "BTC"] == 37153.71
    assert closes.loc[START_MS, "USDC"] == 0.9999
    # XRP stops after 2024-06-01, PAXG after 2024-09-01.
    assert closes["XRP"].last_valid_index() == 1_717_200_000_000
    assert closes["PAXG"].last_valid_index() == 1_725_148_800_000


def test_full_array_shape_and_tails(full_array: np.ndarray) -> None:
    assert full_array.shape == (N_MINUTES, 6)
    assert full_array.dtype == np.float64
    assert not full_array.flags.writeable
    xrp_last = (1_717_200_000_000 - START_MS) // MINUTE
    paxg_last = (1_725_148_800_000 - START_MS) // MINUTE
    assert np.isfinite(full_array[:, :4]).all()
    assert np.isfinite(full_array[: xrp_last + 1, 4]).all()
    assert np.isnan(full_array[xrp_last + 1 :, 4]).all()
    assert np.isfinite(full_array[: paxg_last + 1, 5]).all()
    assert np.isnan(full_array[paxg_last + 1 :, 5]).all()


def test_default_series_is_the_reference_series(cache_dir: pathlib.Path) -> None:
    series = bundled_minute_prices(cache_dir)
    assert series.tokens == ("BTC", "ETH", "SOL", "USDC")
    assert series.prices.shape == (N_MINUTES, 4)
    assert series.start_unix_ms == START_MS
    assert series.end_unix_ms == END_MS
    assert not series.prices.flags.writeable


def test_probe_prices_bit_exact(cache_dir: pathlib.Path, probe: dict[str, np.ndarray]) -> None:
    series = bundled_minute_prices(cache_dir, tokens=[str(t) for t in probe["tokens"]])
    assert series.n_minutes == int(probe["n_minutes"])
    for index, unix_ms in zip(probe["indices"], probe["unix_ms"], strict=True):
        assert series.unix_ms_at(int(index)) == unix_ms
    ours = series.prices[probe["indices"]]
    np.testing.assert_array_max_ulp(ours, probe["prices"], maxulp=1)
    if numpy_exp_is_the_references():
        # The evaluation order in bundled.bridge_asset reproduces them exactly, not just to 1 ulp.
        np.testing.assert_array_equal(ours, probe["prices"])
    else:  # the C library's exp rounds about one input in 60 the other way (tests/platform.py)
        assert np.count_nonzero(ours != probe["prices"]) <= 3


def test_probe_sums(cache_dir: pathlib.Path, probe: dict[str, np.ndarray]) -> None:
    prices = bundled_minute_prices(cache_dir).prices
    np.testing.assert_allclose(prices.sum(axis=0), probe["column_sums"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        np.log(prices).sum(axis=0), probe["column_log_sums"], rtol=1e-12, atol=0
    )


def test_day_starts_are_the_csv_closes(full_array: np.ndarray) -> None:
    closes = daily_closes().to_numpy()
    day_starts = full_array[::1440]
    assert day_starts.shape == closes.shape
    assert np.array_equal(day_starts, closes, equal_nan=True)


def test_bridge_sigmas_match_readme() -> None:
    closes = daily_closes().to_numpy()
    sigmas = [bundled.bridge_sigma(closes[:, a]) for a in range(4)]
    np.testing.assert_allclose(
        sigmas, [7.88983605e-4, 9.78561105e-4, 1.47317593e-3, 3.02800762e-5], rtol=1e-8
    )


def test_short_history_tokens_end_at_their_last_close(
    cache_dir: pathlib.Path, full_array: np.ndarray
) -> None:
    series = bundled_minute_prices(cache_dir, tokens=["XRP", "BTC"])
    assert series.tokens == ("XRP", "BTC")
    assert series.start_unix_ms == START_MS
    assert series.end_unix_ms == 1_717_200_000_000  # 2024-06-01 00:00
    np.testing.assert_array_equal(series.prices, full_array[: series.n_minutes][:, [4, 0]])
    assert bundled_minute_prices(cache_dir, tokens=["PAXG"]).end_unix_ms == 1_725_148_800_000


def test_bundled_unknown_token(cache_dir: pathlib.Path) -> None:
    with pytest.raises(UnknownTokenError) as info:
        bundled_minute_prices(cache_dir, tokens=["BTC", "DOGE"])
    assert info.value.field == "tokens"
    assert "DOGE" in str(info.value) and "PAXG" in str(info.value)


def test_cache_file_written_then_read(
    cache_dir: pathlib.Path, full_array: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = bundled.cache_path(cache_dir)
    assert path.parent == cache_dir.resolve()
    assert "seed20261122" in path.name and path.suffix == ".npy"
    assert np.array_equal(np.load(path), full_array, equal_nan=True)
    assert not list(cache_dir.glob("*.tmp"))

    def no_generation(*_: object) -> np.ndarray:
        raise AssertionError("the cache should have been read")

    monkeypatch.setattr(bundled, "generate_minute_prices", no_generation)
    bundled._minute_array.cache_clear()
    again = bundled._minute_array(path)
    assert again is not full_array
    assert np.array_equal(again, full_array, equal_nan=True)
    assert bundled._minute_array(path) is again  # in-process memo


@pytest.mark.parametrize("content", ["wrong_shape", "garbage"])
def test_bad_cache_file_is_regenerated(
    content: str,
    tmp_path: pathlib.Path,
    full_array: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = bundled.cache_path(tmp_path)
    if content == "wrong_shape":
        np.save(path, np.ones((10, 6)))
    else:
        path.write_bytes(b"not a numpy file")
    calls = []

    def fake_generation(closes: np.ndarray) -> np.ndarray:
        calls.append(closes.shape)
        return full_array.copy()

    monkeypatch.setattr(bundled, "generate_minute_prices", fake_generation)
    series = bundled_minute_prices(tmp_path)
    assert calls == [(1308, 6)]
    assert series.prices.shape == (N_MINUTES, 4)
    assert np.load(path).shape == (N_MINUTES, 6)


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setenv("QUANTAMM_CACHE_DIR", str(tmp_path / "env"))
    assert bundled.cache_path().parent == (tmp_path / "env").resolve()
    monkeypatch.delenv("QUANTAMM_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert bundled.cache_path().parent == (tmp_path / ".cache" / "quantamm").resolve()


# --- PriceSeries ----------------------------------------------------------------------------


def small_series() -> PriceSeries:
    prices = np.array([[100.0, 10.0, 1.0], [101.0, 11.0, 1.0], [102.0, 12.0, 0.99]])
    return PriceSeries(("BTC", "ETH", "USDC"), T0, prices)


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


def test_errors_pickle() -> None:
    errors = [
        UnknownTokenError("SOL", ["BTC"]),
        DataRangeError("start", T0, T0 + MINUTE, T0 + HOUR),
        BadPriceError("ETH", T0, float("nan")),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert (copy.field, str(copy)) == (error.field, str(error))


# --- loaders --------------------------------------------------------------------------------


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
