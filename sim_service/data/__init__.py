"""Price datasets: the bundled default series, folders of per-token files, in-memory arrays."""

from sim_service.data.bundled import bundled_minute_prices, daily_closes
from sim_service.data.errors import (
    BadPriceError,
    DataError,
    DataRangeError,
    UnknownTokenError,
    iso_utc,
)
from sim_service.data.loaders import from_price_data, load_price_folder
from sim_service.data.prices import MS_PER_MINUTE, PriceSeries

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
