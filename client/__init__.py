"""QuantAMM client: typed wrappers over the generated gRPC stubs (client._generated)."""
