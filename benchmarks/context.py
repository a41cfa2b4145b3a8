"""What every scenario needs: the database, the run's secret key, and full or smoke sizing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    db_url: str
    key: str  # Fernet key sealing the benchmark warehouse's secrets and tokens
    smoke: bool = False  # scaled down, short rate window: proves it runs, measures nothing

    def pick(self, full: T, smoke: T) -> T:
        """The full-size value, or the smoke one."""
        return smoke if self.smoke else full
