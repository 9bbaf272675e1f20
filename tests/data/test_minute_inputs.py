"""Per-minute input tables (quantamm.data.minute_inputs): series filled forward onto the grid,
trades kept per minute."""

import numpy as np
import pandas as pd
import pytest

from quantamm.data import DataError
from quantamm.data.minute_inputs import series_on_grid, trades_on_grid
from tests.data.conftest import START_MS, table


def test_series_tables_fill_forward_and_zero_is_a_value():
    values = series_on_grid(table({-10: 0.003, 100: 0.0, 200: 0.01}), START_MS, 300, "fees_df")
    assert values[0] == 0.003 and values[99] == 0.003
    assert values[100] == 0.0 and values[199] == 0.0 and values[200] == 0.01
    early = series_on_grid(table({50: 0.002}), START_MS, 60, "fees_df")
    assert early[0] == 0.002  # before the first row: the first value


def test_trade_tables_keep_the_last_trade_of_a_minute_and_refuse_unknown_tokens():
    raw = pd.DataFrame({"unix": [START_MS + 60_000, START_MS + 60_000, START_MS + 90_000],
                        "token_in": ["BTC", "ETH", "BTC"], "token_out": ["USDC"] * 3,
                        "amount_in": [1.0, 2.0, 3.0]})
    trades = trades_on_grid(raw, ["BTC", "ETH", "USDC"], START_MS, 5)
    np.testing.assert_array_equal(trades[1], [1, 2, 2.0])  # the last of minute 1
    assert np.all(trades[[0, 2, 3, 4]] == 0)  # the off-grid trade is dropped
    raw.loc[0, "token_in"] = "DOGE"
    with pytest.raises(DataError, match="DOGE"):
        trades_on_grid(raw, ["BTC", "ETH", "USDC"], START_MS, 5)
