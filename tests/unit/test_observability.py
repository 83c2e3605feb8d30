"""bot/ops: Prometheus text, structured log lines, secret redaction; the webhook and HTTP
settings; the composition root's middleware order and listener plan."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot.app import build_app, stop, web_dependencies
from bot.handlers import build_routers
from bot.ops import metrics
from bot.ops.health import Health, health_gauges
from bot.ops.logs import JsonFormatter, KeyValueFormatter, RedactSecrets, configure_logging, secrets_of
from bot.ops.metrics import InstanceMetrics
from bot.ops.web import plan_listeners
from bot.services.clock import ManualClock
from bot.settings import Settings
from bot.site import SiteConfig
from bot.telegram.middlewares import DeduplicateUpdates

TOKEN = "123456789:AAEhBP0av28bUqL3H_uLiJ3BCxiXsSPEPP4"
SECRET_HALF = TOKEN.split(":", 1)[1]


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


# ---- metrics ---------------------------------------------------------------------------------


def test_an_instance_renders_the_counters_and_the_gauges_of_its_scrape() -> None:
    health = Health(database_ok=True, pending=2, sending=1, oldest_due_seconds=2.5, timers_due=3)
    text = InstanceMetrics().render(health_gauges(health, 'say "hi"\\\n', "webhook")).decode()

    assert text.endswith("\n")
    assert "# HELP huiwu_tick_steps_total Task timer steps taken (push, remind, escalate).\n" in text
    assert "# TYPE huiwu_tick_steps_total counter\n" in text
    assert "huiwu_update_seconds_count " in text and "huiwu_update_seconds_sum " in text
    assert "_created" not in text  # no creation-time series next to the counters
    assert 'huiwu_info{instance="say \\"hi\\"\\\\\\n",mode="webhook"} 1.0' in text
    assert "# TYPE huiwu_outbox_depth gauge\n" in text
    assert 'huiwu_outbox_depth{status="pending"} 2.0\nhuiwu_outbox_depth{status="sending"} 1.0' in text
    assert "huiwu_outbox_oldest_due_seconds 2.5" in text
    assert "huiwu_timers_due 3.0" in text
    assert "huiwu_redis_up" not in text  # no Redis, no Redis gauge


def test_the_gauges_of_a_scrape_do_not_stay_for_the_next() -> None:
    instance = InstanceMetrics()
    instance.render(health_gauges(Health(database_ok=True), "a", "polling"))

    assert b"huiwu_info" not in instance.render()


def test_two_apps_in_one_process_have_registries_of_their_own_with_the_same_counters() -> None:
    first, second = InstanceMetrics(), InstanceMetrics()
    assert first.registry is not second.registry
    before = metrics.value(metrics.RATE_LIMITED)
    metrics.rate_limited()

    for instance in (first, second):
        assert f"huiwu_telegram_429_total {before + 1}" in instance.render().decode()


def test_the_functions_other_modules_call_move_the_counters() -> None:
    before = {
        "sent": metrics.value(metrics.MESSAGES_SENT, method="send"),
        "edited": metrics.value(metrics.MESSAGES_SENT, method="edit"),
        "429": metrics.value(metrics.RATE_LIMITED),
        "escalated": metrics.value(metrics.ESCALATIONS, role="supervisor"),
        "handled": metrics.value(metrics.UPDATES, outcome="handled"),
        "steps": metrics.value(metrics.TICKS),
    }
    metrics.message_sent()
    metrics.message_sent("edit")
    metrics.rate_limited()
    metrics.escalated("supervisor")
    metrics.update_handled("handled", 0.01)
    metrics.tick_steps(3)
    metrics.tick_steps(0)

    assert metrics.value(metrics.MESSAGES_SENT, method="send") == before["sent"] + 1
    assert metrics.value(metrics.MESSAGES_SENT, method="edit") == before["edited"] + 1
    assert metrics.value(metrics.RATE_LIMITED) == before["429"] + 1
    assert metrics.value(metrics.ESCALATIONS, role="supervisor") == before["escalated"] + 1
    assert metrics.value(metrics.UPDATES, outcome="handled") == before["handled"] + 1
    assert metrics.value(metrics.TICKS) == before["steps"] + 3
    text = InstanceMetrics().render().decode()
    assert 'huiwu_updates_total{outcome="duplicate"}' in text  # declared before it first happens


# ---- redaction -------------------------------------------------------------------------------


def test_redaction_takes_out_every_form_of_the_token_and_other_secrets() -> None:
    redactor = RedactSecrets([TOKEN, "webhook-secret-value", "s3cr3t-password"])
    other_bot = "987654321:ZZZhBP0av28bUqL3H_uLiJ3BCxiXsSPEPP9"

    text = redactor.redact(
        f"POST https://api.telegram.org/bot{TOKEN}/sendMessage "
        f"encoded=bot123456789%3A{SECRET_HALF} half={SECRET_HALF} other=/bot{other_bot}/getMe "
        "header=webhook-secret-value dsn=postgresql://huiwu:s3cr3t-password@db/huiwu"
    )

    for secret in (TOKEN, SECRET_HALF, other_bot.split(":")[1], "webhook-secret-value", "s3cr3t-password"):
        assert secret not in text
    assert "/bot123456789:<redacted>/sendMessage" in text
    assert "bot123456789%3A<redacted>" in text
    assert "/bot987654321:<redacted>/getMe" in text
    assert "huiwu:<redacted>@db" in text


def test_short_or_empty_secrets_are_not_used_for_redaction() -> None:
    redactor = RedactSecrets(["", "abc", None])  # type: ignore[list-item]
    assert redactor.redact("abc stays") == "abc stays"


def test_secrets_of_the_settings() -> None:
    found = secrets_of(
        settings(
            bot_token=TOKEN,
            webhook_secret="hook_secret_1",
            database_url="postgresql+asyncpg://huiwu:db-password@db:5432/huiwu",
            redis_url="redis://:redis-password@cache:6379/0",
        )
    )
    assert set(found) == {TOKEN, "hook_secret_1", "db-password", "redis-password"}


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    redactor = RedactSecrets([TOKEN])
    handler.addFilter(redactor)
    handler.setFormatter(KeyValueFormatter(redactor))
    log = logging.getLogger(f"tests.observability.{id(stream)}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    yield log, stream, handler
    log.removeHandler(handler)


def test_a_record_is_redacted_in_its_message_arguments_extras_and_traceback(
    logger: tuple[logging.Logger, io.StringIO, logging.Handler],
) -> None:
    log, stream, _ = logger
    url = f"http://127.0.0.1:1/bot{TOKEN}/getMe"
    log.info("calling %s", url, extra={"url": url})
    try:
        raise ConnectionError(f"cannot reach {url}")
    except ConnectionError:
        log.exception("failed")
    log.warning("broken format %s %s", url)  # not enough arguments: still one clean line

    output = stream.getvalue()
    assert SECRET_HALF not in output
    assert output.count("\n") == 3  # one line per event, the traceback included
    assert "url=http://127.0.0.1:1/bot123456789:<redacted>/getMe" in output
    assert "ConnectionError: cannot reach" in output


def test_key_value_lines() -> None:
    record = logging.LogRecord("bot.app", logging.WARNING, __file__, 1, "two\nlines = %s", ("x y",), None)
    record.update_id = 42
    record.peer = "127.0.0.1"

    line = KeyValueFormatter().format(record)

    assert "\n" not in line
    assert line.startswith("ts=")
    assert 'level=WARNING logger=bot.app msg="two\\nlines = x y" update_id=42 peer=127.0.0.1' in line


def test_json_lines() -> None:
    try:
        raise ValueError("boom")
    except ValueError as error:
        record = logging.LogRecord(
            "bot", logging.ERROR, __file__, 1, "failed %s", (7,), (ValueError, error, None)
        )
    record.chat_id = -1001

    event = json.loads(JsonFormatter().format(record))

    assert event["level"] == "ERROR" and event["logger"] == "bot" and event["msg"] == "failed 7"
    assert event["chat_id"] == -1001
    assert "ValueError: boom" in event["exc"]
    assert event["ts"].endswith("+00:00")


def test_configure_logging_installs_one_redacting_handler() -> None:
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    first = configure_logging("INFO", "json", [TOKEN], stream=io.StringIO())
    second = configure_logging("INFO", "json", [TOKEN], stream=stream)
    try:
        assert first not in root.handlers and second in root.handlers
        logging.getLogger("aiogram.event").info("GET /bot%s/getUpdates", TOKEN)
        logging.getLogger("aiogram.event").debug("not at INFO")
        lines = stream.getvalue().splitlines()
        assert len(lines) == 1
        assert json.loads(lines[0])["msg"] == "GET /bot123456789:<redacted>/getUpdates"
    finally:
        root.removeHandler(second)
        root.setLevel(level)
        logging.captureWarnings(False)


# ---- settings --------------------------------------------------------------------------------


def test_webhook_and_http_defaults() -> None:
    s = settings()
    assert s.log_format == "kv"
    assert s.redis_prefix == "huiwu"
    assert s.webhook_url is None and s.webhook_secret is None
    assert (s.webhook_host, s.webhook_port, s.webhook_max_connections) == ("127.0.0.1", 8180, 40)
    assert (s.http_host, s.http_port) == ("127.0.0.1", 9180)
    assert s.webhook_route == "/telegram/webhook"


def test_the_webhook_needs_an_https_url_and_a_wellformed_secret() -> None:
    assert settings().webhook_problem() is not None
    assert "WEBHOOK_SECRET" in (settings(webhook_url="https://bot.example.com/hook").webhook_problem() or "")
    bad = settings(webhook_url="https://bot.example.com/hook", webhook_secret=SecretStr("has spaces"))
    assert "malformed" in (bad.webhook_problem() or "")
    good = settings(webhook_url="https://bot.example.com/hook", webhook_secret=SecretStr("A-b_9" * 10))
    assert good.webhook_problem() is None
    with pytest.raises(ValidationError):
        settings(webhook_url="http://bot.example.com/hook")


def test_the_webhook_path_comes_from_the_url_unless_given() -> None:
    assert settings(webhook_url="https://bot.example.com/huiwu/hook").webhook_route == "/huiwu/hook"
    assert settings(webhook_url="https://bot.example.com").webhook_route == "/telegram/webhook"
    assert (
        settings(webhook_url="https://bot.example.com/huiwu/hook", webhook_path="/hook").webhook_route
        == "/hook"
    )
    with pytest.raises(ValidationError):
        settings(webhook_path="hook")


@pytest.mark.parametrize("value", ["off", "", "OFF", "none"])
def test_http_port_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("HTTP_PORT", value)
    assert settings().http_port is None


def test_log_format_is_kv_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    assert settings().log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValidationError):
        settings()


# ---- the composition root -------------------------------------------------------------------


async def test_deduplication_runs_before_aiogram_error_handling(
    site: SiteConfig, clock: ManualClock, tmp_path: Path
) -> None:
    app = build_app(
        settings(bot_token=TOKEN, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"), site, clock
    )
    try:
        outer = list(app.dispatcher.update.outer_middleware[:])
        assert isinstance(outer[0], DeduplicateUpdates)
        assert sum(isinstance(m, DeduplicateUpdates) for m in outer) == 1
    finally:
        await stop(app)


def _function(callback: object) -> object:
    """A handler's function (a dialog's bound method belongs to each App's own dialog)."""
    return getattr(callback, "__func__", callback)


