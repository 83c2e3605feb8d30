"""What ties the bot to Telegram's framework, aiogram.

This package must never import aiogram in its ``__init__``: ``bot/__init__.py`` imports
``bot.telegram.lazy_models`` before any other module of the bot has imported aiogram, and
that only works while importing this package leaves aiogram alone.
"""
