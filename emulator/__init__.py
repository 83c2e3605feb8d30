"""A Telegram Bot API emulator for end-to-end tests and a browser sandbox.

Start one with ``EmulatorServer`` (or ``python -m emulator``), point aiogram at its
``base_url`` and drive it through ``EmulatorClient``.
"""

from .client import EmulatorClient, EmulatorError
from .config import EmulatorConfig, RateLimitConfig
from .server import EmulatorServer
from .state import EmulatorState

__all__ = [
    "EmulatorClient",
    "EmulatorConfig",
    "EmulatorError",
    "EmulatorServer",
    "EmulatorState",
    "RateLimitConfig",
]
