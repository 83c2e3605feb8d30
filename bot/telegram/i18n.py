"""Languages: gettext catalogues in locales/, picked per person (zh for zh*, else en)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
SUPPORTED = ("zh", "en")


def language_from_telegram(language_code: str | None, default: str) -> str:
    if not language_code:
        return default
    return "zh" if language_code.lower().startswith("zh") else "en"


def build_i18n(default_locale: str) -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain="messages")


class PersonI18nMiddleware(I18nMiddleware):
    """The person's chosen language if they set one, else their Telegram language."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chosen = data.get("language")
        if chosen in SUPPORTED:
            return str(chosen)
        user: User | None = data.get("event_from_user")
        return language_from_telegram(user.language_code if user else None, self.i18n.default_locale)
