"""The seeds' ``do_run_on_historic_data`` arguments read once, for both of its back ends (the
services, ``client.compat``; the engine in process, ``sim_service.compat``)."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

from quantamm.core.fingerprint import FingerprintError, fill_defaults

COST_TABLES = ("fees", "gas_cost", "arb_fees")  # fingerprint key; its table is "<key>_df"


@dataclasses.dataclass(frozen=True)
class RunCall:
    """A call's fingerprint (defaults filled, scalar cost overrides applied), its parameter
    sets (one for a single dict), whether one dict was given, and the per-minute tables."""

    fingerprint: dict[str, Any]
    parameter_sets: list[Mapping[str, Any]]
    single: bool
    tables: dict[str, Any]

    def shaped(self, results: list[Any]) -> Any:
        """One result per set -> what the caller gave: one result, or the list."""
        return results[0] if self.single else results


def run_call(run_fingerprint: Mapping[str, Any],
             params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
             costs: Mapping[str, float | None], tables: Mapping[str, Any],
             lp_supply_df: Any, do_test_period: bool) -> RunCall:
    """Read the arguments: ``costs`` override the fingerprint's fees / gas_cost / arb_fees when
    not None; ``tables`` are the per-minute ``<key>_df`` tables by fingerprint key (None: not
    given). Refuses ``lp_supply_df`` (the reference's runner never passes it) and a test period
    without ``endTestDateString``."""
    if lp_supply_df is not None:
        raise FingerprintError("lp_supply_df",
                               "not supported (the reference's runner never passes it either)")
    overrides = {key: value for key, value in costs.items() if value is not None}
    fp = fill_defaults({**run_fingerprint, **overrides})
    if do_test_period and fp["endTestDateString"] is None:
        raise FingerprintError("endTestDateString", "is required with do_test_period")
    single = isinstance(params, Mapping)
    return RunCall(fp, [params] if single else list(params), single, dict(tables))
