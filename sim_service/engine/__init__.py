"""Pure JAX functions that simulate TFMM pools: estimators, rules, weights, reserves, metrics."""

import sim_service  # noqa: F401  (enables float64 before any array is built)
