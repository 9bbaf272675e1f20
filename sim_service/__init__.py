"""QuantAMM simulation service: the pure-JAX TFMM engine (``sim_service.engine``; call
``sim_service.engine.configure()`` before using it directly), datasets and the gRPC server."""
