"""Operations: what the people who run the bot look at and rely on.

``web`` (the HTTP listeners: Telegram's webhook, /healthz, /metrics, room calendars),
``health`` (the probe behind /healthz), ``metrics`` (the counters and each App's Prometheus
registry), ``logs`` (one line per event, secrets redacted) and ``lease`` (one live process per
INSTANCE_NAME). Nothing is imported here: the domain bumps counters through
``bot.ops.metrics`` without loading the web side.
"""
