"""The Hostaway HTTP client: auth and token cache, rate limiter, retries, pagination, errors.

No Dagster and no SQL here: storage comes in through the protocols in `ports.py`.
"""

from hostaway_pipeline.client.client import HostawayClient
from hostaway_pipeline.client.config import ClientConfig
from hostaway_pipeline.client.paging import Page
from hostaway_pipeline.client.stats import ClientStats

__all__ = ["ClientConfig", "ClientStats", "HostawayClient", "Page"]
