"""Parameter transforms (sim_service.engine.transforms): memory days <-> lambda <-> logit
against the check values of docs/simulation.md §2.1, and squareplus."""

import pytest

from sim_service.engine import transforms


@pytest.mark.parametrize(
    "days, chunk, lamb, logit",
    [
        (10, 1440, 0.680360711885157, 0.755429980824),
        (10, 60, 0.984933761242677, 4.180117994737),
        (30, 1440, 0.883747605303189, 2.028407863710),
        (365, 1440, 0.990076220832141, 4.602848117654),
        (0.5, 1440, 0.002584031044949, -5.955817303419),
    ],
)
def test_memory_days_to_lambda_matches_reference(days, chunk, lamb, logit):
    assert float(transforms.memory_days_to_lamb(days, chunk)) == pytest.approx(lamb, rel=1e-13)
    assert float(transforms.memory_days_to_lamb_np(days, chunk)) == pytest.approx(lamb, rel=1e-14)
    assert float(transforms.memory_days_to_logit_lamb(days, chunk)) == pytest.approx(logit, abs=1e-11)


@pytest.mark.parametrize(
    "logit, days_1440, days_60",
    [(0.0, 5.768998281230, 0.240374928385), (2.0, 29.224839369315, 1.217701640388),
     (4.0, 200.838336599397, 8.368264024975)],
)
def test_logit_lambda_to_memory_days(logit, days_1440, days_60):
    assert float(transforms.logit_lamb_to_memory_days(logit, 1440)) == pytest.approx(days_1440, rel=1e-11)
    assert float(transforms.logit_lamb_to_memory_days(logit, 60)) == pytest.approx(days_60, rel=1e-11)


def test_numpy_lambda_variant_guards_extremes():
    assert transforms.memory_days_to_lamb_np(0.0, 1440) == 0.0
    assert float(transforms.memory_days_to_lamb_np(365, 1)) == 1.0  # reference: lambda = 1


def test_squareplus_round_trip():
    assert float(transforms.squareplus(0.0)) == 1.0
    assert transforms.inverse_squareplus(20.0) == pytest.approx(19.95)
    assert float(transforms.squareplus(transforms.inverse_squareplus(3.7))) == pytest.approx(3.7)


def test_reference_chunk_period_keyword_and_default():
    """The reference's spelling: ``chunk_period=`` keyword, and 60 minutes when omitted."""
    by_position = float(transforms.memory_days_to_lamb(10.0, 1440))
    assert float(transforms.memory_days_to_lamb(10.0, chunk_period=1440)) == by_position
    assert float(transforms.memory_days_to_lamb(10.0, chunk_period_minutes=1440)) == by_position
    assert float(transforms.memory_days_to_lamb(10.0)) == float(
        transforms.memory_days_to_lamb(10.0, 60))
    lamb = transforms.memory_days_to_lamb(10.0, chunk_period=1440)
    assert float(transforms.lamb_to_memory_days(lamb, chunk_period=1440)) == pytest.approx(10.0)
    assert float(transforms.logit_lamb_to_memory_days(0.0, chunk_period=60)) == float(
        transforms.logit_lamb_to_memory_days(0.0, 60))
    with pytest.raises(TypeError, match="both"):
        transforms.memory_days_to_lamb(10.0, 1440, chunk_period=60)
    with pytest.raises(TypeError, match="chunk_period"):
        transforms.lamb_to_memory_days(0.9)
