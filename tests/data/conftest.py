"""Shared by the price-data tests: a 2023-01-01 minute grid and a small series on it; and the
per-minute input tables of the runner's week (from 2023-03-01), also used by
tests/service/test_compat.py."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quantamm.data import PriceSeries

T0 = 1_672_531_200_000  # 2023-01-01 00:00 UTC
MINUTE = 60_000
HOUR = 3_600_000
START_MS = 1677628800000  # 2023-03-01 00:00 UTC


def small_series() -> PriceSeries:
    prices = np.array([[100.0, 10.0, 1.0], [101.0, 11.0, 1.0], [102.0, 12.0, 0.99]])
    return PriceSeries(("BTC", "ETH", "USDC"), T0, prices)


def table(value_by_minute: dict[int, float], column: str = "fees") -> pd.DataFrame:
    rows = sorted(value_by_minute.items())
    return pd.DataFrame({"unix": [START_MS + 60_000 * m for m, _ in rows],
                         column: [v for _, v in rows]})
