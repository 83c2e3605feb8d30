"""Environment settings: defaults, overrides, validation and the token check."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot.settings import DEFAULT_DATABASE_URL, Settings, load_settings

VALID_TOKEN = "123456789:AAEhBP0av28bUqL3H_uLiJ3BCxiXsSPEPP4"

ENVIRONMENT = (
    "BOT_TOKEN",
    "TELEGRAM_API_BASE",
    "DATABASE_URL",
    "SITE_CONFIG",
    "LOG_LEVEL",
    "REDIS_URL",
    "TICK_SECONDS",
    "SENDER_IDLE_SECONDS",
    "PER_CHAT_INTERVAL_SECONDS",
    "GROUP_PER_MINUTE",
    "GLOBAL_PER_SECOND",
    "SEND_TIMEOUT_SECONDS",
    "INSTANCE_NAME",
    "LOG_FORMAT",
    "REDIS_PREFIX",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_HOST",
    "WEBHOOK_PORT",
    "WEBHOOK_PATH",
    "WEBHOOK_MAX_CONNECTIONS",
    "HTTP_HOST",
    "HTTP_PORT",
    "CLOCK_OFFSET_SECONDS",
    "UNDERSTANDING_WARM_UP",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable of the machine and no .env of the checkout leaks into a test."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = Settings()

    assert settings.bot_token is None
    assert settings.telegram_api_base == "https://api.telegram.org"
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///./data/huiwu.db"
    assert settings.site_config == Path("examples/site.toml")
    assert settings.log_level == "INFO"
    assert settings.redis_url is None
    assert settings.tick_seconds == 1.0
    assert settings.sender_idle_seconds == 0.2
    assert settings.per_chat_interval_seconds == 1.0
    assert settings.group_per_minute == 20
    assert settings.global_per_second == 30
    assert settings.send_timeout_seconds == 15.0
    assert settings.instance_name == "huiwu"
    assert settings.understanding_warm_up is True


def test_every_setting_comes_from_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", VALID_TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:8081/")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://huiwu:secret@db.internal:5432/huiwu")
    monkeypatch.setenv("SITE_CONFIG", "/etc/huiwu/site.toml")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("TICK_SECONDS", "0.05")
    monkeypatch.setenv("SENDER_IDLE_SECONDS", "0.01")
    monkeypatch.setenv("PER_CHAT_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("GROUP_PER_MINUTE", "1000")
    monkeypatch.setenv("GLOBAL_PER_SECOND", "500")
    monkeypatch.setenv("SEND_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("INSTANCE_NAME", "huiwu-2")
    monkeypatch.setenv("UNDERSTANDING_WARM_UP", "false")

    settings = Settings()

    assert settings.bot_token is not None and settings.bot_token.get_secret_value() == VALID_TOKEN
    assert settings.telegram_api_base == "http://127.0.0.1:8081"
    assert settings.database_url == "postgresql+asyncpg://huiwu:secret@db.internal:5432/huiwu"
    assert settings.site_config == Path("/etc/huiwu/site.toml")
    assert settings.log_level == "DEBUG"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.tick_seconds == 0.05
    assert settings.sender_idle_seconds == 0.01
    assert settings.per_chat_interval_seconds == 0
    assert settings.group_per_minute == 1000
    assert settings.global_per_second == 500
    assert settings.send_timeout_seconds == 2.5
    assert settings.instance_name == "huiwu-2"
    assert settings.understanding_warm_up is False


def test_a_dotenv_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=warning\nTICK_SECONDS=2\n", encoding="utf-8")

    settings = Settings()

    assert settings.log_level == "WARNING"
    assert settings.tick_seconds == 2


def test_the_environment_wins_over_the_dotenv_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=warning\n", encoding="utf-8")
    monkeypatch.setenv("LOG_LEVEL", "error")

    assert Settings().log_level == "ERROR"


def test_the_token_is_not_shown_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", VALID_TOKEN)

    settings = Settings()

    assert VALID_TOKEN not in repr(settings)
    assert VALID_TOKEN not in str(settings)


@pytest.mark.parametrize("level", ["DEBUG", "info", "Warning", "error", "CRITICAL"])
def test_log_levels_are_accepted_in_any_case(monkeypatch: pytest.MonkeyPatch, level: str) -> None:
    monkeypatch.setenv("LOG_LEVEL", level)

    assert Settings().log_level == level.upper()


@pytest.mark.parametrize("level", ["verbose", "", "TRACE", "10"])
def test_unknown_log_levels_are_refused(monkeypatch: pytest.MonkeyPatch, level: str) -> None:
    monkeypatch.setenv("LOG_LEVEL", level)

    with pytest.raises(ValidationError) as caught:
        Settings()

    assert "must be DEBUG, INFO, WARNING, ERROR or CRITICAL" in str(caught.value)


def test_load_settings_explains_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "verbose")
    monkeypatch.setenv("TICK_SECONDS", "0")

    with pytest.raises(SystemExit) as caught:
        load_settings()

    message = str(caught.value.code)
    assert "\n" not in message
    assert message.startswith("Invalid settings: ")
    assert "LOG_LEVEL: must be DEBUG, INFO, WARNING, ERROR or CRITICAL" in message
    assert "TICK_SECONDS: Input should be greater than 0" in message
    assert "Value error" not in message


def test_load_settings_returns_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")

    assert load_settings().log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TICK_SECONDS", "0"),
        ("TICK_SECONDS", "soon"),
        ("SENDER_IDLE_SECONDS", "0"),
        ("PER_CHAT_INTERVAL_SECONDS", "-1"),
        ("GROUP_PER_MINUTE", "0"),
        ("GLOBAL_PER_SECOND", "0"),
        ("GLOBAL_PER_SECOND", "1.5"),
        ("SEND_TIMEOUT_SECONDS", "0"),
    ],
)
def test_timer_and_sender_limits_are_checked(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as caught:
        Settings()

    assert name.lower() in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///./data/huiwu.db",
        "sqlite+aiosqlite:////var/lib/huiwu/huiwu.db",
        "sqlite+aiosqlite:///:memory:",
        "postgresql+asyncpg://postgres@127.0.0.1:5432/huiwu",
        "postgresql+asyncpg://huiwu:p%40ss@db/huiwu?ssl=require",
    ],
)
def test_async_database_urls_are_accepted(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)

    assert Settings().database_url == url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1/huiwu",
        "postgresql+psycopg2://postgres@127.0.0.1/huiwu",
        "sqlite:///./data/huiwu.db",
        "mysql+aiomysql://root@127.0.0.1/huiwu",
        "not a url",
    ],
)
def test_database_urls_without_an_async_driver_are_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)

    with pytest.raises(SystemExit) as caught:
        load_settings()

    message = str(caught.value.code)
    assert message.startswith("Invalid settings: DATABASE_URL: ")
    assert "postgresql+asyncpg://" in message


@pytest.mark.parametrize("base", ["api.telegram.org", "ftp://example.org", "", "https://"])
def test_the_api_base_must_be_an_http_url(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    monkeypatch.setenv("TELEGRAM_API_BASE", base)

    with pytest.raises(ValidationError) as caught:
        Settings()

    assert "must be an http(s) URL" in str(caught.value)


# ---- token_problem -----------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "   "])
def test_a_missing_token_is_a_problem(monkeypatch: pytest.MonkeyPatch, token: str | None) -> None:
    if token is not None:
        monkeypatch.setenv("BOT_TOKEN", token)

    problem = Settings().token_problem()

    assert problem is not None
    assert problem.startswith("BOT_TOKEN is not set")
    assert "\n" not in problem


@pytest.mark.parametrize(
    "token",
    [
        "hello",
        "987654321",
        "987654321:",
        "123456789:short",
        "abc:AAEhBP0av28bUqL3H_uLiJ3BCxiXsSPEPP4",
        "12:AAEhBP0av28bUqL3H_uLiJ3BCxiXsSPEPP4",
        "123456789:AAEhBP0av28bUqL3H uLiJ3BCxiXsSPEPP4",
        "123456789:AAEhBP0av28bUqL3H/uLiJ3BCxiXsSPEPP4",
        "bot123456789:AAEhBP0av28bUqL3H_uLiJ3BCxiXsSPEPP4",
    ],
)
def test_a_malformed_token_is_a_problem(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("BOT_TOKEN", token)

    problem = Settings().token_problem()

    assert problem is not None
    assert problem.startswith("BOT_TOKEN is malformed")
    assert "\n" not in problem
    assert token not in problem


@pytest.mark.parametrize(
    "token",
    [VALID_TOKEN, f"  {VALID_TOKEN}\n", "1234:" + "a" * 20, "42424242:" + "Z-_9" * 9],
)
def test_a_wellformed_token_has_no_problem(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("BOT_TOKEN", token)

    assert Settings().token_problem() is None


def test_token_problem_works_on_settings_built_in_code() -> None:
    assert Settings(bot_token=SecretStr(VALID_TOKEN)).token_problem() is None
    assert Settings(bot_token=SecretStr("nope")).token_problem() is not None


def test_every_setting_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "site-config.md").read_text(encoding="utf-8")

    assert sorted(name.upper() for name in Settings.model_fields) == sorted(ENVIRONMENT)
    assert [name for name in ENVIRONMENT if f"`{name}`" not in docs] == []
