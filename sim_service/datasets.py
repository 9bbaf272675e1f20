"""The datasets a simulation server holds: the bundled default, folders under its data
directory, and uploads. Thread-safe; arrays live on the JAX device."""

from __future__ import annotations

import dataclasses
import functools
import pathlib
import re
import threading
from typing import Sequence

import grpc
import structlog

from quantamm.data import PriceSeries, UnknownTokenError, daily_closes, load_price_folder
from quantamm.data.bundled import bundled_minute_prices
from sim_service.device import DeviceDataset, bundled_dataset
from quantamm.wire.errors import RequestError, invalid, not_found

log = structlog.get_logger(__name__)

DEFAULT_DATASET = "default"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@functools.cache
def bundled_tokens() -> tuple[str, ...]:
    """Every token of the bundled data (XRP and PAXG end before the others)."""
    return tuple(daily_closes().columns)


@functools.cache
def bundled_series() -> PriceSeries:
    """The bundled default series (built, or read from the cache, once per process)."""
    return bundled_minute_prices()


@dataclasses.dataclass(frozen=True)
class Dataset:
    name: str
    source: str  # "bundled", "directory" or "upload"
    data: DeviceDataset | None  # None for the bundled default (loaded per token set)

    @property
    def series(self) -> PriceSeries:
        return self.data.series if self.data else bundled_series()


class DatasetRegistry:
    """Named datasets; ``select(name, tokens)`` gives device arrays in the requested order."""

    def __init__(self, data_dir: str | pathlib.Path | None = None) -> None:
        self._lock = threading.Lock()
        self._data_dir = pathlib.Path(data_dir).resolve() if data_dir else None
        self._datasets: dict[str, Dataset] = {DEFAULT_DATASET: Dataset(DEFAULT_DATASET, "bundled", None)}
        if self._data_dir is not None:
            self._register_subfolders()

    def _register_subfolders(self) -> None:
        for folder in sorted(p for p in self._data_dir.iterdir() if p.is_dir()):
            tokens = sorted({f.name.split(".")[0].split("_")[0] for f in folder.iterdir()
                             if f.suffix in (".csv", ".parquet")})
            if tokens and NAME_PATTERN.match(folder.name):
                try:
                    self.register_directory(folder.name, folder.name, tokens)
                except (RequestError, ValueError) as error:
                    log.warning("dataset_skipped", folder=folder.name, error=str(error))

    def names(self) -> list[str]:
        with self._lock:
            return list(self._datasets)

    def get(self, name: str) -> Dataset:
        with self._lock:
            dataset = self._datasets.get(name)
        if dataset is None:
            raise not_found("dataset", f"no dataset {name!r}; known: {', '.join(self.names())}")
        return dataset

    def tokens(self, name: str) -> tuple[str, ...]:
        dataset = self.get(name)
        return bundled_tokens() if dataset.data is None else dataset.data.series.tokens

    def select(self, name: str, tokens: Sequence[str]) -> DeviceDataset:
        """Device prices of ``tokens`` (in that order) from dataset ``name``."""
        dataset = self.get(name)
        wanted = tuple(tokens)
        try:
            if dataset.data is None:
                return bundled_dataset(wanted)
            return dataset.data.select(wanted)
        except UnknownTokenError as error:
            raise invalid("fingerprint.tokens", f"dataset {name!r}: {error}") from error

    def add(self, name: str, series: PriceSeries, source: str) -> Dataset:
        """Register a new dataset (ALREADY_EXISTS if the name is taken)."""
        if not NAME_PATTERN.match(name):
            raise invalid("name", "use 1-64 letters, digits, '-', '_' or '.', starting alnum")
        dataset = Dataset(name, source, DeviceDataset.of(series))
        with self._lock:
            if name in self._datasets:
                raise RequestError(grpc.StatusCode.ALREADY_EXISTS, "name", f"{name!r} exists")
            self._datasets[name] = dataset
        log.info("dataset_registered", dataset=name, source=source, tokens=list(series.tokens),
                 minutes=series.n_minutes)
        return dataset

    def register_directory(self, name: str, directory: str, tokens: Sequence[str]) -> Dataset:
        """Load per-token files from ``directory`` (relative to the data directory)."""
        if self._data_dir is None:
            raise RequestError(grpc.StatusCode.FAILED_PRECONDITION, "directory",
                               "the server was started without a data directory")
        folder = (self._data_dir / directory).resolve()
        if self._data_dir not in folder.parents and folder != self._data_dir:
            raise invalid("directory", "must stay inside the server's data directory")
        if not folder.is_dir():
            raise not_found("directory", f"{directory!r} is not a folder of the data directory")
        if not tokens:
            raise invalid("tokens", "name at least one token")
        return self.add(name, load_price_folder(folder, tokens), "directory")
