"""Access control on real servers over loopback: a bearer token (missing or wrong ->
UNAUTHENTICATED, health checks exempt), TLS (a plaintext client cannot connect) and mutual TLS
(a client without a trusted certificate cannot connect), in process and as processes started
with the documented flags and environment variables."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from quantamm_api.v1 import simulation_pb2, simulation_pb2_grpc, training_pb2
from quantamm_api.v1 import training_pb2_grpc
from client.errors import UnauthenticatedError, UnavailableError
from quantamm.serving.channels import TLSConfig
from client.sim import SimClient
from quantamm.serving.security import Security, read_token
from tests.reliability.conftest import TOKEN
from tests.train.conftest import ServerProcess, gradient_request, wait_done

LIST_RULES = simulation_pb2.ListRulesRequest()


def tls_channel(address: str, certs, client=None) -> grpc.Channel:
    client = certs.client if client is None else client
    credentials = grpc.ssl_channel_credentials(certs.ca.cert, client and client.key,
                                               client and client.cert)
    return grpc.secure_channel(address, credentials)


def list_rules(channel: grpc.Channel, metadata=()) -> list[str]:
    stub = simulation_pb2_grpc.SimulationServiceStub(channel)
    return [rule.name for rule in stub.ListRules(LIST_RULES, metadata=metadata, timeout=10).rules]


def refusal(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


def serving_status(channel: grpc.Channel, service: str = "") -> int:
    return health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=10).status


@pytest.mark.parametrize("metadata, reason", [
    ((), "missing"),
    ((("authorization", "Bearer not-the-token"),), "wrong"),
    ((("authorization", TOKEN),), "wrong"),  # no "Bearer " scheme
    ((("authorization", f"Bearer {TOKEN}x"),), "wrong"),
])
def test_a_call_without_the_right_token_is_unauthenticated(secure_sim, certs, metadata, reason):
    channel = tls_channel(secure_sim, certs)
    error = refusal(lambda: list_rules(channel, metadata))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error.details() == f"authorization: {reason} bearer token"
    # streaming methods are guarded too, and the right token gets through
    stream = simulation_pb2_grpc.SimulationServiceStub(channel).Simulate(
        simulation_pb2.SimulateRequest(), metadata=metadata, timeout=10)
    assert refusal(lambda: list(stream)).code() == grpc.StatusCode.UNAUTHENTICATED
    assert "momentum" in list_rules(channel, [("authorization", f"Bearer {TOKEN}")])


def test_health_checks_need_no_token(secure_sim, certs):
    channel = tls_channel(secure_sim, certs)
    assert serving_status(channel) == health_pb2.HealthCheckResponse.SERVING
    assert serving_status(channel, "quantamm.v1.SimulationService") == \
        health_pb2.HealthCheckResponse.SERVING


def test_a_plaintext_client_cannot_connect_to_a_tls_server(secure_sim):
    channel = grpc.insecure_channel(secure_sim)
    error = refusal(lambda: list_rules(channel, [("authorization", f"Bearer {TOKEN}")]))
    assert error.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("client", ["none", "rogue"])
def test_mutual_tls_refuses_a_client_without_a_trusted_certificate(secure_sim, certs, client):
    channel = tls_channel(secure_sim, certs, None if client == "none" else certs.rogue_client)
    if client == "none":
        channel = grpc.secure_channel(secure_sim, grpc.ssl_channel_credentials(certs.ca.cert))
    error = refusal(lambda: list_rules(channel, [("authorization", f"Bearer {TOKEN}")]))
    assert error.code() == grpc.StatusCode.UNAVAILABLE


def test_the_client_takes_token_and_tls_from_arguments_or_environment(secure_sim, certs,
                                                                      monkeypatch):
    tls = TLSConfig(certs.ca.cert_file, certs.client.cert, certs.client.key)  # paths or bytes
    with SimClient(secure_sim, token=TOKEN, tls=tls, retries=0) as client:
        assert "momentum" in [rule.name for rule in client.list_rules()]
    with SimClient(secure_sim, token="wrong", tls=tls, retries=0) as client:
        with pytest.raises(UnauthenticatedError, match="wrong bearer token"):
            client.list_rules()
    with SimClient(secure_sim, token=TOKEN, credentials=None, tls=None, retries=0) as client:
        with pytest.raises(UnavailableError):  # plaintext (no TLS settings in the environment)
            client.list_rules()
    monkeypatch.setenv("QUANTAMM_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("QUANTAMM_TLS_CA", str(certs.ca.cert_file))
    monkeypatch.setenv("QUANTAMM_TLS_CLIENT_CERT", str(certs.client.cert_file))
    monkeypatch.setenv("QUANTAMM_TLS_CLIENT_KEY", str(certs.client.key_file))
    with SimClient(secure_sim, retries=0) as client:
        assert "momentum" in [rule.name for rule in client.list_rules()]
    with pytest.raises(ValueError, match="client_cert and client_key"):
        TLSConfig(client_cert=certs.client.cert)


def test_bad_security_settings_are_refused_at_start(tmp_path, certs, monkeypatch):
    with pytest.raises(ValueError, match="both the certificate and its key"):
        Security(tls_cert=certs.server.cert)
    with pytest.raises(ValueError, match="mutual TLS needs"):
        Security(tls_client_ca=certs.ca.cert)
    empty = tmp_path / "token"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        read_token(str(empty))
    empty.write_text(f"  {TOKEN}\n")
    assert read_token(str(empty)) == TOKEN
    monkeypatch.setenv("QUANTAMM_AUTH_TOKEN", "from-env")
    assert read_token(None) == "from-env"


def test_server_processes_with_auth_and_tls_flags_run_a_job_end_to_end(certs, tmp_path,
                                                                     monkeypatch):
    """sim_service: token file + mutual TLS by flags; train_service: token and TLS by
    environment variables, TLS + client certificate to sim_service by flags."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    cache = tmp_path / "cache"
    monkeypatch.delenv("QUANTAMM_AUTH_TOKEN", raising=False)
    sim = ServerProcess(["sim_service", "--port", "0", "--host", "127.0.0.1",
                         "--auth-token-file", str(token_file),
                         "--tls-cert", str(certs.server.cert_file),
                         "--tls-key", str(certs.server.key_file),
                         "--tls-client-ca", str(certs.ca.cert_file)], "sim_service_started", cache)
    monkeypatch.setenv("QUANTAMM_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("QUANTAMM_TLS_CERT", str(certs.server.cert_file))
    monkeypatch.setenv("QUANTAMM_TLS_KEY", str(certs.server.key_file))
    try:
        trainer = ServerProcess(
            ["train_service", "--port", "0", "--host", "127.0.0.1", "--sim-address", sim.address,
             "--store", f"sqlite:///{tmp_path / 'train.sqlite'}",
             "--sim-tls-ca", str(certs.ca.cert_file),
             "--sim-tls-client-cert", str(certs.client.cert_file),
             "--sim-tls-client-key", str(certs.client.key_file)], "train_service_started", cache)
    except Exception:
        sim.kill()
        raise
    try:
        started = trainer.wait_for("train_service_started", 1)
        assert (started["auth"], started["tls"], started["mutual_tls"], started["sim_tls"]) == \
            (True, True, False, True)
        assert TOKEN not in str(trainer.records + sim.records)  # secrets never logged
        channel = grpc.secure_channel(trainer.address, grpc.ssl_channel_credentials(certs.ca.cert))
        stub = training_pb2_grpc.TrainingServiceStub(channel)
        assert serving_status(channel) == health_pb2.HealthCheckResponse.SERVING
        request = gradient_request(n_iterations=2, report_every=1)
        assert refusal(lambda: stub.StartJob(request, timeout=60)).code() == \
            grpc.StatusCode.UNAUTHENTICATED
        plaintext = training_pb2_grpc.TrainingServiceStub(grpc.insecure_channel(trainer.address))
        assert refusal(lambda: plaintext.ListJobs(training_pb2.ListJobsRequest(), timeout=10)
                       ).code() == grpc.StatusCode.UNAVAILABLE

        class Authorized:  # the stub with the token on every call
            def __getattr__(self, name):
                method = getattr(stub, name)
                return lambda request, **kw: method(
                    request, metadata=[("authorization", f"Bearer {TOKEN}")], **kw)

        job_id = Authorized().StartJob(request, timeout=120).job_id
        job = wait_done(Authorized(), job_id, timeout=300)
        assert job.state == training_pb2.JOB_STATE_SUCCEEDED, job.message
        assert job.result.iterations_done == 3
        assert "request_unauthenticated" in trainer.events()
        assert "request_unauthenticated" not in sim.events()  # train_service sent the token
    finally:
        trainer.kill()
        sim.kill()
