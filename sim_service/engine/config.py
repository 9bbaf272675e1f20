"""Process-wide JAX settings of the engine, applied by ``configure()``; importing the engine
changes nothing.

Every entry point that computes with the engine (the simulation server, the in-process
``do_run_on_historic_data``, the benchmarks, the test suite) calls ``configure()`` before its
first JAX array is made:

- float64 (``jax_enable_x64``): every number the engine produces is double precision (arrays
  made before would stay single precision).
- one XLA CPU option added to ``XLA_FLAGS`` (kept when the user set it already; set
  ``QUANTAMM_XLA_CPU_DEFAULTS=0`` to add nothing): while loops whose buffers total up to 100 MB
  are compiled into a single kernel instead of being run one iteration at a time by the runtime.
  The with-fees arbitrage scan (one iteration per minute) runs about 3x faster; the arithmetic is
  the same. XLA reads the flags when its CPU backend starts, i.e. at the first computation.
- with ``compilation_cache_dir``: compiled XLA programs persist across restarts under
  ``compilation_cache_dir/jax``.
"""

from __future__ import annotations

import os
import pathlib

SMALL_LOOP_OPTION = "xla_cpu_small_while_loop_byte_threshold"
SMALL_LOOP_BYTES = 100_000_000
EXTRA_OPTIONS = "--xla_backend_extra_options="
CPU_DEFAULTS_ENV = "QUANTAMM_XLA_CPU_DEFAULTS"
MIN_CACHED_COMPILE_SECONDS = 0.5


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


def enable_compilation_cache(cache_dir: str | os.PathLike) -> None:
    """Persist compiled XLA programs across restarts under ``cache_dir/jax``."""
    import jax

    folder = pathlib.Path(cache_dir) / "jax"
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_CACHED_COMPILE_SECONDS)


def configure(*, x64: bool = True, xla_cpu_defaults: bool = True,
              compilation_cache_dir: str | os.PathLike | None = None) -> None:
    """Apply the engine's JAX settings (idempotent: calling again with the same arguments
    changes nothing; ``compilation_cache_dir=None`` leaves the cache as it is).

    Args:
      x64: float64 computations (the engine's results are specified in double precision).
      xla_cpu_defaults: add the small-while-loop option to ``XLA_FLAGS`` (unless
        ``QUANTAMM_XLA_CPU_DEFAULTS=0``); takes effect when called before the first computation.
      compilation_cache_dir: keep compiled programs under ``compilation_cache_dir/jax``.
    """
    if xla_cpu_defaults and os.environ.get(CPU_DEFAULTS_ENV, "1") != "0":
        os.environ["XLA_FLAGS"] = with_cpu_defaults(os.environ.get("XLA_FLAGS", ""))
    import jax  # after XLA_FLAGS (read when the backend starts)

    jax.config.update("jax_enable_x64", x64)
    if compilation_cache_dir is not None:
        enable_compilation_cache(compilation_cache_dir)
