"""Window planning (sim_service.engine.windows): burn-in, short history, dates to rows."""

import pytest

from sim_service.engine import windows


def test_window_plan_keeps_a_year_of_burn_in_and_a_day_after_the_end():
    start, end = 833760, 1094400  # 2023-01-01, 2023-07-01 in the bundled data
    plan = windows.plan_window(start, end, 1882081, 365)
    assert (plan.first_row, plan.start_index, plan.bout_length) == (308160, 525600, 260641)
    assert plan.n_rows == 789120 and plan.warnings == ()


def test_window_plan_warns_on_short_history_and_refuses_none():
    plan = windows.plan_window(10 * 1440, 20 * 1440, 40 * 1440, 365)
    assert plan.max_memory_days == 9 and plan.first_row == 1440 and plan.warnings
    with pytest.raises(windows.WindowError, match="one whole day"):
        windows.plan_window(600, 5000, 40 * 1440, 365)


def test_window_plan_refuses_ends_too_close_to_the_data_end():
    with pytest.raises(windows.WindowError, match="endDateString"):
        windows.plan_window(2 * 1440, 10 * 1440, 10 * 1440 + 1, 1, rows_needed_after_start=lambda s: 10**9)


def test_dates_map_to_exact_rows():
    start = windows.parse_date("2021-06-01 00:00:00", "startDateString")
    assert start == 1622505600000
    assert windows.row_of(windows.parse_date("2023-01-01 00:00:00", "x"), start, 1882081, "x") == 833760
    with pytest.raises(windows.WindowError, match="endDateString"):
        windows.row_of(windows.parse_date("2030-01-01 00:00:00", "e"), start, 1882081, "endDateString")
    with pytest.raises(windows.WindowError, match="YYYY-MM-DD"):
        windows.parse_date("2023/01/01", "startDateString")
