"""The ``quantamm`` command line: simulate, train, watch, result, jobs, cancel, datasets, rules,
serve.

A run is described by a JSON or TOML file holding the reference's run fingerprint (``tokens``,
``rule``, ``startDateString``, ``optimisation_settings``, ...) plus, optionally, ``params`` (a
parameter set, reference or human units) and ``dataset`` (a dataset name on the server).
``--set key.path=value`` overrides any key (values parsed as JSON, else kept as text).
Services are found as by the Python API: ``--sim-address`` / ``--train-address``, else
``QUANTAMM_SIM_ADDRESS`` / ``QUANTAMM_TRAIN_ADDRESS``, else started for the command.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import pathlib
import signal
import sys
import threading
import tomllib
from typing import Any, Callable, Sequence

import numpy as np
import structlog
from tqdm import tqdm

from client import embedded
from client.compat import dataset_for, sim_client, train_client
from client.errors import QuantAMMError
from client.sim import SimClient
from client.train import JobUpdate, TrainClient, TrainingJob
from quantamm.serving import logs
from quantamm.core.fingerprint import FingerprintError, fill_defaults, sorted_tokens

log = structlog.get_logger("quantamm")
RUN_KEYS = ("params", "dataset")  # config keys that are not fingerprint keys
PLOT_ROWS = 4000  # rows of a plotted run (the stride is chosen to give about this many)


# ----------------------------------------------------------------------------- configuration
def parse_value(text: str) -> Any:
    """JSON when it parses (numbers, booleans, lists, objects), else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def load_config(path: str | None, overrides: Sequence[str]) -> dict[str, Any]:
    """The config file (JSON or TOML by suffix) with ``key.path=value`` overrides applied."""
    config: dict[str, Any] = {}
    if path:
        text = pathlib.Path(path).read_text()
        config = tomllib.loads(text) if path.endswith(".toml") else json.loads(text)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set {item!r}: expected key.path=value")
        *parents, leaf = key.split(".")
        node = config
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = parse_value(value)
    return config


