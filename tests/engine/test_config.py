"""``sim_service.engine.configure``: importing the engine changes no JAX setting; configuring
turns on float64 and the XLA CPU option (idempotently, keeping the user's flags); the server's
entry point configures before it builds anything. Each check runs in a fresh interpreter."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
OPTION = "xla_cpu_small_while_loop_byte_threshold=100000000"


def run(code: str, **env: str) -> None:
    """``code`` in a fresh interpreter without inherited JAX settings (asserts inside)."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("XLA_FLAGS", "JAX_ENABLE_X64", "QUANTAMM_XLA_CPU_DEFAULTS")}
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, check=True,
                   env={**clean, "JAX_PLATFORMS": "cpu", **env})


def test_importing_the_engine_changes_nothing_and_configure_turns_on_float64():
    run(f"""
        import importlib, os, pkgutil
        import jax
        before = jax.config.jax_enable_x64, os.environ.get("XLA_FLAGS")
        import sim_service.engine
        for module in pkgutil.iter_modules(sim_service.engine.__path__):
            importlib.import_module(f"sim_service.engine.{{module.name}}")
        assert (jax.config.jax_enable_x64, os.environ.get("XLA_FLAGS")) == before
        assert before == (False, None), before

        sim_service.engine.configure()
        import jax.numpy as jnp
        assert jax.config.jax_enable_x64
        assert jnp.zeros(1).dtype == jnp.float64 and jnp.arange(2).dtype == jnp.int64
        flags = os.environ["XLA_FLAGS"]
        assert flags == "--xla_backend_extra_options={OPTION}", flags
        sim_service.engine.configure()  # idempotent
        assert os.environ["XLA_FLAGS"] == flags and jax.config.jax_enable_x64
    """)


@pytest.mark.parametrize("env, expected", [
    ({"XLA_FLAGS": "--xla_dump_to=/tmp/x"},
     f"--xla_dump_to=/tmp/x --xla_backend_extra_options={OPTION}"),
    ({"QUANTAMM_XLA_CPU_DEFAULTS": "0"}, None),
])
def test_configure_keeps_the_users_xla_flags_and_can_add_none(env, expected):
    run(f"""
        import os
        import jax
        from sim_service.engine import configure
        configure()
        assert jax.config.jax_enable_x64
        assert os.environ.get("XLA_FLAGS") == {expected!r}, os.environ.get("XLA_FLAGS")
    """, **env)


def test_configure_sets_the_compilation_cache(tmp_path):
    run(f"""
        import jax
        from sim_service.engine import configure
        configure(compilation_cache_dir={str(tmp_path)!r})
        configure()  # no folder: the cache stays
        assert jax.config.jax_compilation_cache_dir == {str(tmp_path / "jax")!r}
    """)
    assert (tmp_path / "jax").is_dir()


def test_the_simulation_server_configures_the_engine():
    run("""
        import jax
        from sim_service.server import create_server
        assert not jax.config.jax_enable_x64
        server = create_server(host="127.0.0.1", port=0)[0]
        server.stop(0)
        assert jax.config.jax_enable_x64
    """)
