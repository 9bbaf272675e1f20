"""Gradient-descent jobs against both real servers on loopback: improvement, reproducibility,
early stopping, the settings surface, watching, cancelling and refused requests; and the loop's
replacement of non-finite sets."""

import time

import grpc
import jax
import numpy as np
import pytest

from quantamm_api.v1 import training_pb2
from quantamm.wire.tensors import from_tensor, to_tensor
from tests.train.conftest import comparable, gradient_request, optuna_request, run_job, wait_done
from train_service import evaluation, gradient, parameters, windows
from train_service.optimiser import Optimiser
from train_service.problem import prepare
from train_service.simclient import SimClient

SUCCEEDED = training_pb2.JOB_STATE_SUCCEEDED


def result_params(result: training_pb2.TrainingResult) -> dict[str, np.ndarray]:
    return {k: from_tensor(v) for k, v in result.best_parameters.values.items()}


def mean_objective(sim: SimClient, problem, one_set: dict) -> float:
    """Mean objective over the fixed evaluation windows of the training region."""
    stacked = {key: np.asarray(value)[None] for key, value in one_set.items()}
    offsets = windows.evaluation_offsets(0, problem.settings.bout_offset_minutes)
    return float(evaluation.objectives(sim, problem, stacked, offsets)[0].mean())


def test_gradient_descent_improves_the_objective_and_returns_params_and_metrics(stub, sim_address):
    # The 0.5 margin below was sized on the numpy sampler's windows for seed 0; with the
    # reference's windows validation happens to select iteration 0 on this tiny problem.
    request = gradient_request(n_iterations=30, window_sampler="numpy")
    job = run_job(stub, request)
    assert job.state == SUCCEEDED, job.message
    result = job.result
    params = result_params(result)
    assert set(params) == {"log_k", "logit_lamb", "logit_delta_lamb", "initial_weights_logits"}
    np.testing.assert_array_equal(params["initial_weights_logits"], 1.0)  # never trained
    sim = SimClient([sim_address])
    problem = prepare(request, sim)
    start = mean_objective(sim, problem, parameters.select(problem.starting_sets(), 0))
    trained = mean_objective(sim, problem, params)
    assert trained > start + 0.5, (start, trained)
    assert result.iterations_done == 31 and 0 <= result.best_iteration <= 30
    assert result.selection_method == "best_val" and result.selection_metric == "daily_log_sharpe"
    for metrics in (result.train_metrics, result.validation_metrics, result.test_metrics):
        assert {"sharpe", "daily_log_sharpe", "return", "returns_over_uniform_hodl"} <= set(metrics)
        assert np.isfinite(metrics["daily_log_sharpe"])
    # the selected set is the best of its iteration, whose set-mean is best_metric_value
    assert result.validation_metrics["daily_log_sharpe"] >= result.best_metric_value - 1e-9
    assert job.progress.iteration == 30 and job.progress.total_iterations == 31


def test_same_seed_and_settings_give_the_same_result(stub):
    ids = [stub.StartJob(gradient_request(n_iterations=8, seed=s)).job_id for s in (3, 3, 4)]
    first, second, other = [wait_done(stub, job_id).result for job_id in ids]
    assert comparable(first) == comparable(second)
    assert first.test_metrics["return"] == second.test_metrics["return"]
    assert not np.array_equal(result_params(first)["log_k"], result_params(other)["log_k"])


def test_early_stopping_ends_patience_iterations_after_the_best(stub):
    request = gradient_request(n_iterations=200)
    request.settings.early_stopping_patience = 4
    result = run_job(stub, request).result
    assert result.iterations_done == result.best_iteration + 4 + 1 < 201


def test_without_a_test_period_the_result_has_no_test_metrics(stub):
    request = gradient_request(n_iterations=2)
    request.fingerprint.ClearField("end_test_time")
    result = run_job(stub, request).result
    assert not result.test_metrics
    assert "daily_log_sharpe" in result.train_metrics
    assert "daily_log_sharpe" in result.validation_metrics


def test_the_other_optimisers_schedules_samplers_and_shared_parameters_run(stub):
    request = gradient_request(
        n_iterations=6, optimiser="sgd", base_lr=0.01, lr_schedule_type="warmup_cosine",
        warmup_steps=2, sample_method="stratified", force_scalar=True, eval_every=3,
        decay_lr_plateau=1, decay_lr_ratio=0.5, window_sampler="reference_legacy")
    request.settings.parameter_init_method = "sobol"
    request.settings.initial_values.CopyFrom(training_pb2.InitialValues(
        memory_length_days=30.0, k_per_day=5.0, weights_logits=[0.3, 0.0, -0.3]))
    job = run_job(stub, request)
    assert job.state == SUCCEEDED, job.message
    params = result_params(job.result)
    assert params["log_k"].shape == (1,) and params["logit_lamb"].shape == (1,)
    np.testing.assert_array_equal(params["initial_weights_logits"], [0.3, 0.0, -0.3])
    assert 0 < job.progress.learning_rate < 0.01


