"""Initial parameter sets of a rule and their noise (NumPy only, no JAX).

Parameter sets are dicts of NumPy arrays with a leading set axis: ``[n_parameter_sets, n]``.
Set 0 is the canonical initial value; sets 1.. get noise (``gaussian``, ``sobol``, ``lhs``,
``centered_lhs``) in the internal space. Keys follow the reference's order, which fixes the order
in which the Gaussian draws are taken.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from scipy.stats import norm, qmc

from quantamm.core.fingerprint import DEFAULT_RUN_FINGERPRINT
from quantamm.core.rules import RuleSpec

NOISE_METHODS = ("gaussian", "sobol", "lhs", "centered_lhs")
# No noise at all: every set equals set 0. The reference applies no noise for any method name it
# does not know; we accept only this one name and refuse a typo (listing the valid names).
NO_NOISE = "none"
UNPERTURBED_KEYS = frozenset({"initial_weights_logits", "subsidary_params"})


def broadcast_initial(value: Any, name: str, n_assets: int, n_sets: int) -> np.ndarray:
    """Scalar -> [S, n]; vector [n] -> repeated; [S, n] as is; else ValueError."""
    array = np.asarray(value, dtype=np.float64)
    if array.size == 1:
        return np.full((n_sets, n_assets), float(array.reshape(-1)[0]))
    if array.shape == (n_assets,):
        return np.tile(array, (n_sets, 1))
    if array.shape == (n_sets, n_assets):
        return array.copy()
    raise ValueError(
        f"{name} must be a scalar, a length-{n_assets} vector or a "
        f"[{n_sets}, {n_assets}] matrix, got shape {array.shape}"
    )


def base_parameters(
    rule: RuleSpec, values: Mapping[str, Any], chunk_period: int, n_assets: int, n_sets: int
) -> dict[str, np.ndarray]:
    """Un-noised initial parameters [S, n] per key for ``rule`` from ``initial_*`` values (a
    missing or None value takes its default from ``DEFAULT_RUN_FINGERPRINT``)."""

    def initial(key: str) -> np.ndarray:
        value = values.get(key)
        value = DEFAULT_RUN_FINGERPRINT[key] if value is None else value
        return broadcast_initial(value, key, n_assets, n_sets)

    return rule.initial(initial, chunk_period)


def perturb(
    params: dict[str, np.ndarray], keys: list[str], method: str, scale: float = 1.0, seed: int = 0
) -> dict[str, np.ndarray]:
    """Sets 1.. of ``keys`` plus ``scale`` times noise; set 0 stays the canonical start (a new dict).

    ``gaussian``: N(0, 1) per entry, drawn key by key in the given order from
    ``RandomState(seed)`` (the reference's legacy global generator seeded with ``seed``).
    ``sobol``/``lhs``/``centered_lhs``: one low-discrepancy design over all perturbed entries
    (Sobol scrambled, its first point skipped), clipped to [1e-6, 1 - 1e-6], mapped through the
    normal quantile.
    ``none``: no noise, every set equals set 0.

    Differs from the reference on purpose: it silently applies no noise for any name it does
    not know (a typo such as ``"gausian"`` gives identical sets); here only ``"none"`` means no
    noise and any other unknown name is a ValueError listing the valid names.
    """
    if method not in (*NOISE_METHODS, NO_NOISE):
        raise ValueError(f"noise must be one of {', '.join((*NOISE_METHODS, NO_NOISE))}, "
                         f"got {method!r}")
    noisy = {key: np.array(value, dtype=np.float64) for key, value in params.items()}
    n_sets = next(iter(noisy.values())).shape[0] if noisy else 0
    if n_sets <= 1 or not keys or method == NO_NOISE:
        return noisy
    if method == "gaussian":
        rng = np.random.RandomState(seed)
        for key in keys:
            noisy[key][1:] += scale * rng.standard_normal(noisy[key][1:].shape)
        return noisy
    sizes = [noisy[key][0].size for key in keys]  # entries per set
    if method == "sobol":
        sampler = qmc.Sobol(d=sum(sizes), scramble=True, seed=seed)
        sampler.fast_forward(1)
    else:
        sampler = qmc.LatinHypercube(d=sum(sizes), scramble=method == "lhs", seed=seed)
    points = norm.ppf(np.clip(sampler.random(n_sets - 1), 1e-6, 1 - 1e-6)) * scale
    bounds = np.cumsum([0, *sizes])
    for key, low, high in zip(keys, bounds[:-1], bounds[1:], strict=True):
        noisy[key][1:] += points[:, low:high].reshape(noisy[key][1:].shape)
    return noisy


def add_noise(
    params: dict[str, np.ndarray], method: str, scale: float = 1.0, seed: int = 0
) -> dict[str, np.ndarray]:
    """``perturb`` every key except the initial-weight logits, in dict order."""
    return perturb(params, [k for k in params if k not in UNPERTURBED_KEYS], method, scale, seed)


def init_base_parameters(
    rule: RuleSpec,
    initial_values_dict: Mapping[str, Any],
    run_fingerprint: Mapping[str, Any],
    n_assets: int,
    n_parameter_sets: int = 1,
    noise: str = "gaussian",
    noise_scale: float = 1.0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Initial parameter sets [S, n] per key (``noise_scale`` 1.0 reproduces the reference);
    ``noise``: one of ``NOISE_METHODS`` or ``"none"`` (every set equals set 0). An unknown name
    is a ValueError listing the valid ones, where the reference silently applies no noise."""
    params = base_parameters(
        rule, initial_values_dict, run_fingerprint["chunk_period"], n_assets, n_parameter_sets
    )
    return add_noise(params, noise, noise_scale, seed)
