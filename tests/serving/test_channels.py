"""The retry policy every outgoing call uses (``quantamm.serving.channels.RetryPolicy``): which
failures are retried, how many tries and how long, the pauses, and what is raised at the end."""

from __future__ import annotations

import grpc
import pytest

from quantamm.serving import channels
from quantamm.serving.channels import RetriesExhausted, RetryPolicy

UNAVAILABLE, INVALID = grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INVALID_ARGUMENT


class Failure(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, number: int = 0) -> None:
        self._code, self.number = code, number

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return f"try {self.number}"


@pytest.fixture
def clock(monkeypatch) -> dict:
    """A fake clock: ``sleep`` advances ``monotonic``; the pauses are recorded."""
    state = {"now": 0.0, "pauses": []}

    def sleep(seconds: float) -> None:
        state["pauses"].append(seconds)
        state["now"] += seconds

    monkeypatch.setattr(channels.time, "monotonic", lambda: state["now"])
    monkeypatch.setattr(channels.time, "sleep", sleep)
    return state


def failing(codes: list[grpc.StatusCode], answer: str = "ok"):
    """An attempt that fails with ``codes`` in turn, then answers."""
    tries: list[int] = []

    def attempt(number: int) -> str:
        tries.append(number)
        if len(tries) <= len(codes):
            raise Failure(codes[len(tries) - 1], number)
        return answer

    return attempt, tries


def test_retryable_failures_are_retried_with_doubling_pauses(clock):
    attempt, tries = failing([UNAVAILABLE] * 3)
    assert RetryPolicy(attempts=4).call(attempt) == "ok"
    assert tries == [1, 2, 3, 4]
    assert clock["pauses"] == pytest.approx([0.2, 0.4, 0.8])


def test_spent_tries_raise_the_last_failure_and_refusals_are_final(clock):
    attempt, tries = failing([UNAVAILABLE] * 5)
    with pytest.raises(RetriesExhausted) as spent:
        RetryPolicy(attempts=3).call(attempt)
    assert (spent.value.code(), spent.value.details(), spent.value.attempts) == \
        (UNAVAILABLE, "try 3", 3)
    assert isinstance(spent.value, grpc.RpcError) and spent.value.error.number == 3
    attempt, tries = failing([UNAVAILABLE, INVALID])
    with pytest.raises(Failure) as refused:
        RetryPolicy(attempts=5).call(attempt)
    assert refused.value.code() == INVALID and tries == [1, 2]


def test_rounds_pause_once_per_round_and_retrying_lasts_min_seconds(clock):
    retried: list[tuple[int, float]] = []
    attempt, tries = failing([UNAVAILABLE] * 100)
    policy = RetryPolicy(attempts=2, min_seconds=2.0, first_pause_seconds=0.5,
                         max_pause_seconds=1.0)
    with pytest.raises(RetriesExhausted) as spent:
        policy.call(attempt, round_size=2,
                    on_retry=lambda error, number, waited: retried.append((number, waited)))
    assert clock["pauses"] == [0.5, 1.0, 1.0]  # after tries 2, 4 and 6
    assert spent.value.attempts == 7 and spent.value.seconds == 2.5
    assert [number for number, _ in retried] == [1, 2, 3, 4, 5, 6]


def test_the_retried_codes_are_the_policys(clock):
    attempt, tries = failing([grpc.StatusCode.DEADLINE_EXCEEDED])
    policy = RetryPolicy(codes=channels.RETRIED | {grpc.StatusCode.DEADLINE_EXCEEDED})
    assert policy.call(attempt) == "ok" and tries == [1, 2]
    with pytest.raises(Failure):
        RetryPolicy().call(failing([grpc.StatusCode.DEADLINE_EXCEEDED])[0])
