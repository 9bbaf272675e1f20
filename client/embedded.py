"""Service addresses: configured ones, or both services started in the background.

``addresses()`` answers where the simulation and training services are: an explicit argument, else
the environment (``QUANTAMM_SIM_ADDRESS``, ``QUANTAMM_TRAIN_ADDRESS``), else services this
process starts itself on free loopback ports (real gRPC servers in child processes, logging JSON to
``$QUANTAMM_CACHE_DIR/embedded/*.log``) and stops when it exits. Embedded training jobs are kept
in ``$QUANTAMM_CACHE_DIR/embedded/train.sqlite``, so a later process can read their results.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
from typing import IO, Sequence

import structlog

log = structlog.get_logger(__name__)
SIM_ENV, TRAIN_ENV = "QUANTAMM_SIM_ADDRESS", "QUANTAMM_TRAIN_ADDRESS"
START_TIMEOUT_SECONDS = 180.0
POLL_SECONDS = 0.02  # how often the log file is read while a service starts
LOOPBACK_ANY_PORT = ("--host", "127.0.0.1", "--port", "0")


def cache_dir() -> pathlib.Path:
    """``$QUANTAMM_CACHE_DIR``, else ``~/.cache/quantamm``."""
    return pathlib.Path(os.environ.get("QUANTAMM_CACHE_DIR") or
                        pathlib.Path.home() / ".cache" / "quantamm")


class ServiceProcess:
    """A service (``python -m <module> ARGS``) in a child process.

    With ``log_path`` the child writes its JSON log lines to that file itself (this process only
    reads the file until the ``<module>_started`` line gives the port); without it they are
    passed on to this process's stderr. ``stop()`` asks for a graceful shutdown (SIGTERM) and
    kills after ``grace_seconds``.
    """

    def __init__(self, module: str, args: Sequence[str], log_path: pathlib.Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.module = module
        self.port: int | None = None
        self._started = threading.Event()
        if log_path is None:
            self._log = sys.stderr
        else:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = log_path.open("a", encoding="utf-8")
        relay = log_path is None
        self.process = subprocess.Popen(  # INFO: the port is read from the start line
            [sys.executable, "-m", module, "--log-level", "INFO", *args],
            stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.PIPE if relay else self._log, text=True,
            env={**os.environ, **(env or {})}, start_new_session=True)
        if relay:
            threading.Thread(target=self._relay, args=(self.process.stderr,), daemon=True).start()
        else:
            threading.Thread(target=self._watch, args=(log_path, self._log.tell()),
                             daemon=True).start()

    def _found_start(self, line: str) -> bool:
        if f'"{self.module}_started"' in line:
            self.port = int(json.loads(line)["port"])
            self._started.set()
            return True
        return False

    def _relay(self, stream: IO[str]) -> None:
        for line in stream:
            self._log.write(line)
            self._log.flush()
            if self.port is None:
                self._found_start(line)
        self._started.set()  # the child exited: wake a waiter

    def _watch(self, log_path: pathlib.Path, offset: int) -> None:
        """Read the child's new log lines until its start line (or its exit)."""
        with log_path.open(encoding="utf-8") as log_file:
            log_file.seek(offset)
            pending = ""
            while True:
                exited = self.process.poll() is not None
                pending += log_file.read()
                *lines, pending = pending.split("\n")
                if any(self._found_start(line) for line in lines) or exited:
                    break
                time.sleep(POLL_SECONDS)
        self._started.set()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def wait_started(self, timeout: float = START_TIMEOUT_SECONDS) -> str:
        """The address once the server listens; RuntimeError if it exits or times out first."""
        if not self._started.wait(timeout) or self.port is None:
            self.stop()
            raise RuntimeError(f"{self.module} did not start (exit code {self.process.poll()}); "
                               f"see its log ({self._log.name})")
        return self.address

    def stop(self, grace_seconds: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not sys.stderr:
            self._log.close()


@dataclasses.dataclass
class Embedded:
    """The services this process started (None: configured elsewhere)."""

    sim: ServiceProcess | None = None
    train: ServiceProcess | None = None

    def stop(self) -> None:
        for service in (self.train, self.sim):  # the trainer first: it checkpoints its jobs
            if service is not None:
                service.stop()


_lock = threading.Lock()
_embedded = Embedded()


def _start_missing(sim_address: str | None, train_address: str | None,
                   need_train: bool) -> tuple[str, str | None]:
    folder = cache_dir() / "embedded"
    if sim_address is None:
        if _embedded.sim is None:
            _embedded.sim = ServiceProcess(
                "sim_service", [*LOOPBACK_ANY_PORT, "--cache-dir", str(cache_dir())],
                folder / "sim_service.log")
            log.info("embedded_service_starting", service="sim_service")
        sim_address = _embedded.sim.wait_started()
    if need_train and train_address is None:
        if _embedded.train is None:
            _embedded.train = ServiceProcess(
                "train_service",
                [*LOOPBACK_ANY_PORT, "--sim-address", sim_address,
                 "--store", f"sqlite:///{folder / 'train.sqlite'}"],
                folder / "train_service.log")
            log.info("embedded_service_starting", service="train_service")
        train_address = _embedded.train.wait_started()
    return sim_address, train_address


def addresses(sim_address: str | None = None, train_address: str | None = None,
              need_train: bool = False) -> tuple[str, str | None]:
    """(sim, train) addresses: arguments, else environment, else embedded services started
    now (the training service only when ``need_train``)."""
    sim_address = sim_address or os.environ.get(SIM_ENV) or None
    train_address = train_address or os.environ.get(TRAIN_ENV) or None
    with _lock:
        return _start_missing(sim_address, train_address, need_train)


def stop_embedded() -> None:
    """Stop the services this process started (also done at exit)."""
    with _lock:
        _embedded.stop()
        _embedded.sim = _embedded.train = None


atexit.register(stop_embedded)
