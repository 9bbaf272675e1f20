"""Pure JAX functions that simulate TFMM pools: estimators, rules, weights, reserves, metrics.

Importing the engine switches JAX to float64 (``jax_enable_x64``): every number it produces is
double precision unless a caller asks otherwise.

It also adds one XLA CPU option to ``XLA_FLAGS`` (kept when the user set it already; set
``QUANTAMM_XLA_CPU_DEFAULTS=0`` to add nothing): while loops whose buffers total up to 100 MB are
compiled into a single kernel instead of being run one iteration at a time by the runtime. The
with-fees arbitrage scan (one iteration per minute) runs about 3x faster; the arithmetic is the
same. XLA reads the flags when its CPU backend starts, so import the engine before the first JAX
computation (the services do).
"""

import os

SMALL_LOOP_OPTION = "xla_cpu_small_while_loop_byte_threshold"
SMALL_LOOP_BYTES = 100_000_000
EXTRA_OPTIONS = "--xla_backend_extra_options="


def with_cpu_defaults(flags: str) -> str:
    """``XLA_FLAGS`` with the small-while-loop threshold added (merged into an existing
    ``--xla_backend_extra_options``; unchanged when the option is already there)."""
    if SMALL_LOOP_OPTION in flags:
        return flags
    option = f"{SMALL_LOOP_OPTION}={SMALL_LOOP_BYTES}"
    parts = flags.split()
    for index, part in enumerate(parts):
        if part.startswith(EXTRA_OPTIONS):
            existing = part[len(EXTRA_OPTIONS):]
            parts[index] = f"{EXTRA_OPTIONS}{existing},{option}" if existing else part + option
            return " ".join(parts)
    return " ".join([*parts, EXTRA_OPTIONS + option])


if os.environ.get("QUANTAMM_XLA_CPU_DEFAULTS", "1") != "0":
    os.environ["XLA_FLAGS"] = with_cpu_defaults(os.environ.get("XLA_FLAGS", ""))

import jax  # noqa: E402  (after XLA_FLAGS, which the backend reads when it starts)

jax.config.update("jax_enable_x64", True)
