"""``sim_service.engine.configure``: importing the engine changes no JAX setting; configuring
turns on float64 and the XLA CPU option (idempotently, keeping the user's flags); the server's
entry point configures before it builds anything; each of these checks runs in a fresh
interpreter. Then, in this process, the XLA option is merged into the user's flags
(``with_cpu_defaults``), and the compilation cache is reused by a restarted process."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from sim_service.engine.config import with_cpu_defaults

REPO = ROOT = pathlib.Path(__file__).resolve().parents[2]
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


def test_xla_option_is_added_without_losing_user_flags():
    assert with_cpu_defaults("") == (
        "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=100000000")
    merged = with_cpu_defaults("--xla_dump_to=/x --xla_backend_extra_options=a=1")
    assert merged == ("--xla_dump_to=/x --xla_backend_extra_options="
                      "a=1,xla_cpu_small_while_loop_byte_threshold=100000000")
    mine = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=5"
    assert with_cpu_defaults(mine) == mine
    assert "xla_cpu_small_while_loop_byte_threshold" in os.environ["XLA_FLAGS"]


CACHE_PROBE = textwrap.dedent("""
    import logging, sys
    import jax, jax.numpy as jnp
    from sim_service.engine.config import configure, enable_compilation_cache
    from sim_service.engine import simulation
    configure()
    enable_compilation_cache(sys.argv[1])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("jax._src.compiler").setLevel(logging.DEBUG)
    prices = jnp.exp(jnp.cumsum(jnp.full((6 * 1440, 2), 1e-4), axis=0))
    config = simulation.SimConfig("momentum", 2, 2 * 1440 + 1)
    params = {"logit_lamb": jnp.zeros((1, 2)), "log_k": jnp.ones((1, 2)),
              "initial_weights_logits": jnp.zeros((1, 2))}
    jax.block_until_ready(simulation.value_and_grad_sets(params, prices,
                                                         jnp.asarray([3 * 1440]), config))
""")


def test_compilation_cache_is_reused_by_a_restarted_process(tmp_path):
    def run() -> str:
        return subprocess.run([sys.executable, "-c", CACHE_PROBE, str(tmp_path)], cwd=ROOT,
                              capture_output=True, text=True, check=True).stderr

    first = run()
    assert any((tmp_path / "jax").iterdir())
    assert "cache hit" not in first.lower()
    assert "persistent compilation cache hit" in run().lower()
