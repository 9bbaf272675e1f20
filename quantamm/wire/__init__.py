"""The wire layer: protobuf messages <-> core types and NumPy arrays."""
