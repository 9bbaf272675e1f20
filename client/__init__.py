"""QuantAMM client: typed wrappers over the generated gRPC stubs (``quantamm_api``).

- ``do_run_on_historic_data`` / ``train_on_historic_data``: the seeds' functions, on the services.
- ``SimClient`` / ``TrainClient``: typed clients of the two services (numpy in and out).
- Services are reached at ``QUANTAMM_SIM_ADDRESS`` / ``QUANTAMM_TRAIN_ADDRESS``, or started in
  the background when neither is configured (``client.embedded``).
"""

from client.compat import do_run_on_historic_data, train_on_historic_data
from client.errors import InvalidArgumentError, NotFoundError, QuantAMMError, UnavailableError
from client.sim import DatasetInfo, EvaluateResult, SimClient, SimulationResult
from client.train import JobUpdate, Progress, TrainClient, TrainingJob, TrainingResult
from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT, FingerprintError, fill_defaults

__all__ = [
    "DEFAULT_RUN_FINGERPRINT", "DatasetInfo", "EvaluateResult", "FingerprintError",
    "InvalidArgumentError", "JobUpdate", "NotFoundError", "Progress", "QuantAMMError",
    "SimClient", "SimulationResult", "TrainClient", "TrainingJob", "TrainingResult",
    "UnavailableError", "do_run_on_historic_data", "fill_defaults", "train_on_historic_data",
]
