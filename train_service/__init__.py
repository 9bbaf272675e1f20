"""QuantAMM training service: gradient descent (optax) and Optuna search as durable jobs.

Orchestration only: every objective value and gradient comes from sim_service over gRPC; this
package never imports the simulation engine.
"""
