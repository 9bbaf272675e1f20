"""Dates -> rows: which slice of a minute dataset a run simulates, with its burn-in history.

All indices are rows of one dataset of consecutive minutes. The rule's estimators run from the
first row of the slice, so the burn-in kept before the start changes the numbers; the slicing
here is the reference's (``max_memory_days`` whole days before the start, one extra day after the
end) so that results match it. Less history than ``max_memory_days`` is allowed but reported.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

from sim_service.engine.transforms import MINUTES_PER_DAY

MS_PER_MINUTE = 60_000
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class WindowError(ValueError):
    """A run's dates do not fit the data; ``field`` names the fingerprint key at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclasses.dataclass(frozen=True)
class WindowPlan:
    """Rows [first_row, last_row) of the dataset feed the engine; the window starts at
    ``start_index`` of that slice and covers ``bout_length - 1`` minutes."""

    first_row: int
    last_row: int
    start_index: int
    bout_length: int
    max_memory_days: float
    warnings: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        return self.last_row - self.first_row

    @property
    def window_first_row(self) -> int:
        """Dataset row of the window's first simulated minute."""
        return self.first_row + self.start_index


def parse_date(text: str, field: str) -> int:
    """'YYYY-MM-DD HH:MM:SS' (UTC) -> unix milliseconds."""
    try:
        moment = dt.datetime.strptime(text, DATE_FORMAT).replace(tzinfo=dt.timezone.utc)
    except (TypeError, ValueError) as error:
        raise WindowError(
            field, f"expected a UTC date 'YYYY-MM-DD HH:MM:SS', got {text!r}"
        ) from error
    return int(moment.timestamp() * 1000)


def format_unix_ms(unix_ms: int) -> str:
    """Unix milliseconds -> 'YYYY-MM-DD HH:MM:SS' (UTC)."""
    return dt.datetime.fromtimestamp(unix_ms / 1000, dt.timezone.utc).strftime(DATE_FORMAT)


def row_of(unix_ms: int, data_start_unix_ms: int, n_rows: int, field: str) -> int:
    """Row of an exact minute in the dataset, or a WindowError naming ``field``."""
    offset = unix_ms - data_start_unix_ms
    row = offset // MS_PER_MINUTE
    if offset % MS_PER_MINUTE or not 0 <= row < n_rows:
        last = data_start_unix_ms + (n_rows - 1) * MS_PER_MINUTE
        raise WindowError(
            field,
            f"{format_unix_ms(unix_ms)} is not a minute of the data "
            f"({format_unix_ms(data_start_unix_ms)} .. {format_unix_ms(last)})",
        )
    return int(row)


def plan_window(
    start_row: int,
    end_row: int,
    n_rows: int,
    max_memory_days: float,
    rows_needed_after_start=None,
) -> WindowPlan:
    """Slice the dataset for a run from ``start_row`` to ``end_row`` (the end minute itself is
    not simulated).

    The slice starts ``ceil(max_memory_days)`` whole days before the start (fewer if the data
    has fewer: ``days available - 1``, reported in ``warnings``) and ends one whole day after
    the end day, capped at the data. ``rows_needed_after_start(start_index)`` (optional) gives
    the rows the engine needs from the slice start; fewer available -> WindowError.
    """
    if end_row <= start_row + 1:
        raise WindowError("endDateString", "must be at least two minutes after startDateString")
    trim = start_row % MINUTES_PER_DAY  # the slice keeps the start's minute-of-day at row 0
    start, end, rows = start_row - trim, end_row + 1 - trim, n_rows - trim
    days_before = start / MINUTES_PER_DAY
    if days_before < 1:
        raise WindowError(
            "startDateString", "needs at least one whole day of price history before it"
        )
    memory_days = float(max_memory_days)
    warnings: tuple[str, ...] = ()
    if days_before < memory_days:
        memory_days = days_before - 1
        warnings = (
            f"only {days_before:g} days of history before the start but max_memory_days is "
            f"{max_memory_days:g}: the estimators warm up on {memory_days:g} days (as the "
            "reference does); results differ from a run with full history",
        )
    first = max(0, start - MINUTES_PER_DAY * math.ceil(memory_days))
    first -= first % MINUTES_PER_DAY
    last = min(MINUTES_PER_DAY * math.ceil(end / MINUTES_PER_DAY) + MINUTES_PER_DAY, rows)
    plan = WindowPlan(
        first_row=first + trim,
        last_row=last + trim,
        start_index=start - first,
        bout_length=end - start,
        max_memory_days=memory_days,
        warnings=warnings,
    )
    if rows_needed_after_start is not None:
        needed = rows_needed_after_start(plan.start_index)
        if needed > plan.n_rows:
            missing = needed - plan.n_rows
            raise WindowError(
                "endDateString",
                f"too close to the end of the data: the rule's last chunk needs {missing} more "
                "minutes of prices after the end date",
            )
    return plan
