"""Try the bot without Telegram: the Bot API emulator, the real bot and a chat page in one process.

``uv run huiwu sandbox`` starts it (see docs/sandbox.md). :class:`bot.sandbox.runtime.Sandbox`
owns the emulator, the bot (built by the same composition root as ``huiwu run``), a throw-away
SQLite database and a movable clock; :func:`bot.sandbox.web.build_web_app` serves the page and
its small API; :mod:`bot.sandbox.cli` is the ``sandbox`` subcommand. Nothing heavy is imported
here, so the CLI stays quick for its other commands.
"""
