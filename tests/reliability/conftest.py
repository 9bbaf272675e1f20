"""Fixtures of the reliability tests: throwaway certificates (generated here, never committed),
and real servers on loopback with access control on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import pathlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sim_service import serving
from sim_service.server import create_server

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


def _issue(folder: pathlib.Path, name: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
           usage: x509.ObjectIdentifier | None = None) -> tuple[Pem, x509.Certificate, ec.EllipticCurvePrivateKey]:
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
                       x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
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
    security = serving.Security(token=TOKEN, tls_cert=certs.server.cert,
                                tls_key=certs.server.key, tls_client_ca=certs.ca.cert)
    server, _, port, _ = create_server(host="127.0.0.1", port=0, security=security,
                                       data_dir=str(tmp_path_factory.mktemp("data")))
    yield f"localhost:{port}"
    server.stop(0)