def split_config(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fingerprint, run options) of a config."""
    fingerprint = {k: v for k, v in config.items() if k not in RUN_KEYS}
    return fingerprint, {k: config[k] for k in RUN_KEYS if k in config}


def stride_for(fp: dict[str, Any]) -> int:
    """A stride that gives about PLOT_ROWS rows over the fingerprint's whole period."""
    last = fp.get("endTestDateString") or fp["endDateString"]
    minutes = (dt.datetime.fromisoformat(last) -
               dt.datetime.fromisoformat(fp["startDateString"])).total_seconds() / 60
    return max(1, int(minutes // PLOT_ROWS))


# ----------------------------------------------------------------------------- output
def emit(args: argparse.Namespace, document: dict[str, Any], lines: Sequence[str]) -> None:
    """Print ``document`` as JSON with --json, else the human ``lines``."""
    if args.json:
        print(json.dumps(document, indent=2, default=_json_default))
    else:
        print("\n".join(lines))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def metric_table(periods: dict[str, dict[str, float]], names: Sequence[str]) -> list[str]:
    """Rows ``metric  train  validation  test`` for the periods that have values."""
    shown = {period: values for period, values in periods.items() if values}
    header = f"{'metric':<38}" + "".join(f"{p:>14}" for p in shown)
    rows = [header]
    for name in names:
        cells = "".join(f"{values.get(name, float('nan')):>14.6g}" for values in shown.values())
        rows.append(f"{name:<38}{cells}")
    return rows


HEADLINE_METRICS = ("daily_log_sharpe", "sharpe", "return", "returns_over_hodl",
                    "returns_over_uniform_hodl", "calmar", "ulcer")


# ----------------------------------------------------------------------------- commands
def cmd_simulate(args: argparse.Namespace) -> int:
    fp, options = split_config(load_config(args.config, args.set))
    filled = fill_defaults(fp)
    params = parse_value(args.params) if args.params else options.get("params", {})
    with sim_client(args.sim_address) as sim:
        dataset = options.get("dataset") or dataset_for(sim, sorted_tokens(filled))
        run = sim.simulate(filled, params, dataset, stride_minutes=args.stride or stride_for(fp))
        if args.plot:
            from client.plots import plot_run
            plot_run(run, args.plot, title=f"{filled['rule']} {'/'.join(run.tokens)}")
    hodl = run.final_hodl_value
    document = {"tokens": run.tokens, "final_value": run.final_value, "hodl_value": hodl,
                "final_weights": run.final_weights, "final_prices": run.final_prices,
                "metrics": run.metrics,
                "warnings": run.warnings, "plot": args.plot}
    emit(args, document, [
        f"{filled['rule']} pool {'/'.join(run.tokens)} {filled['startDateString']} .. "
        f"{filled['endDateString']}",
        f"final value {run.final_value:,.2f} USD; HODL {hodl:,.2f} USD "
        f"({run.final_value / hodl - 1:+.2%})",
        "final weights " + ", ".join(f"{t} {w:.3f}" for t, w in zip(run.tokens,
                                                                    run.final_weights)),
        *metric_table({"window": run.metrics}, sorted(run.metrics)),
        *([f"plot written to {args.plot}"] if args.plot else []),
    ])
    return 0


class ProgressBar:
    """A tqdm bar fed by a job's progress events (iterations or trials)."""

    def __init__(self, job_id: str) -> None:
        self.bar = tqdm(desc=f"job {job_id[:8]}", unit="it", file=sys.stderr, dynamic_ncols=True)

    def __call__(self, update: JobUpdate) -> None:
        progress = update.progress
        if progress is None:
            return
        self.bar.total = progress.total_iterations or None
        self.bar.n = min(progress.iteration + 1, progress.total_iterations)  # iterations from 0
        self.bar.set_postfix(state=update.state, objective=f"{progress.objective:.4g}",
                             validation=f"{progress.validation_metric:.4g}",
                             best=f"{progress.best_metric:.4g}", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def full_job_id(trainer: TrainClient, text: str) -> str:
    """A job id from a unique prefix of one (as the progress bar shows)."""
    matches = [job.job_id for job in trainer.list(page_size=1000) if job.job_id.startswith(text)]
    return matches[0] if len(matches) == 1 else text  # none or ambiguous: the server says so


def follow(trainer: TrainClient, job_id: str, quiet: bool) -> TrainingJob:
    """Watch a job to its end with a progress bar (none when ``quiet``)."""
    if quiet:
        return trainer.wait(job_id)
    print(f"job {job_id}", file=sys.stderr)
    bar = ProgressBar(job_id)
    try:
        return trainer.wait(job_id, bar)
    finally:
        bar.close()


def report_job(args: argparse.Namespace, job: TrainingJob, sim: SimClient | None = None) -> int:
    """Print a job's state and result (and plot its chosen parameters with --plot)."""
    result = job.result
    document: dict[str, Any] = {"job_id": job.job_id, "state": job.state, "message": job.message,
                                "dataset": job.dataset, "progress": job.progress,
                                "result": result, "plot": None}
    lines = [f"job {job.job_id} {job.state}" + (f": {job.message}" if job.message else "")]
    if result is not None:
        lines += [
            f"selected by {result.selection_method} on {result.selection_metric}: iteration "
            f"{result.best_iteration}, set {result.best_param_index} "
            f"({result.iterations_done} iterations, {result.elapsed_seconds:.1f} s)",
            *metric_table({"train": result.train_metrics, "validation": result.validation_metrics,
                           "test": result.test_metrics}, HEADLINE_METRICS),
            "parameters: " + json.dumps({k: np.round(v, 6).tolist()
                                         for k, v in result.best_parameters.items()}),
        ]
        if args.plot and sim is not None:
            document["plot"] = str(plot_job(job, sim, args.plot))
            lines.append(f"plot written to {args.plot}")
    emit(args, document, lines)
    return 0 if job.state in ("SUCCEEDED", "RUNNING", "QUEUED") else 1


def plot_job(job: TrainingJob, sim: SimClient, path: str) -> pathlib.Path:
    """The chosen parameters simulated over train (+ test) period, as a PNG."""
    from client.plots import plot_run
    fp = dict(job.fingerprint)
    split, test_end = fp["endDateString"], fp.pop("endTestDateString", None)
    fp["endDateString"] = test_end or split
    run = sim.simulate(fp, job.result.best_parameters, job.dataset, stride_minutes=stride_for(fp))
    markers = [(dt.datetime.fromisoformat(split), "test period")] if test_end else []
    return plot_run(run, path, title=f"trained {fp['rule']} {'/'.join(run.tokens)} "
                    f"(job {job.job_id[:8]})", markers=markers)


def cmd_train(args: argparse.Namespace) -> int:
    fp, options = split_config(load_config(args.config, args.set))
    if args.method:
        fp.setdefault("optimisation_settings", {})["method"] = args.method
    filled = fill_defaults(fp)  # refuse bad keys before any service starts
    with sim_client(args.sim_address) as sim, \
            train_client(args.sim_address, args.train_address) as trainer:
        dataset = options.get("dataset") or dataset_for(sim, sorted_tokens(filled))
        job_id = trainer.start(
            fp, dataset=dataset, report_every=args.report_every,
            display_name=args.name or "",
            initial_parameters=[options["params"]] if "params" in options else ())
        log.info("job_started", job_id=job_id, dataset=dataset)
        if args.detach:
            emit(args, {"job_id": job_id}, [job_id])
            return 0
        return report_job(args, follow(trainer, job_id, args.json), sim)


def cmd_watch(args: argparse.Namespace) -> int:
    with sim_client(args.sim_address) as sim, \
            train_client(args.sim_address, args.train_address) as trainer:
        return report_job(args, follow(trainer, full_job_id(trainer, args.job_id), args.json), sim)


def cmd_result(args: argparse.Namespace) -> int:
    with sim_client(args.sim_address) as sim, \
            train_client(args.sim_address, args.train_address) as trainer:
        return report_job(args, trainer.get(full_job_id(trainer, args.job_id)), sim)


def cmd_jobs(args: argparse.Namespace) -> int:
    with train_client(args.sim_address, args.train_address) as trainer:
        jobs = trainer.list(args.state, args.limit)
    emit(args, {"jobs": [{"job_id": j.job_id, "state": j.state, "name": j.display_name,
                          "created": j.created, "rule": j.fingerprint.get("rule")} for j in jobs]},
         [f"{j.job_id}  {j.state:<11}  {j.created:%Y-%m-%d %H:%M}  {j.fingerprint.get('rule')}"
          f"  {j.display_name}" for j in jobs])
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    with train_client(args.sim_address, args.train_address) as trainer:
        job = trainer.cancel(full_job_id(trainer, args.job_id))
    emit(args, {"job_id": job.job_id, "state": job.state}, [f"job {job.job_id} {job.state}"])
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    with sim_client(args.sim_address) as sim:
        datasets = sim.list_datasets()
    emit(args, {"datasets": datasets},
         [f"{d.name:<24} {d.source:<10} {','.join(d.tokens):<30} "
          f"{d.first_minute:%Y-%m-%d} .. {d.last_minute:%Y-%m-%d}" for d in datasets])
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    with sim_client(args.sim_address) as sim:
        rules = sim.list_rules()
    document = {"rules": [{"name": r.name, "description": r.description,
                           "params": [p.name for p in r.params]} for r in rules]}
    emit(args, document, [f"{r.name:<24} {', '.join(p.name for p in r.params):<60} "
                          f"{r.description}" for r in rules])
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Both services in the foreground until Ctrl-C / SIGTERM."""
    sim = embedded.ServiceProcess("sim_service", ["--host", args.host, "--port",
                                                  str(args.sim_port), *args.sim_args])
    sim.wait_started()
    sim_address = f"127.0.0.1:{sim.port}"
    train = embedded.ServiceProcess("train_service", [
        "--host", args.host, "--port", str(args.train_port), "--sim-address", sim_address,
        *(["--store", args.store] if args.store else [])])
    train.wait_started()
    log.info("serving", sim_port=sim.port, train_port=train.port)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    while not stop.wait(1.0):
        if sim.process.poll() is not None or train.process.poll() is not None:
            log.error("service_exited", sim=sim.process.poll(), train=train.process.poll())
            break
    train.stop()
    sim.stop()
    return 0


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quantamm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sim-address", help="simulation service host:port")
    parser.add_argument("--train-address", help="training service host:port")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--log-level", default="WARNING")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Callable[[argparse.Namespace], int], text: str):
        sub = commands.add_parser(name, help=text, description=text)
        sub.set_defaults(handler=handler)
        return sub

    def run_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("config", nargs="?", help="JSON or TOML run fingerprint")
        sub.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                         help="override a fingerprint key (repeatable)")
        sub.add_argument("--plot", metavar="PNG", help="write weights and value vs HODL")

    sub = command("simulate", cmd_simulate, "simulate a pool with fixed parameters")
    run_options(sub)
    sub.add_argument("--params", help="parameter set as JSON (else the config's params)")
    sub.add_argument("--stride", type=int, help="minutes between returned rows")

    sub = command("train", cmd_train, "train a rule's parameters (gradient descent or Optuna)")
    run_options(sub)
    sub.add_argument("--method", choices=["gradient_descent", "optuna"])
    sub.add_argument("--report-every", type=int, default=1,
                     help="iterations (trials) between progress events")
    sub.add_argument("--name", help="a label for the job")
    sub.add_argument("--detach", action="store_true", help="print the job id and return")

    for name, handler, text in (("watch", cmd_watch, "follow a job to its end"),
                                ("result", cmd_result, "a job's state and result")):
        sub = command(name, handler, text)
        sub.add_argument("job_id")
        sub.add_argument("--plot", metavar="PNG", help="plot the chosen parameters' run")
    sub = command("jobs", cmd_jobs, "list training jobs, newest first")
    sub.add_argument("--state", choices=["QUEUED", "RUNNING", "SUCCEEDED", "FAILED",
                                         "CANCELLED", "INTERRUPTED"])
    sub.add_argument("--limit", type=int, default=20)
    sub = command("cancel", cmd_cancel, "cancel a queued or running job")
    sub.add_argument("job_id")
    command("datasets", cmd_datasets, "datasets the simulation service holds")
    command("rules", cmd_rules, "rules and their parameters")
    sub = command("serve", cmd_serve, "run both services in the foreground")
    sub.add_argument("--host", default="[::]")
    sub.add_argument("--sim-port", type=int, default=50051)
    sub.add_argument("--train-port", type=int, default=50052)
    sub.add_argument("--store", help="job store URL (default: the training service's)")
    sub.add_argument("--sim-args", nargs=argparse.REMAINDER, default=[],
                     help="further sim_service flags (e.g. --data-dir DIR)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(json=False, level=args.log_level.upper())
    try:
        return args.handler(args)
    except (QuantAMMError, FingerprintError, ValueError, OSError, RuntimeError) as error:
        log.error("failed", command=args.command, error=str(error),
                  field=getattr(error, "field", None) or None)
        return 2


if __name__ == "__main__":
    sys.exit(main())
