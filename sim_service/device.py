"""Price series kept on the JAX device, with their logs (computed once per dataset)."""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp

from quantamm.data.bundled import bundled_minute_prices
from quantamm.data.prices import PriceSeries


MAX_CACHED_SLICES = 16


@dataclasses.dataclass(frozen=True)
class DeviceDataset:
    """A price series with its prices and log prices [T, n] on the default JAX device."""

    series: PriceSeries
    prices: jax.Array
    log_prices: jax.Array
    _slices: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def rows(self, first: int, last: int) -> tuple[jax.Array, jax.Array]:
        """(prices, log prices) of rows [first, last), kept for repeated requests (training
        asks for the same slice every step)."""
        key = (first, last)
        cached = self._slices.get(key)
        if cached is None:
            cached = (self.prices[first:last], self.log_prices[first:last])
            if len(self._slices) >= MAX_CACHED_SLICES:
                self._slices.pop(next(iter(self._slices)), None)
            self._slices[key] = cached
        return cached

    @classmethod
    def of(cls, series: PriceSeries) -> DeviceDataset:
        prices = jnp.asarray(series.prices)
        return cls(series, prices, jnp.log(prices))

    def select(self, tokens: tuple[str, ...]) -> DeviceDataset:
        """The columns of ``tokens`` in that order (UnknownTokenError if one is missing)."""
        if tokens == self.series.tokens:
            return self
        series = self.series.select(tokens)
        columns = jnp.asarray([self.series.tokens.index(t) for t in tokens])
        return DeviceDataset(series, self.prices[:, columns], self.log_prices[:, columns])


@functools.lru_cache(maxsize=8)
def bundled_dataset(tokens: tuple[str, ...]) -> DeviceDataset:
    """The bundled default dataset for ``tokens``, kept on device for later runs."""
    return DeviceDataset.of(bundled_minute_prices(tokens=list(tokens)))
