"""Environment settings (12-factor): token, API base, database, site file, logging."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,100}$")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/huiwu.db"
# The engine is async: each backend needs its async driver in the URL.
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_base: str = "https://api.telegram.org"
    database_url: str = DEFAULT_DATABASE_URL
    site_config: Path = Path("examples/site.toml")
    log_level: str = "INFO"
    redis_url: str | None = None
    tick_seconds: float = Field(default=1.0, gt=0)
    sender_idle_seconds: float = Field(default=0.2, gt=0)
    per_chat_interval_seconds: float = Field(default=1.0, ge=0)
    group_per_minute: int = Field(default=20, gt=0)
    global_per_second: int = Field(default=30, gt=0)
    send_timeout_seconds: float = Field(default=15.0, gt=0)
    instance_name: str = "huiwu"

    @field_validator("telegram_api_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _async_database(cls, value: str) -> str:
        example = "sqlite+aiosqlite:///./data/huiwu.db or postgresql+asyncpg://user:password@host:5432/huiwu"
        try:
            url = make_url(value.strip())
        except ArgumentError:
            raise ValueError(f"is not a database URL; use {example}") from None
        backend, driver = url.get_backend_name(), url.get_driver_name()
        if ASYNC_DRIVERS.get(backend) != driver:
            raise ValueError(f"{url.drivername!r} is not supported; use {example}")
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return upper

    def token_problem(self) -> str | None:
        """A one-line reason the token cannot be used, or None."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            return "BOT_TOKEN is not set: get a token from @BotFather and export BOT_TOKEN=…"
        if not TOKEN_PATTERN.match(self.bot_token.get_secret_value().strip()):
            return "BOT_TOKEN is malformed: it looks like 123456789:AAE… (digits, a colon, then the secret)"
        return None


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise SystemExit("Invalid settings: " + "; ".join(lines)) from None