async def test_two_apps_in_one_process_each_get_their_own_routers(
    site: SiteConfig, clock: ManualClock, tmp_path: Path
) -> None:
    first = build_app(
        settings(bot_token=TOKEN, database_url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"), site, clock
    )
    second = build_app(
        settings(bot_token=TOKEN, database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"), site, clock
    )
    try:
        # the handler routers (aiogram-dialog then adds a fresh "about" dialog to each dispatcher)
        count = len(build_routers())
        originals, copies = first.dispatcher.sub_routers[:count], second.dispatcher.sub_routers[:count]
        assert [r.name for r in originals] == [r.name for r in copies]
        for original, twin in zip(originals, copies, strict=True):
            assert twin is not original
            assert twin.parent_router is second.dispatcher and original.parent_router is first.dispatcher
            assert type(twin) is type(original)
            for name, observer in original.observers.items():
                assert twin.observers[name].router is twin
                # the same handlers in the same order, on a tree of its own (built by factories)
                assert [_function(h.callback) for h in twin.observers[name].handlers] == [
                    _function(h.callback) for h in observer.handlers
                ]
                assert twin.observers[name].handlers is not observer.handlers
            assert twin.message is twin.observers["message"] and twin.errors is twin.error
    finally:
        await stop(second)
        await stop(first)


@pytest.mark.parametrize(
    ("values", "webhook", "expected"),
    [
        ({}, False, ["operations"]),
        ({"http_port": "off"}, False, []),
        ({}, True, ["webhook", "operations"]),
        ({"http_port": "off"}, True, ["webhook"]),
        ({"webhook_port": 9000, "http_port": 9000}, True, ["webhook and operations"]),
    ],
    ids=["polling", "polling without http", "webhook", "webhook without http", "one port"],
)
async def test_listeners_per_mode(
    site: SiteConfig,
    clock: ManualClock,
    tmp_path: Path,
    values: dict[str, object],
    webhook: bool,
    expected: list[str],
) -> None:
    config = settings(
        bot_token=TOKEN,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        webhook_url="https://bot.example.com/hook",
        webhook_secret=SecretStr("s" * 20),
        **values,
    )
    app = build_app(config, site, clock)
    try:
        assert [server.name for server in plan_listeners(web_dependencies(app), webhook=webhook)] == expected
    finally:
        await stop(app)


# ---- the command -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "WEBHOOK_URL is not set"),
        ({"WEBHOOK_URL": "https://bot.example.com/hook"}, "WEBHOOK_SECRET is not set"),
        (
            {"WEBHOOK_URL": "https://bot.example.com/hook", "WEBHOOK_SECRET": "no spaces"},
            "WEBHOOK_SECRET is malformed",
        ),
    ],
)
def test_run_webhook_refuses_to_start_without_its_settings(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    environment: dict[str, str],
    expected: str,
) -> None:
    from bot.cli import main
    from tests.unit.test_settings import ENVIRONMENT

    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bot was built although it must not start")

    monkeypatch.setattr("bot.app.build_app", refuse)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        code = main(["run", "--webhook"])
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(False)

    err = capsys.readouterr().err
    assert code == 2
    assert [line for line in err.splitlines() if line.strip()] == [
        line for line in err.splitlines() if line.startswith(expected)
    ]
    assert expected in err


async def test_a_busy_operations_port_is_logged_but_a_busy_webhook_port_stops_the_start(
    site: SiteConfig, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    from bot.app import start_listeners
    from bot.ops.web import ListenerError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = settings(
            bot_token=TOKEN,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
            webhook_url="https://bot.example.com/hook",
            webhook_secret=SecretStr("s" * 20),
            http_port=port,
            webhook_port=0,
        )
        app = build_app(config, site, clock)
        try:
            with caplog.at_level(logging.ERROR, logger="bot.app"):
                await start_listeners(app, webhook=False)
            assert app.servers == []
            assert f"cannot listen on 127.0.0.1:{port} for the operations" in caplog.text
            assert "set HTTP_PORT to a free port" in caplog.text
        finally:
            await stop(app)

        config = settings(
            bot_token=TOKEN,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'y.db'}",
            webhook_url="https://bot.example.com/hook",
            webhook_secret=SecretStr("s" * 20),
            http_port="off",
            webhook_port=port,
        )
        app = build_app(config, site, clock)
        try:
            with pytest.raises(ListenerError, match="WEBHOOK_PORT"):
                await start_listeners(app, webhook=True)
        finally:
            await stop(app)
