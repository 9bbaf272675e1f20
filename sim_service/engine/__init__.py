"""Pure JAX functions that simulate TFMM pools: estimators, rules, weights, reserves, metrics.

Call ``configure()`` (``sim_service.engine.config``) before the first JAX array is made: it turns
on float64 and the engine's XLA CPU option. Importing the engine changes no JAX setting.
"""

from sim_service.engine.config import configure

__all__ = ["configure"]
