"""Prefix scans (sim_service.engine.prefix): the per-platform scans give NumPy's numbers and
route the running peak's gradient."""

import jax
import jax.numpy as jnp
import numpy as np

from sim_service.engine import metrics, prefix


def test_prefix_scans_match_numpy_and_route_the_peak_gradient():
    x = jnp.asarray(np.random.default_rng(1).normal(size=(3, 500)))
    np.testing.assert_allclose(prefix.cumsum(x), np.cumsum(x, axis=-1), rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(prefix.cummax(x), np.maximum.accumulate(x, axis=-1))
    values = jnp.asarray([1.0, 3.0, 2.0, 3.0, 0.5])
    grad = jax.grad(lambda v: jnp.sum(metrics.running_peak(v) * jnp.arange(5.0)))(values)
    # peaks: 1 (own), 3 (own), 3 (from index 1), 3 (own: latest tie), 3 (from index 3)
    np.testing.assert_array_equal(grad, [0.0, 1.0 + 2.0, 0.0, 3.0 + 4.0, 0.0])
