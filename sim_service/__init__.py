"""QuantAMM simulation service: the pure-JAX TFMM engine, datasets and the gRPC server.

Importing this package switches JAX to float64 (``jax_enable_x64``): every number the engine
produces is double precision unless a caller asks otherwise.
"""

import jax

jax.config.update("jax_enable_x64", True)
