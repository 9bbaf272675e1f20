"""gRPC plumbing shared by both services, and the outgoing-call plumbing the client shares.

- ``server``: ``build_server`` (interceptors, limits, connection age, health, reflection),
  the shared flags and ``serve_until_signalled`` (graceful drain on SIGTERM);
  ``interceptors``: request ids, access logs, error mapping, malformed bytes, bearer-token auth;
  ``security``: ``Security`` (token, TLS, mutual TLS), its flags, ``bind``.
- ``channels``: outgoing channels (TLS, bearer token, message limits, round robin) and the
  ``RetryPolicy`` of every call to a service; ``logs``: structlog setup. These two import no
  server module: the client uses them.

This package imports nothing on its own (``import quantamm.serving.logs`` stays light).
"""
