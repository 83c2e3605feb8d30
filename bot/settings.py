"""Environment settings (12-factor): token, API base, database, site file, logging, webhook."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,100}$")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/huiwu.db"
# The engine is async: each backend needs its async driver in the URL.
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
# What Telegram accepts as setWebhook's secret_token.
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"


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
    log_format: Literal["kv", "json"] = "kv"
    redis_prefix: str = Field(default="huiwu", min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8180, ge=0, le=65535)
    webhook_path: str | None = None
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    http_host: str = "127.0.0.1"
    http_port: int | None = Field(default=9180, ge=0, le=65535)
    # Runs the bot as if it were another moment (tests and demonstrations: "Friday 17:00",
    # "Saturday night"); time still flows, and a restart with the same offset carries on
    # where the last run stopped. Always 0 in production.
    clock_offset_seconds: float = 0.0
    # The one-sentence reader's libraries (jionlp's time extractor, dateparser: ~0.8 s and
    # ~15 MB) are loaded in a background thread right after start, so that the first typed
    # request does not wait for them; false loads them at the first typed request instead
    # (which then takes ~0.8 s).
    understanding_warm_up: bool = True

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

    @field_validator("log_format", mode="before")
    @classmethod
    def _format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("webhook_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not re.match(r"^https://[^/\s]+", value):
            raise ValueError(
                "must be the public https:// URL Telegram posts to, e.g. https://bot.example.com/telegram/webhook"
            )
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith("/") or re.search(r"\s", value):
            raise ValueError("must be a URL path such as /telegram/webhook")
        return value

    @field_validator("http_port", mode="before")
    @classmethod
    def _port_or_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "off", "none", "false"):
            return None
        return value

    @property
    def webhook_route(self) -> str:
        """The path the webhook server answers on: WEBHOOK_PATH, else the path of WEBHOOK_URL."""
        if self.webhook_path:
            return self.webhook_path
        if self.webhook_url:
            path = urlsplit(self.webhook_url).path
            if path and path != "/":
                return path
        return DEFAULT_WEBHOOK_PATH

    def webhook_problem(self) -> str | None:
        """A one-line reason ``run --webhook`` cannot start, or None."""
        if not self.webhook_url:
            return "WEBHOOK_URL is not set: the public https:// address Telegram posts updates to"
        if self.webhook_secret is None or not self.webhook_secret.get_secret_value():
            return (
                "WEBHOOK_SECRET is not set: choose 1–256 characters A-Z a-z 0-9 _ - "
                "(the same on every instance), e.g. from `openssl rand -hex 32`"
            )
        if not WEBHOOK_SECRET_PATTERN.match(self.webhook_secret.get_secret_value()):
            return "WEBHOOK_SECRET is malformed: use 1–256 characters A-Z a-z 0-9 _ -"
        return None

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
