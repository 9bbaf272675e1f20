"""Price datasets: the bundled default series, folders of per-token files, in-memory arrays."""

from quantamm.data.bundled import bundled_minute_prices, daily_closes
from quantamm.data.errors import (
    BadPriceError,
    DataError,
    DataRangeError,
    UnknownTokenError,
    iso_utc,
)
from quantamm.data.loaders import from_price_data, load_price_folder
from quantamm.data.prices import MS_PER_MINUTE, PriceSeries

__all__ = [
    "MS_PER_MINUTE",
    "BadPriceError",
    "DataError",
    "DataRangeError",
    "PriceSeries",
    "UnknownTokenError",
    "bundled_minute_prices",
    "daily_closes",
    "from_price_data",
    "iso_utc",
    "load_price_folder",
]
