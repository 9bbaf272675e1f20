"""QuantAMM simulation service: the pure-JAX TFMM engine (``sim_service.engine``), price datasets
(``sim_service.data``) and the gRPC server. Importing the engine switches JAX to float64."""
