"""Fixtures of the reliability tests: throwaway certificates (generated here, never committed),
and real servers on loopback with access control on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import pathlib
from typing import Iterator

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from quantamm_api.v1 import simulation_pb2_grpc, training_pb2_grpc
from quantamm.serving.security import Security
from sim_service.server import create_server
from train_service.server import create_server as create_trainer

TOKEN = "s3cret-token-for-tests"


@dataclasses.dataclass(frozen=True)
class Pem:
    """A certificate and its key as PEM bytes and as files."""

    cert: bytes
    key: bytes
    cert_file: pathlib.Path
    key_file: pathlib.Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


Issuer = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def _issue(folder: pathlib.Path, name: str, issuer: Issuer | None,
           usage: x509.ObjectIdentifier | None = None) -> tuple[Pem, *Issuer]:
    """A P-256 certificate for ``name``: a self-signed CA without ``issuer``, else a leaf for
    localhost/127.0.0.1 signed by it."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(name)).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=1)))
    if issuer is None:
        builder = builder.issuer_name(_name(name)).add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True)
        signer = key
    else:
        builder = (builder.issuer_name(issuer[0].subject)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.SubjectAlternativeName([
                       x509.DNSName("localhost"),
                       x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        signer = issuer[1]
    cert = builder.sign(signer, hashes.SHA256())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert_file, key_file = folder / f"{name}.crt", folder / f"{name}.key"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(key_pem)
    return Pem(cert_pem, key_pem, cert_file, key_file), cert, key


@dataclasses.dataclass(frozen=True)
class Certificates:
    ca: Pem
    server: Pem
    client: Pem
    rogue_client: Pem  # signed by a CA the servers do not trust


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> Certificates:
    folder = tmp_path_factory.mktemp("certs")
    ca, ca_cert, ca_key = _issue(folder, "test-ca", None)
    rogue_ca = _issue(folder, "rogue-ca", None)
    server = _issue(folder, "server", (ca_cert, ca_key), ExtendedKeyUsageOID.SERVER_AUTH)[0]
    client = _issue(folder, "client", (ca_cert, ca_key), ExtendedKeyUsageOID.CLIENT_AUTH)[0]
    rogue = _issue(folder, "rogue-client", rogue_ca[1:], ExtendedKeyUsageOID.CLIENT_AUTH)[0]
    return Certificates(ca, server, client, rogue)


@pytest.fixture(scope="session")
def secure_sim(certs, tmp_path_factory):
    """An in-process sim_service with a bearer token and mutual TLS."""
    security = Security(token=TOKEN, tls_cert=certs.server.cert,
                        tls_key=certs.server.key, tls_client_ca=certs.ca.cert)
    server, _, port, _ = create_server(host="127.0.0.1", port=0, security=security,
                                       data_dir=str(tmp_path_factory.mktemp("data")))
    yield f"localhost:{port}"
    server.stop(0)


LIMITS = {"max_message_mib": 8, "max_request_cells": 600_000, "memory_budget_mib": 4096,
          "max_step_cells": 1_000_000}


@pytest.fixture(scope="session")
def limited(tmp_path_factory) -> Iterator[dict]:
    """An in-process sim_service with small limits (``LIMITS``) and a training server over it:
    stubs and channels of both."""
    sim_server, _, sim_port, _ = create_server(
        host="127.0.0.1", port=0, data_dir=str(tmp_path_factory.mktemp("data")), workers=4,
        max_message_mib=LIMITS["max_message_mib"], max_request_cells=LIMITS["max_request_cells"],
        memory_budget_mib=LIMITS["memory_budget_mib"])
    store = tmp_path_factory.mktemp("store") / "train.sqlite"
    train_server, _, train_port, manager = create_trainer(
        [f"127.0.0.1:{sim_port}"], f"sqlite:///{store}", host="127.0.0.1",
        max_step_cells=LIMITS["max_step_cells"])
    channels = {kind: grpc.insecure_channel(f"127.0.0.1:{port}")
                for kind, port in (("sim", sim_port), ("train", train_port))}
    yield {"sim": simulation_pb2_grpc.SimulationServiceStub(channels["sim"]),
           "train": training_pb2_grpc.TrainingServiceStub(channels["train"]),
           "sim_channel": channels["sim"], "train_channel": channels["train"],
           "sim_address": f"127.0.0.1:{sim_port}"}
    for channel in channels.values():
        channel.close()
    manager.shutdown()
    train_server.stop(0)
    sim_server.stop(0)
