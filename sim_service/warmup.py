"""Warm-up at server start: compile common configurations before the first client asks.

``--warmup momentum:365,power_channel:90`` (or ``QUANTAMM_SIM_WARMUP``) runs, for each
``rule:days``, one Simulate and one Evaluate with gradients (one parameter set, one window over
the whole period) through the servicer in-process, on the default dataset's first three sorted
tokens, ending at the dataset's last whole day. Compiled programs depend on shapes, i.e. on the
rule, token count and period length (not on the dates), so later requests of the same kind start
warm; with ``--cache-dir`` the programs also persist across restarts.
"""

from __future__ import annotations

import time

import structlog
from google.protobuf.timestamp_pb2 import Timestamp

from quantamm_api.v1 import simulation_pb2, types_pb2

log = structlog.get_logger(__name__)
DAY_SECONDS = 86_400
N_TOKENS = 3


def parse(spec: str) -> list[tuple[str, int]]:
    """'rule:days,rule:days' -> [(rule, days)]; ValueError naming the bad entry."""
    entries = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        rule, _, days = part.partition(":")
        if not rule or not days.isdigit() or int(days) < 2:
            raise ValueError(f"warm-up entry {part!r}: use RULE:DAYS with DAYS >= 2")
        entries.append((rule, int(days)))
    return entries


def warm_up(servicer, spec: str) -> float:
    """Run the warm-up calls of ``spec`` on ``servicer``; returns the seconds taken."""
    begin = time.perf_counter()
    tokens = sorted(servicer.registry.tokens("default"))[:N_TOKENS]
    series = servicer.registry.select("default", tokens).series
    end = series.end_unix_ms // 1000 // DAY_SECONDS * DAY_SECONDS - DAY_SECONDS
    for rule, days in parse(spec):
        started = time.perf_counter()
        fingerprint = types_pb2.RunFingerprint(
            tokens=tokens, rule=rule, start_time=Timestamp(seconds=end - days * DAY_SECONDS),
            end_time=Timestamp(seconds=end))
        empty = types_pb2.ParameterSet()
        next(iter(servicer.Simulate(simulation_pb2.SimulateRequest(
            fingerprint=fingerprint, parameters=empty), None)))
        servicer.Evaluate(simulation_pb2.EvaluateRequest(
            fingerprint=fingerprint, parameter_sets=[empty], window_start_offsets_minutes=[0],
            window_length_minutes=days * 1440 - 1, with_gradient=True), None)
        log.info("warmup_compiled", rule=rule, days=days,
                 seconds=round(time.perf_counter() - started, 2))
    return time.perf_counter() - begin
