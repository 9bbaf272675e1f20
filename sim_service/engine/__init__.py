"""Pure JAX functions that simulate TFMM pools: estimators, rules, weights, reserves, metrics.

Importing the engine switches JAX to float64 (``jax_enable_x64``): every number it produces is
double precision unless a caller asks otherwise.
"""

import jax

jax.config.update("jax_enable_x64", True)
