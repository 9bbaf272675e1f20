"""Pictures of a run: pool weights over time, and pool value against holding (HODL)."""

from __future__ import annotations

import datetime as dt
import pathlib
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from client.sim import SimulationResult  # noqa: E402


def plot_run(
    run: SimulationResult,
    path: str | pathlib.Path,
    title: str = "",
    markers: Sequence[tuple[dt.datetime, str]] = (),
) -> pathlib.Path:
    """Write a PNG: stacked weights [rows, n] above pool value and HODL value (USD).

    Args:
      run: a simulated window (any ``stride_minutes``).
      path: the PNG to write (folders are created).
      markers: (time, label) vertical lines, e.g. the start of the test period.
    """
    times = run.unix_ms.astype("datetime64[ms]").astype(dt.datetime)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True,
                                         gridspec_kw={"height_ratios": [1, 1.2]})
    top.stackplot(times, run.weights.T, labels=run.tokens, alpha=0.85)
    top.set_ylim(0, 1)
    top.set_ylabel("weight")
    top.legend(loc="upper left", ncol=len(run.tokens), fontsize=8)
    top.set_title(title or "pool weights")
    bottom.plot(times, run.values, label="pool", linewidth=1.2)
    bottom.plot(times, run.hodl_values, label="HODL (initial reserves)", linewidth=1.0,
                linestyle="--")
    bottom.set_ylabel("value (USD)")
    hodl = run.final_hodl_value
    bottom.set_title(f"final pool value {run.final_value:,.0f} USD vs HODL {hodl:,.0f} USD "
                     f"({run.final_value / hodl - 1:+.2%})", fontsize=10)
    for axis in (top, bottom):
        for moment, label in markers:
            axis.axvline(moment, color="black", linewidth=0.8, linestyle=":")
            axis.text(moment, axis.get_ylim()[1], f" {label}", va="top", fontsize=8)
    bottom.legend(loc="upper left", fontsize=8)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    figure.tight_layout()
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path

