"""The typed errors a user can act on: shown as one clear line by the CLI, never a traceback."""

from __future__ import annotations

from hostaway_pipeline.accounts.repo import AccountError
from hostaway_pipeline.accounts.secrets import SecretKeyError
from hostaway_pipeline.client.errors import HostawayError
from hostaway_pipeline.egress.check import EgressError
from hostaway_pipeline.settings import SettingsError
from hostaway_pipeline.warehouse.errors import WarehouseError
from hostaway_pipeline.webhooks.registration import RegistrationError

USER_ERRORS: tuple[type[Exception], ...] = (
    HostawayError,
    AccountError,
    EgressError,
    RegistrationError,
    SecretKeyError,
    SettingsError,
    WarehouseError,
)
