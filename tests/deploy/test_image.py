"""The container image, without a Docker engine: hadolint on the Dockerfile, its stages and user,
and the build context that ``.dockerignore`` admits installs into packages that run from
outside the repository (what ``pip install .`` in the build stage does)."""

from __future__ import annotations

import fnmatch
import os
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

from tests.train.conftest import REPO

BIN = pathlib.Path(sys.executable).parent
DOCKERFILE = (REPO / "Dockerfile").read_text()


def stages() -> dict[str, str]:
    """Stage name -> its instructions (the Dockerfile's text from its FROM to the next)."""
    parts = re.split(r"^FROM ", DOCKERFILE, flags=re.M)[1:]
    return {re.search(r" AS (\S+)", p.splitlines()[0]).group(1): p for p in parts}


def ignore_rules() -> list[tuple[bool, str]]:
    """(.dockerignore) -> [(is_exception, pattern)], in order: the last match decides."""
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [(line.startswith("!"), line.lstrip("!").rstrip("/"))
            for line in map(str.strip, lines) if line and not line.startswith("#")]


def in_context(relative: str, rules: list[tuple[bool, str]]) -> bool:
    """Whether Docker sends ``relative`` (a POSIX path) with the build context."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for exception, pattern in rules:
        candidates = [pattern, pattern[3:]] if pattern.startswith("**/") else [pattern]
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates):
            excluded = not exception
    return not excluded


def test_hadolint_passes():
    result = subprocess.run([BIN / "hadolint", "Dockerfile"], cwd=REPO, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cpu_and_gpu_targets_run_as_a_non_root_user():
    found = stages()
    assert list(found)[-1] == "cpu"  # `docker build .` gives the CPU image
    for target in ("cpu", "gpu"):
        user = re.findall(r"^USER (\d+):(\d+)$", found[target], flags=re.M)
        assert user and all(int(i) >= 1000 for i in user[-1]), (target, user)
        assert "/opt/venv" in found[target]
    assert 'jax[cuda12]' in found["build-gpu"] and "cuda" not in found["build"]
    assert 'ENTRYPOINT ["python", "-m"]' in found["runtime"]


def test_build_context_installs_packages_that_run_outside_the_repo(tmp_path):
    rules = ignore_rules()
    context = tmp_path / "context"
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.splitlines()
    sent = [path for path in tracked if in_context(path, rules) and (REPO / path).is_file()]
    assert "pyproject.toml" in sent and not any(p.startswith(("tests/", ".git")) for p in sent)
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, flags=re.M):
        for name in source.split():
            assert any(p == name or p.startswith(name + "/") for p in sent), name
    for path in sent:
        (context / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / path, context / path)

    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", tmp_path / "wheel", context], check=True)
    installed = tmp_path / "site"
    with zipfile.ZipFile(next((tmp_path / "wheel").glob("*.whl"))) as wheel:
        wheel.extractall(installed)
    env = {**os.environ, "PYTHONPATH": str(installed), "QUANTAMM_CACHE_DIR": str(tmp_path)}
    code = ("import sim_service.server, train_service.server, client.sim\n"
            "from quantamm.data.bundled import daily_closes\n"
            "print(sim_service.server.__file__, train_service.server.__file__, "
            "client.sim.__file__, daily_closes().shape)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert all(path.startswith(str(installed)) for path in out[:3]), out
    assert " ".join(out[3:]) == "(1308, 6)"
    for service in ("sim_service", "train_service"):
        usage = subprocess.run([sys.executable, "-m", service, "--help"], cwd=tmp_path, env=env,
                               capture_output=True, text=True, check=True).stdout
        assert f"python -m {service}" in usage
