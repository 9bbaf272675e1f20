"""QuantAMM simulation service: the pure-JAX TFMM engine (``sim_service.engine``), price datasets
(``quantamm.data``) and the gRPC server. Importing the engine switches JAX to float64."""
