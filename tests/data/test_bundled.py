"""The bundled dataset (quantamm.data.bundled): the Brownian-bridge minute series against the
reference probe, its daily closes and its cache file."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from quantamm.data import UnknownTokenError, bundled, bundled_minute_prices, daily_closes
from tests.data.conftest import MINUTE
from tests.platform import numpy_exp_is_the_references

START_MS = 1_622_505_600_000  # 2021-06-01 00:00 UTC
END_MS = 1_735_430_400_000  # 2024-12-29 00:00 UTC
N_MINUTES = 1_882_081


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
