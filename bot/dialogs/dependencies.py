"""What a dialog window or handler needs from the update, typed.

aiogram hands a dialog its dependencies in ``DialogManager.middleware_data``, a dict typed
``Any``: the composition root puts the site, clock, services and database there
(Dispatcher workflow data), the middlewares the person and the i18n context. Reading them
through these accessors gives the type checker real types and turns a missing or misnamed
dependency into a clear error at the first read instead of an attribute error further on.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar, cast

from aiogram import Bot
from aiogram.types import Chat
from aiogram.utils.i18n import I18n
from aiogram_dialog import DialogManager

from bot.delivery.notices import NoticeDelivery
from bot.render.text import Reader
from bot.services.booking import BookingService
from bot.services.clock import Clock
from bot.services.parsing import local_today
from bot.services.people import PersonContext
from bot.services.series import SeriesService
from bot.site import SiteConfig
from storage.database import Database

_Dependency = TypeVar("_Dependency")


def _dependency(manager: DialogManager, key: str, kind: type[_Dependency]) -> _Dependency:
    value: Any = manager.middleware_data.get(key)
    if not isinstance(value, kind):
        raise TypeError(f"the dialog needs {kind.__name__} as {key!r}, the update has {type(value).__name__}")
    return value


def site_of(manager: DialogManager) -> SiteConfig:
    return _dependency(manager, "site", SiteConfig)


def clock_of(manager: DialogManager) -> Clock:
    # Clock is a protocol (the system, manual and offset clocks share no base class)
    return cast(Clock, manager.middleware_data["clock"])


def person_of(manager: DialogManager) -> PersonContext:
    return _dependency(manager, "person", PersonContext)


def booking_service_of(manager: DialogManager) -> BookingService:
    return _dependency(manager, "booking_service", BookingService)


def series_service_of(manager: DialogManager) -> SeriesService:
    return _dependency(manager, "series_service", SeriesService)


def database_of(manager: DialogManager) -> Database:
    return _dependency(manager, "db", Database)


def delivery_of(manager: DialogManager) -> NoticeDelivery:
    return _dependency(manager, "delivery", NoticeDelivery)


def bot_of(manager: DialogManager) -> Bot:
    return _dependency(manager, "bot", Bot)


def chat_of(manager: DialogManager) -> Chat:
    return _dependency(manager, "event_chat", Chat)


def i18n_of(manager: DialogManager) -> I18n:
    return _dependency(manager, "i18n", I18n)


def reader_of(manager: DialogManager) -> Reader:
    """The person's reader for this update: the locale the i18n middleware chose, reading now."""
    i18n = i18n_of(manager)
    return Reader(i18n, i18n.current_locale, site_of(manager), clock_of(manager).now())


def today_of(manager: DialogManager) -> date:
    """Today in the site's zone, by the injected clock (never the server's)."""
    return local_today(site_of(manager).zone, clock_of(manager).now())
