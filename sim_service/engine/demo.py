"""``make run`` (engine stage): simulate a momentum pool on the bundled data and print a summary."""

from __future__ import annotations

import numpy as np

from sim_service.engine.compat import do_run_on_historic_data
from sim_service.parameters import human_to_params

FINGERPRINT = {
    "tokens": ["BTC", "ETH", "USDC"],
    "rule": "momentum",
    "startDateString": "2023-01-01 00:00:00",
    "endDateString": "2024-01-01 00:00:00",
    "chunk_period": 1440,
    "weight_interpolation_period": 1440,
}


def main() -> None:
    params = human_to_params("momentum", {"memory_days": 10.0, "k_per_day": 20.0}, 3, 1440)
    run = do_run_on_historic_data(FINGERPRINT, params)
    hodl = do_run_on_historic_data({**FINGERPRINT, "rule": "hodl"}, params)
    days = run["value"][::1440]
    daily = np.diff(np.log(days))
    print("QuantAMM momentum pool, BTC/ETH/USDC, 2023-01-01 .. 2024-01-01 (bundled data)")
    print("  memory 10 days, k 20 per day, daily rule updates")
    print(f"  initial value      {run['value'][0]:>14,.2f} USD")
    print(f"  final value        {run['final_value']:>14,.2f} USD")
    print(f"  HODL final value   {hodl['final_value']:>14,.2f} USD")
    print(f"  return             {run['final_value'] / run['value'][0] - 1:>14.2%}")
    print(f"  daily log Sharpe   {np.sqrt(365) * daily.mean() / daily.std():>14.3f}")
    print("  final weights      " + "  ".join(
        f"{token} {w:.3f}" for token, w in zip(FINGERPRINT["tokens"], run["weights"][-1], strict=True)))


if __name__ == "__main__":
    main()
