"""The layers' import contracts (``.importlinter``) hold: generated <- core <- wire; the engine
imports core only; the simulation server imports no client or training module; the training
server imports no engine module; the client imports no server."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint = shutil.which("lint-imports", path=str(pathlib.Path(sys.executable).parent))
    assert lint, "import-linter is a test dependency"
    result = subprocess.run([lint, "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout and "9 kept" in result.stdout, result.stdout[-2000:]


def test_a_forbidden_import_is_caught(tmp_path):
    """The check can fail: an engine module importing the wire layer breaks its contract."""
    config = (REPO / ".importlinter").read_text()
    probe = REPO / "sim_service" / "engine" / "_layer_probe.py"
    probe.write_text("import quantamm.wire.tensors  # noqa: F401\n")
    try:
        (tmp_path / ".importlinter").write_text(config)
        lint = shutil.which("lint-imports", path=str(pathlib.Path(sys.executable).parent))
        result = subprocess.run([lint, "--no-cache", "--config", str(tmp_path / ".importlinter")],
                                cwd=REPO, capture_output=True, text=True)
    finally:
        probe.unlink()
    assert result.returncode != 0
    assert "the engine imports core only" in result.stdout and "BROKEN" in result.stdout
