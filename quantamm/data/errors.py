"""Errors raised for bad price data or requests that do not fit the data.

Every error is a ``ValueError`` carrying ``field``, the request field at fault (``"tokens"``,
``"start"``, ``"prices"``, ...), so a server can map it to an invalid-argument reply. ``args``
holds the constructor arguments, so the errors pickle across processes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable


def iso_utc(unix_ms: int) -> str:
    """ISO 8601 UTC form of a unix-millisecond time, e.g. ``2021-06-01T00:00:00Z``."""
    try:
        moment = datetime.datetime.fromtimestamp(unix_ms / 1000, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return f"unix_ms {unix_ms}"
    timespec = "seconds" if unix_ms % 1000 == 0 else "milliseconds"
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


class DataError(ValueError):
    """A price data set or a request does not fit; ``field`` names the request field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


class UnknownTokenError(DataError):
    """A requested token is not in the data; the message lists the available ones."""

    def __init__(self, token: str, available: Iterable[str]) -> None:
        self.token = token
        self.available = tuple(available)
        listed = ", ".join(self.available) or "none"
        super().__init__("tokens", f"unknown token {token!r}; available tokens: {listed}")
        self.args = (token, self.available)


class DataRangeError(DataError):
    """A time lies outside the data, or not on its minute grid."""

    def __init__(self, field: str, unix_ms: int, first_unix_ms: int, last_unix_ms: int) -> None:
        self.unix_ms = unix_ms
        self.first_unix_ms = first_unix_ms
        self.last_unix_ms = last_unix_ms
        span = f"{iso_utc(first_unix_ms)} .. {iso_utc(last_unix_ms)}"
        if first_unix_ms <= unix_ms <= last_unix_ms:
            problem = f"is not a whole minute of the data grid ({span})"
        else:
            problem = f"is outside the data range {span}"
        super().__init__(field, f"{field} {iso_utc(unix_ms)} {problem}")
        self.args = (field, unix_ms, first_unix_ms, last_unix_ms)


class BadPriceError(DataError):
    """A price is NaN, infinite, zero or negative."""

    def __init__(self, token: str, unix_ms: int, value: float) -> None:
        self.token = token
        self.unix_ms = unix_ms
        self.value = value
        super().__init__(
            "prices",
            f"bad price for {token} at {iso_utc(unix_ms)}: {float(value)!r} "
            "(prices must be finite and > 0)",
        )
        self.args = (token, unix_ms, value)
