"""Fees through the runner (sim_service.compat.do_run_on_historic_data): scalar fees,
per-minute tables, provided trades."""

import numpy as np
import pandas as pd
import pytest

from sim_service.compat import do_run_on_historic_data
from tests.data.conftest import START_MS, table

WEEK = {
    "tokens": ["BTC", "ETH", "USDC"],
    "rule": "momentum",
    "startDateString": "2023-03-01 00:00:00",
    "endDateString": "2023-03-08 00:00:00",
}
PARAMS = {"logit_lamb": [0.755] * 3, "log_k": [4.32] * 3, "logit_delta_lamb": [0.0] * 3,
          "initial_weights_logits": [0.0] * 3}
N_MINUTES = 7 * 1440


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
