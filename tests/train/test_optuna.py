"""Optuna jobs against both real servers: default settings run, trials in flight, the study
in the SQLite store, multi-objective statistics, reproducibility and study early stopping."""

import math

import numpy as np
import optuna
from optuna.trial import TrialState

from quantamm_api.v1 import training_pb2
from quantamm.wire.tensors import from_tensor
from tests.train.conftest import comparable, optuna_request, run_job, wait_done

SUCCEEDED = training_pb2.JOB_STATE_SUCCEEDED


def test_twelve_trials_three_in_flight_give_the_best_trial_and_a_stored_study(stub, trainer):
    job = run_job(stub, optuna_request(n_trials=12, n_jobs=3))
    assert job.state == SUCCEEDED, job.message
    result = job.result
    complete = [t for t in result.trials if t.state == "COMPLETE"]
    assert len(result.trials) == 12 and len(complete) == 12  # defaults: no trial fails
    best = max(complete, key=lambda t: t.values[0])
    assert (result.best_iteration, result.best_metric_value) == (best.number, best.values[0])
    params = {k: from_tensor(v) for k, v in result.best_parameters.values.items()}
    for key in params:
        np.testing.assert_array_equal(params[key], from_tensor(best.parameters.values[key]))
    assert np.all((params["logit_lamb"] > -5.96) & (params["logit_lamb"] < 4.61))
    assert {"train", "validation", "test"} == {
        name for name, metrics in (("train", result.train_metrics),
                                   ("validation", result.validation_metrics),
                                   ("test", result.test_metrics)) if "daily_log_sharpe" in metrics}
    assert math.isfinite(result.validation_metrics["daily_log_sharpe"])
    study = optuna.load_study(study_name=result.study_name,
                              storage=f"sqlite:///{trainer['store']}")
    trials = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(trials) == 12 and study.best_trial.number == best.number
    first_batch = sorted(trials, key=lambda t: t.number)[:3]
    started = max(t.datetime_start for t in first_batch)
    assert started < min(t.datetime_complete for t in first_batch)  # all three in flight
    assert job.progress.iteration == 12 and job.progress.best_iteration == best.number


def test_multi_objective_reports_mean_std_and_worst_and_the_pareto_front(stub):
    job = run_job(stub, optuna_request(n_trials=8, n_jobs=2, multi_objective=True))
    assert job.state == SUCCEEDED, job.message
    result = job.result
    stats = result.period_statistics
    assert stats.worst <= stats.mean and stats.std > 0
    assert result.best_iteration in result.pareto_front and len(result.pareto_front) >= 1
    by_number = {t.number: t for t in result.trials}
    best = by_number[result.best_iteration]
    assert list(best.values) == [stats.mean, stats.worst, -stats.std]
    for number in result.pareto_front:  # no front member is dominated by another trial
        values = np.array(by_number[number].values)
        assert not any(np.all(np.array(t.values) >= values) and np.any(np.array(t.values) > values)
                       for t in result.trials if t.values)


def test_same_seed_gives_the_same_trials_with_several_in_flight(stub):
    ids = [stub.StartJob(optuna_request(n_trials=6, n_jobs=3, seed=5)).job_id for _ in range(2)]
    first, second = [wait_done(stub, job_id).result for job_id in ids]
    assert first.study_name != second.study_name
    first.ClearField("study_name")
    second.ClearField("study_name")
    assert comparable(first) == comparable(second)


def test_the_study_timeout_ends_the_search_after_the_batch_in_flight(stub):
    job = run_job(stub, optuna_request(n_trials=30, n_jobs=3, timeout_seconds=0.01))
    assert job.state == SUCCEEDED, job.message
    assert job.result.iterations_done == 3


def test_study_early_stopping_ends_the_search(stub):
    job = run_job(stub, optuna_request(
        n_trials=30, n_jobs=3, early_stopping=True, early_stopping_patience=3,
        early_stopping_min_improvement=10.0))
    assert job.state == SUCCEEDED, job.message
    assert job.result.iterations_done == 6 and len(job.result.trials) == 6