def test_watch_streams_progress_and_cancel_stops_within_seconds(stub):
    job_id = stub.StartJob(gradient_request(n_iterations=100_000, report_every=2)).job_id
    stream = stub.WatchJob(training_pb2.WatchJobRequest(job_id=job_id), timeout=120)
    iterations = []
    for event in stream:
        if event.progress.iteration > 0:
            iterations.append(event.progress.iteration)
        if len(iterations) == 3:
            break
    assert iterations == sorted(iterations) and len(set(iterations)) == 3
    asked = time.monotonic()
    stub.CancelJob(training_pb2.CancelJobRequest(job_id=job_id))
    states = [event.state for event in stream]
    assert states[-1] == training_pb2.JOB_STATE_CANCELLED
    assert time.monotonic() - asked < 5.0
    job = stub.GetJob(training_pb2.GetJobRequest(job_id=job_id)).job
    assert job.state == training_pb2.JOB_STATE_CANCELLED and job.progress.iteration > 0
    listed = stub.ListJobs(training_pb2.ListJobsRequest(state=training_pb2.JOB_STATE_CANCELLED))
    assert job_id in [j.job_id for j in listed.jobs]
    done = list(stub.WatchJob(training_pb2.WatchJobRequest(job_id=job_id)))
    assert [e.state for e in done] == [training_pb2.JOB_STATE_CANCELLED]


def _refused(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call(request, timeout=30)
    return error.value


@pytest.mark.parametrize("change, code, field", [
    (lambda r: setattr(r.settings.gradient_descent, "base_lr", -1.0),
     grpc.StatusCode.INVALID_ARGUMENT, "settings.gradient_descent.base_lr"),
    (lambda r: setattr(r.settings.gradient_descent, "optimiser", "rmsprop"),
     grpc.StatusCode.INVALID_ARGUMENT, "settings.gradient_descent.optimiser"),
    (lambda r: setattr(r.settings.gradient_descent, "window_sampler", "mersenne"),
     grpc.StatusCode.INVALID_ARGUMENT, "settings.gradient_descent.window_sampler"),
    (lambda r: setattr(r.settings, "val_fraction", 0.0),
     grpc.StatusCode.INVALID_ARGUMENT, "settings.early_stopping"),
    (lambda r: setattr(r.settings.gradient_descent, "batch_size", 5000),
     grpc.StatusCode.INVALID_ARGUMENT, "settings.gradient_descent.batch_size"),
    (lambda r: setattr(r.fingerprint, "rule", "martingale"),
     grpc.StatusCode.INVALID_ARGUMENT, "fingerprint.rule"),
    (lambda r: r.initial_parameters.add().values["foo"].CopyFrom(to_tensor(np.ones(3))),
     grpc.StatusCode.INVALID_ARGUMENT, "initial_parameters[0].values['foo']"),
])
def test_bad_settings_are_refused_naming_the_field(stub, change, code, field):
    request = gradient_request()
    change(request)
    error = _refused(stub.StartJob, request)
    assert error.code() == code and error.details().startswith(field), error.details()


def test_bad_search_ranges_unknown_jobs_and_resuming_a_finished_job_are_refused(stub):
    request = optuna_request()
    request.settings.optuna.parameter_config["logit_lamb"].CopyFrom(
        training_pb2.ParameterRange(low=-20.0, high=-19.0))
    error = _refused(stub.StartJob, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "parameter_config['logit_lamb']: empty search range" in error.details()
    missing = _refused(stub.GetJob, training_pb2.GetJobRequest(job_id="no-such-job"))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    finished = run_job(stub, gradient_request(n_iterations=1))
    again = _refused(stub.ResumeJob, training_pb2.ResumeJobRequest(job_id=finished.job_id))
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "JOB_STATE_SUCCEEDED, not INTERRUPTED" in again.details()


def test_given_starting_sets_are_used_as_they_are(stub):
    request = gradient_request(n_iterations=1)
    for logit_lamb in (1.0, 2.0):
        given = request.initial_parameters.add()
        given.values["logit_lamb"].CopyFrom(to_tensor(np.full(3, logit_lamb)))
        given.values["log_k"].CopyFrom(to_tensor(np.array([2.0])))
    request.settings.gradient_descent.base_lr = 1e-9
    params = result_params(run_job(stub, request).result)
    assert np.allclose(params["logit_lamb"], 1.0) or np.allclose(params["logit_lamb"], 2.0)
    np.testing.assert_allclose(params["log_k"], 2.0, atol=1e-6)


# --------------------------------------------------------------------------- the loop's pieces


def test_non_finite_sets_are_replaced_from_the_bank_with_fresh_optimiser_state(sim_address):
    sim = SimClient([sim_address])
    problem = prepare(gradient_request(), sim)
    optimiser = Optimiser(problem.settings.gradient)
    loop = gradient._fresh(problem, optimiser)
    trainable = gradient._trainable(problem, loop.params)
    updated, loop.opt_state = optimiser.step(
        trainable, {k: np.ones_like(v) for k, v in trainable.items()}, np.ones(2), loop.opt_state)
    loop.params.update(updated)
    loop.params["log_k"][1, 0] = np.nan
    kept = loop.params["logit_lamb"][0].copy()
    gradient._replace_non_finite(loop, problem, optimiser)
    entry = gradient.bank_entry(problem, 0)
    np.testing.assert_array_equal(loop.params["log_k"][1], entry["log_k"][1])
    np.testing.assert_array_equal(loop.params["logit_lamb"][0], kept)
    assert loop.nan_events == 1
    counts = [leaf for leaf in jax.tree_util.tree_leaves(loop.opt_state) if leaf.dtype == np.int32]
    assert all(int(c[0]) == 1 and int(c[1]) == 0 for c in counts)
