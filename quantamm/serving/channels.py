"""Outgoing calls to the services, shared by the client and the training service: TLS settings,
the bearer-token metadata, channel options (message limits, round-robin balancing) and the retry
policy. Imports no server package (the client uses it)."""

from __future__ import annotations

import dataclasses
import math
import os
import pathlib
import time
from typing import Callable, TypeVar

import grpc

Response = TypeVar("Response")
MIB = 1024 * 1024
RETRIED = frozenset({grpc.StatusCode.UNAVAILABLE})  # the service is down or restarting

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


# Reconnect backoff after a lost connection: gRPC's default grows to 120 s, so a replica that is
# back would not be tried for minutes; capped here, a call finds it within about a second.
MAX_RECONNECT_BACKOFF_MS = 1000


def channel_options(max_message_mib: int) -> list[tuple[str, object]]:
    """Message limits both ways, ``round_robin`` balancing (a target that resolves to several
    replicas, a headless Service or ``ipv4:host:port,host:port``, spreads its calls over all),
    and a reconnect backoff capped at ``MAX_RECONNECT_BACKOFF_MS``."""
    return [("grpc.max_send_message_length", max_message_mib * MIB),
            ("grpc.max_receive_message_length", max_message_mib * MIB),
            ("grpc.lb_policy_name", "round_robin"),
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS)]


def open_channel(
    address: str, credentials: grpc.ChannelCredentials | None, max_message_mib: int
) -> grpc.Channel:
    """A channel to ``address`` (TLS when ``credentials`` is given)."""
    options = channel_options(max_message_mib)
    if credentials is None:
        return grpc.insecure_channel(address, options=options)
    return grpc.secure_channel(address, credentials, options=options)


class RetriesExhausted(grpc.RpcError):
    """A call still failed with a retryable status after all its tries; ``code()`` and
    ``details()`` are the last failure's."""

    def __init__(self, error: grpc.RpcError, attempts: int, seconds: float) -> None:
        super().__init__(f"{error.code().name} after {attempts} tries in {seconds:.1f} s")
        self.error, self.attempts, self.seconds = error, attempts, seconds

    def code(self) -> grpc.StatusCode:
        return self.error.code()

    def details(self) -> str | None:
        return self.error.details()


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """When a failed call is tried again, and the pause before.

    A failure whose status is in ``codes`` is retried until ``attempts`` tries have been made
    and ``min_seconds`` have passed since the first (both); any other failure is final at once.
    Pauses start at ``first_pause_seconds`` and double, up to ``max_pause_seconds``; with
    ``round_size`` n only every n-th failure pauses (a caller that moves to the next of n
    replicas tries each once before waiting).
    """

    attempts: int = 4
    codes: frozenset[grpc.StatusCode] = RETRIED
    min_seconds: float = 0.0
    first_pause_seconds: float = 0.2
    max_pause_seconds: float = math.inf

    def call(self, attempt: Callable[[int], Response], round_size: int = 1,
             on_retry: Callable[[grpc.RpcError, int, float], None] | None = None) -> Response:
        """``attempt(n)`` for tries n = 1, 2, ... until one returns. A final failure is raised:
        the ``grpc.RpcError`` itself when its status is not retried, ``RetriesExhausted`` when
        the tries are spent. ``on_retry(error, n, seconds_since_first)`` precedes each retry."""
        pause, started = self.first_pause_seconds, time.monotonic()
        tries = 0
        while True:
            tries += 1
            try:
                return attempt(tries)
            except grpc.RpcError as error:
                if error.code() not in self.codes:
                    raise
                waited = time.monotonic() - started
                if tries >= self.attempts and waited >= self.min_seconds:
                    raise RetriesExhausted(error, tries, waited) from error
                if on_retry is not None:
                    on_retry(error, tries, waited)
                if tries % round_size == 0:
                    time.sleep(pause)
                    pause = min(2 * pause, self.max_pause_seconds)
