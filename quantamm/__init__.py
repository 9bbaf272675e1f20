"""The layers shared by both services and the client.

- ``quantamm.core``: the vocabulary, typed specs with every default declared once, units and
  parameter conversions, and the only code that reads the reference's settings dict (NumPy only:
  no JAX, no gRPC).
- ``quantamm.wire``: protobuf <-> core/NumPy conversions (tensors, runs, parameter sets, errors).
- ``quantamm.serving``: what both gRPC servers share (auth, TLS, health, logs, interceptors).

The generated stubs live in the leaf package ``quantamm_api``; every layer imports downward.
"""
