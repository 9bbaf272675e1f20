"""QuantAMM client: typed wrappers over the generated gRPC stubs (``client._generated``).

- ``do_run_on_historic_data`` / ``train_on_historic_data``: the seeds' functions, on the services.
- ``SimClient`` / ``TrainClient``: typed clients of the two services (numpy in and out).
- Services are reached at ``QUANTAMM_SIM_ADDRESS`` / ``QUANTAMM_TRAIN_ADDRESS``, or started in
  the background when neither is configured (``client.embedded``).

Names load on first use, so importing the generated stubs (as the servers do) stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "do_run_on_historic_data": "client.compat",
    "train_on_historic_data": "client.compat",
    "InvalidArgumentError": "client.errors",
    "NotFoundError": "client.errors",
    "QuantAMMError": "client.errors",
    "UnavailableError": "client.errors",
    "DatasetInfo": "client.sim",
    "EvaluateResult": "client.sim",
    "SimClient": "client.sim",
    "SimulationResult": "client.sim",
    "JobUpdate": "client.train",
    "Progress": "client.train",
    "TrainClient": "client.train",
    "TrainingJob": "client.train",
    "TrainingResult": "client.train",
    "DEFAULT_RUN_FINGERPRINT": "quantamm.core.fingerprint",
    "FingerprintError": "quantamm.core.fingerprint",
    "fill_defaults": "quantamm.core.fingerprint",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'client' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
