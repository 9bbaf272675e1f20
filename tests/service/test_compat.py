"""Fees through the runner: scalar fees, per-minute tables, provided trades, path choice."""

import numpy as np
import pandas as pd
import pytest

from quantamm.data import DataError
from quantamm.data.minute_inputs import series_on_grid, trades_on_grid
from sim_service.engine import simulation
from sim_service.compat import do_run_on_historic_data

WEEK = {
    "tokens": ["BTC", "ETH", "USDC"],
    "rule": "momentum",
    "startDateString": "2023-03-01 00:00:00",
    "endDateString": "2023-03-08 00:00:00",
}
PARAMS = {"logit_lamb": [0.755] * 3, "log_k": [4.32] * 3, "logit_delta_lamb": [0.0] * 3,
          "initial_weights_logits": [0.0] * 3}
START_MS = 1677628800000  # 2023-03-01 00:00 UTC
N_MINUTES = 7 * 1440


def table(value_by_minute: dict[int, float], column: str = "fees") -> pd.DataFrame:
    rows = sorted(value_by_minute.items())
    return pd.DataFrame({"unix": [START_MS + 60_000 * m for m, _ in rows],
                         column: [v for _, v in rows]})


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


@pytest.fixture(scope="module")
def static_fee_run():
    return do_run_on_historic_data({**WEEK, "fees": 0.003}, PARAMS)


def test_a_constant_fee_table_equals_the_scalar_fee(static_fee_run):
    dynamic = do_run_on_historic_data(WEEK, PARAMS, fees_df=table({0: 0.003}))
    np.testing.assert_allclose(dynamic["reserves"], static_fee_run["reserves"], rtol=1e-12)


def test_fees_change_the_result_and_keep_value_with_the_pool(static_fee_run):
    zero = do_run_on_historic_data(WEEK, PARAMS)
    assert static_fee_run["final_value"] != pytest.approx(zero["final_value"], rel=1e-6)
    higher = do_run_on_historic_data({**WEEK, "fees": 0.01}, PARAMS)
    assert higher["final_value"] != static_fee_run["final_value"]


def test_gas_above_every_profit_stops_all_arbitrage():
    run = do_run_on_historic_data({**WEEK, "gas_cost": 1e12}, PARAMS)
    np.testing.assert_array_equal(run["reserves"], np.tile(run["reserves"][0], (N_MINUTES, 1)))


def test_provided_trades_move_reserves():
    raw = pd.DataFrame({"unix": [START_MS + 60_000 * 500], "token_in": ["USDC"],
                        "token_out": ["BTC"], "amount_in": [50_000.0]})
    plain = do_run_on_historic_data({**WEEK, "fees": 0.003}, PARAMS)
    traded = do_run_on_historic_data({**WEEK, "fees": 0.003}, PARAMS, raw_trades=raw)
    np.testing.assert_array_equal(traded["reserves"][:500], plain["reserves"][:500])
    assert traded["reserves"][500, 2] > plain["reserves"][500, 2]  # USDC paid in


def test_fee_free_settings_keep_the_closed_form_fast_path():
    config = simulation.SimConfig("momentum", 3, 10_000)
    assert not config.uses_fee_path and config.uses_fused_objective
    assert simulation.SimConfig("momentum", 3, 10_000, fees=0.003).uses_fee_path
    assert not simulation.SimConfig("momentum", 3, 10_000, fees=0.003).uses_fused_objective
