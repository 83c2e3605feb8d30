"""Huiwu (会务): the Telegram bot of an office building's conference-service centre."""

from bot.telegram.lazy_models import install as _install_lazy_telegram_models

# Before any module of the bot imports aiogram, whatever the entry point: aiogram's models then
# build their validators on first use, ~100 MB less per instance (bot/telegram/lazy_models.py).
_install_lazy_telegram_models()
