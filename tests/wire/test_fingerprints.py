"""The reference dict -> RunFingerprint (quantamm.wire.fingerprints): wrong value types."""

import pytest

from quantamm.core.fingerprint import FingerprintError
from quantamm.wire.fingerprints import to_proto


@pytest.mark.parametrize("key, value, message", [
    ("ste_max_change", 0.1, "must be a bool, got 0.1"),
    ("chunk_period", 1.5, "must be an int, got 1.5"),
    ("fees", "0.1", "must be a number, got '0.1'"),
    ("tokens", "BTC", "must be a list of str values"),
    ("startDateString", "2023-01-01", "must be a 'YYYY-MM-DD HH:MM:SS' string"),
])
def test_wrong_python_types_are_typed_errors_naming_the_key(key, value, message):
    """Not protobuf's bare TypeError: a FingerprintError naming the user's key."""
    with pytest.raises(FingerprintError, match=message) as info:
        to_proto({"tokens": ["BTC", "ETH"], "rule": "momentum", key: value})
    assert info.value.field == key
