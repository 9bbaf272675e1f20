"""``ServiceClient``: what ``SimClient`` and ``TrainClient`` share: one channel (TLS, round robin),
a bearer token, a deadline per call, retries on UNAVAILABLE and typed errors. The channel and
retry plumbing is ``quantamm.serving.channels`` (the training service's calls to the simulator
use it too)."""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Sequence

import grpc

from client.errors import from_rpc_error
from quantamm.serving.channels import (
    Response,
    RetryPolicy,
    TLSConfig,
    bearer_metadata,
    open_channel,
)


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
        self.retries = retries  # after the first try
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
        try:
            return RetryPolicy(attempts=self.retries + 1).call(
                lambda _: method(request, timeout=timeout or self.timeout_seconds,
                                 metadata=self.metadata))
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def stream(self, method: Callable[..., Iterable[Response]], request: Any) -> list[Response]:
        """All messages of a server-streaming call (retried like ``call`` before the first)."""
        return self.call(lambda r, **kw: list(method(r, **kw)), request)
