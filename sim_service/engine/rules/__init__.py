"""Update rules and their registry: one module per rule, each declaring its ``RULE`` spec.

A *delta* rule (momentum, anti-momentum, power channel, mean-reversion channel, difference
momentum) outputs a weight change per chunk; a *weight* rule (min variance) outputs a target
weight vector. Kernels take ``params`` (dict of per-asset arrays [n], or [1] broadcast) and
chunk prices; ``rule_outputs`` returns raw outputs ``u[K - 1, n]`` (row i = chunk i + 1).
Every rule is a recurrence (``RuleKernel``): its vectorised form is the scan of its step form.

Adding a rule is adding a module here that defines ``RULE = RuleSpec(...)``
(``quantamm.core.rules``): the registry finds it, and ``ListRules``, the request checks, the
pool classes and the training service read it from there.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from jax import Array, lax

from quantamm.core.rules import POOL_KINDS, RuleSpec
from sim_service.engine import estimators
from sim_service.engine.rules.common import Params, RuleKernel, RuleSettings, capped_lambdas

_HELPER_MODULES = frozenset({"common"})


@functools.cache
def registry() -> dict[str, RuleSpec]:
    """Every rule module's ``RULE`` by name: TFMM rules first, then by pool kind, then by name."""
    found = []
    for module in pkgutil.iter_modules(__path__):
        if module.name in _HELPER_MODULES or module.name.startswith("_"):
            continue
        spec = importlib.import_module(f"{__name__}.{module.name}").RULE
        if spec.name != module.name:
            raise ValueError(f"rules/{module.name}.py declares rule {spec.name!r}")
        found.append(spec)
    found.sort(key=lambda spec: (POOL_KINDS.index(spec.pool), spec.name))
    return {spec.name: spec for spec in found}


def names() -> tuple[str, ...]:
    """Every rule's name, in registry order."""
    return tuple(registry())


def get(rule: str) -> RuleSpec:
    """The spec of ``rule`` (ValueError naming the valid rules otherwise)."""
    specs = registry()
    if rule not in specs:
        raise ValueError(f"unknown rule {rule!r}; valid: {', '.join(specs)}")
    return specs[rule]


def rule_kernel(rule: str, params: Params, settings: RuleSettings) -> RuleKernel:
    """The (init, step) recurrence of any TFMM rule."""
    spec = get(rule)
    if spec.kernel is None:
        tfmm = [name for name, s in registry().items() if s.kernel is not None]
        raise ValueError(f"unknown TFMM rule {rule!r}; valid: {', '.join(tfmm)}")
    return spec.kernel(params, settings)


def rule_outputs(rule: str, params: Params, settings: RuleSettings, chunk_prices: Array) -> Array:
    """Raw outputs [K - 1, n] of any TFMM rule over chunk prices [K, n] (scan of its step)."""
    kernel = rule_kernel(rule, params, settings)
    _, outputs = lax.scan(kernel.step, kernel.init(chunk_prices[0]), chunk_prices[1:])
    return outputs


def gradient_readouts(
    params: Params, settings: RuleSettings, chunk_prices: Array
) -> estimators.GradientReadout:
    """Estimator internals (gradients, ewma, running_a), each [K - 1, n], of a gradient rule."""
    lamb, alt_lamb, _ = capped_lambdas(params, settings)
    return estimators.gradient_scan(chunk_prices, lamb, alt_lamb)


def readout_rules() -> tuple[str, ...]:
    """Rules with estimator readouts (the momentum family)."""
    return tuple(name for name, spec in registry().items() if spec.has_readouts)
