"""Serving plumbing both gRPC servers share: auth, TLS, health, logs, interceptors."""
