"""Connections to the services: channels (TLS, round robin), bearer tokens, deadlines, retries
on UNAVAILABLE and typed errors, shared by every client (``SimClient``, ``TrainClient`` and the
training service's calls to the simulator)."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import time
from typing import Any, Callable, Iterable, Sequence, TypeVar

import grpc

from client.errors import from_rpc_error

Response = TypeVar("Response")
MIB = 1024 * 1024
RETRIED = (grpc.StatusCode.UNAVAILABLE,)


PemSource = str | os.PathLike | bytes | None


def _pem(source: PemSource) -> bytes | None:
    if source is None or isinstance(source, bytes):
        return source
    return pathlib.Path(source).read_bytes()


@dataclasses.dataclass(frozen=True)
class TLSConfig:
    """TLS to a service: ``ca_cert`` verifies the server (None: the system's roots);
    ``client_cert`` and ``client_key`` (both or neither) answer a server that asks for mutual
    TLS. Each is a PEM file path or the PEM bytes."""

    ca_cert: PemSource = None
    client_cert: PemSource = None
    client_key: PemSource = None

    def __post_init__(self) -> None:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("tls: give both client_cert and client_key, or neither")

    @classmethod
    def from_env(cls, prefix: str = "QUANTAMM_TLS_") -> "TLSConfig | None":
        """From ``{prefix}CA``, ``{prefix}CLIENT_CERT``, ``{prefix}CLIENT_KEY``; None (plaintext)
        when none is set."""
        values = [os.environ.get(prefix + name) or None for name in ("CA", "CLIENT_CERT",
                                                                     "CLIENT_KEY")]
        return cls(*values) if any(values) else None

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(_pem(self.ca_cert), _pem(self.client_key),
                                            _pem(self.client_cert))


def bearer_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """The ``authorization`` metadata that carries ``token`` (none without a token)."""
    return (("authorization", f"Bearer {token}"),) if token else ()


def open_channel(
    address: str, credentials: grpc.ChannelCredentials | None, max_message_mib: int
) -> grpc.Channel:
    """A channel to ``address`` (TLS when ``credentials`` is given)."""
    options = [("grpc.max_send_message_length", max_message_mib * MIB),
               ("grpc.max_receive_message_length", max_message_mib * MIB),
               ("grpc.lb_policy_name", "round_robin")]
    if credentials is None:
        return grpc.insecure_channel(address, options=options)
    return grpc.secure_channel(address, credentials, options=options)


class ServiceClient:
    """Shared plumbing: one channel, a deadline per call, bounded retries on UNAVAILABLE, typed
    errors, and metadata (e.g. a bearer token) sent with every call.

    Args:
      token: bearer token sent as ``authorization: Bearer ...`` (default: QUANTAMM_AUTH_TOKEN;
        ``""`` sends none).
      tls: TLS (and client certificate) settings (default: from QUANTAMM_TLS_CA,
        QUANTAMM_TLS_CLIENT_CERT, QUANTAMM_TLS_CLIENT_KEY; plaintext when none is set).
      credentials: ready-made channel credentials instead of ``tls``.
    """

    def __init__(
        self,
        address: str,
        *,
        timeout_seconds: float = 600.0,
        retries: int = 3,
        credentials: grpc.ChannelCredentials | None = None,
        token: str | None = None,
        tls: TLSConfig | None = None,
        metadata: Sequence[tuple[str, str]] = (),
        max_message_mib: int = 64,
    ) -> None:
        self.address = address
        self.timeout_seconds = timeout_seconds
        self.retries = retries
        self.metadata = tuple(metadata)
        token = os.environ.get("QUANTAMM_AUTH_TOKEN") if token is None else token
        tls = TLSConfig.from_env() if tls is None and credentials is None else tls
        if tls is not None and credentials is not None:
            raise ValueError("give tls or credentials, not both")
        self.metadata = (*bearer_metadata(token), *self.metadata)
        self.channel = open_channel(address, tls.credentials() if tls else credentials,
                                    max_message_mib)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def call(self, method: Callable[..., Response], request: Any, timeout: float | None = None):
        """``method(request)`` with a deadline; UNAVAILABLE is retried with backoff."""
        delay = 0.2
        for attempt in range(self.retries + 1):
            try:
                return method(request, timeout=timeout or self.timeout_seconds,
                              metadata=self.metadata)
            except grpc.RpcError as error:
                if error.code() not in RETRIED or attempt == self.retries:
                    raise from_rpc_error(error) from None
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def stream(self, method: Callable[..., Iterable[Response]], request: Any) -> list[Response]:
        """All messages of a server-streaming call (retried like ``call`` before the first)."""
        return self.call(lambda r, **kw: list(method(r, **kw)), request)
