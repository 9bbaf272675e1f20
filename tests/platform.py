"""Facts of the machine the tests run on that decide which reference figures can be met.

The bundled minute prices are a Brownian bridge through daily closes, exponentiated with
NumPy's ``exp``. NumPy dispatches ``exp`` by CPU: with AVX-512 it runs its own vector routine,
which is what produced the reference vectors; without it, the C library's, which rounds some
inputs the other way (about one price in 60 differs by one ulp). The with-fees scan decides
trades by the last bit (docs/differences.md §2.1), so bit-for-bit checks of it hold only where
NumPy's ``exp`` is the reference's; elsewhere the tests assert the bounds that still hold.
"""

from __future__ import annotations

import numpy as np

# exp(7.879101040275969): 2641.496892730354 with the reference's routine (0.513 ulp from the
# exact value), 2641.4968927303544 correctly rounded (the C library's result).
_PROBE_INPUT = 7.879101040275969
_REFERENCE_RESULT = 2641.496892730354


def numpy_exp_is_the_references() -> bool:
    """Whether NumPy's ``exp`` here rounds like the one the reference vectors were made with."""
    return float(np.exp(np.full(64, _PROBE_INPUT))[0]) == _REFERENCE_RESULT
