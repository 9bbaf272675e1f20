"""Access control of a server: a bearer token and TLS (mutual TLS with a client CA), the flags
and environment variables that configure them, and binding the listening port."""

from __future__ import annotations

import argparse
import dataclasses
import os
import pathlib

import grpc

from quantamm.serving.interceptors import AuthInterceptor


@dataclasses.dataclass(frozen=True)
class Security:
    """Access control of a server: a bearer token and PEM TLS material (mutual TLS when
    ``tls_client_ca`` is given)."""

    token: str | None = None
    tls_cert: bytes | None = None
    tls_key: bytes | None = None
    tls_client_ca: bytes | None = None

    def __post_init__(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls: give both the certificate and its key")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError("tls_client_ca: mutual TLS needs the server certificate and key")
        if self.token is not None and not self.token.strip():
            raise ValueError("token: empty")

    def credentials(self) -> grpc.ServerCredentials | None:
        """Server TLS credentials, or None for plaintext."""
        if self.tls_cert is None:
            return None
        return grpc.ssl_server_credentials(
            [(self.tls_key, self.tls_cert)], root_certificates=self.tls_client_ca,
            require_client_auth=self.tls_client_ca is not None)

    def interceptors(self) -> list[grpc.ServerInterceptor]:
        return [AuthInterceptor(self.token)] if self.token else []

    def describe(self) -> dict[str, bool]:
        """What is on, for the start log (never the secrets)."""
        return {"auth": bool(self.token), "tls": self.tls_cert is not None,
                "mutual_tls": self.tls_client_ca is not None}


def read_token(path: str | None, env_var: str = "QUANTAMM_AUTH_TOKEN") -> str | None:
    """The bearer token from the file ``path`` (surrounding whitespace dropped), else from the
    environment variable ``env_var``, else None (auth off)."""
    token = pathlib.Path(path).read_text().strip() if path else os.environ.get(env_var)
    if token is not None and not token.strip():
        raise ValueError(f"auth token {'file ' + path if path else env_var} is empty")
    return token.strip() if token else None


def _read(path: str | None) -> bytes | None:
    return pathlib.Path(path).read_bytes() if path else None


def add_security_arguments(parser: argparse.ArgumentParser) -> None:
    """--auth-token-file, --tls-cert, --tls-key and --tls-client-ca."""
    env = os.environ.get
    parser.add_argument("--auth-token-file", default=env("QUANTAMM_AUTH_TOKEN_FILE"),
                        help="require 'authorization: Bearer <token>' with the token in this "
                             "file [QUANTAMM_AUTH_TOKEN_FILE; or the token itself in "
                             "QUANTAMM_AUTH_TOKEN]; health checks are exempt")
    parser.add_argument("--tls-cert", default=env("QUANTAMM_TLS_CERT"),
                        help="PEM server certificate (chain): serve TLS only [QUANTAMM_TLS_CERT]")
    parser.add_argument("--tls-key", default=env("QUANTAMM_TLS_KEY"),
                        help="PEM private key of --tls-cert [QUANTAMM_TLS_KEY]")
    parser.add_argument("--tls-client-ca", default=env("QUANTAMM_TLS_CLIENT_CA"),
                        help="PEM CA of client certificates: mutual TLS [QUANTAMM_TLS_CLIENT_CA]")


def security_from_args(args: argparse.Namespace) -> Security:
    """The Security the parsed flags describe (files read now)."""
    return Security(token=read_token(args.auth_token_file), tls_cert=_read(args.tls_cert),
                    tls_key=_read(args.tls_key), tls_client_ca=_read(args.tls_client_ca))


def bind(server: grpc.Server, host: str, port: int, security: Security) -> int:
    """Listen on ``host:port`` (TLS when configured); the bound port."""
    address = f"{host}:{port}"
    credentials = security.credentials()
    bound = (server.add_insecure_port(address) if credentials is None
             else server.add_secure_port(address, credentials))
    if bound == 0:
        raise OSError(f"could not bind {address}")
    return bound
