"""Data errors (quantamm.data.errors): they survive pickling with their field and message."""

from __future__ import annotations

import pickle

from quantamm.data import BadPriceError, DataRangeError, UnknownTokenError
from tests.data.conftest import HOUR, MINUTE, T0


def test_errors_pickle() -> None:
    errors = [
        UnknownTokenError("SOL", ["BTC"]),
        DataRangeError("start", T0, T0 + MINUTE, T0 + HOUR),
        BadPriceError("ETH", T0, float("nan")),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert (copy.field, str(copy)) == (error.field, str(error))
