"""Dialog widgets that speak the person's language and follow the site's clock and zone."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from aiogram.types import CallbackQuery, InlineKeyboardButton
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.common import WhenCondition
from aiogram_dialog.widgets.kbd import Calendar, CalendarUserConfig
from aiogram_dialog.widgets.kbd.calendar_kbd import (
    CALLBACK_PREFIX_MONTH,
    CALLBACK_PREFIX_YEAR,
    CalendarDaysView,
    CalendarMonthView,
    CalendarScope,
    CalendarScopeView,
    CalendarYearsView,
    date_from_raw,
)
from aiogram_dialog.widgets.text import Text

from bot.dialogs.dependencies import reader_of, site_of, today_of
from bot.services.booking import MAX_ADVANCE
from bot.services.strict import parse_id
from bot.telegram.presses import refuse_button

log = logging.getLogger(__name__)


class _Placeholders(dict[str, Any]):
    """Format data that leaves an unknown placeholder visible instead of failing the window."""

    def __missing__(self, key: str) -> str:
        log.warning("dialog text has no value for {%s}", key)
        return "{" + key + "}"


class Tr(Text):
    """A translated text: ``Tr("Hello, {name}")`` looks the msgid up, then fills it from the
    window data. Values put in the data must already be escaped."""

    def __init__(self, msgid: str, when: WhenCondition = None) -> None:
        super().__init__(when=when)
        self.msgid = msgid

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        translated = reader_of(manager).gettext(self.msgid)
        if "{" not in translated:
            return translated
        return translated.format_map(_Placeholders(data))


class _DateText(Text):
    """Calendar captions (month titles, week days) in the person's language."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        reader = reader_of(manager)
        day: date = data["date"]
        if self.kind == "month_title":
            return f"🗓 {reader.month(day)}"
        if self.kind == "weekday":
            return reader.weekday_letter(day.weekday())
        if self.kind == "prev_month":
            return f"‹ {reader.month(day)}"
        if self.kind == "next_month":
            return f"{reader.month(day)} ›"
        if self.kind == "month":
            return f"{day.month}月" if reader.zh else reader.month(day).split()[0][:3]
        if self.kind == "this_month":
            name = f"{day.month}月" if reader.zh else reader.month(day).split()[0][:3]
            return f"[ {name} ]"
        if self.kind == "year_title":
            return f"🗓 {day.year}"
        return str(day)


class _ClockDaysView(CalendarDaysView):
    """Marks "today" by the injected clock in the site's zone, not the server's."""

    async def _render_date_button(
        self, selected_date: date, today: date, data: dict[str, Any], manager: DialogManager
    ) -> InlineKeyboardButton:
        return await super()._render_date_button(selected_date, today_of(manager), data, manager)


class SiteCalendar(Calendar):
    """A calendar of the site's days from today (by the clock) up to a year ahead."""

    def _init_views(self) -> dict[CalendarScope, CalendarScopeView]:
        return {
            CalendarScope.DAYS: _ClockDaysView(
                self._item_callback_data,
                header_text=_DateText("month_title"),
                weekday_text=_DateText("weekday"),
                prev_month_text=_DateText("prev_month"),
                next_month_text=_DateText("next_month"),
            ),
            CalendarScope.MONTHS: CalendarMonthView(
                self._item_callback_data,
                month_text=_DateText("month"),
                this_month_text=_DateText("this_month"),
                header_text=_DateText("year_title"),
            ),
            CalendarScope.YEARS: CalendarYearsView(self._item_callback_data),
        }

    async def _get_user_config(self, data: dict[str, Any], manager: DialogManager) -> CalendarUserConfig:
        today = today_of(manager)
        return CalendarUserConfig(
            firstweekday=0,
            timezone=site_of(manager).zone,  # type: ignore[arg-type]
            min_date=today,
            max_date=today + timedelta(days=MAX_ADVANCE.days),
        )

    def _readable(self, data: str) -> bool:
        """Data this calendar could have written: aiogram-dialog reads it with a bare int(),
        which fails on anything else ("²", a day beyond the year 9999)."""
        if data in self._handlers:
            return True
        if data.startswith(CALLBACK_PREFIX_MONTH):
            month = parse_id(data.removeprefix(CALLBACK_PREFIX_MONTH), 2)
            return month is not None and 1 <= month <= 12
        if data.startswith(CALLBACK_PREFIX_YEAR):
            year = parse_id(data.removeprefix(CALLBACK_PREFIX_YEAR), 4)
            return year is not None and year >= 1
        seconds = parse_id(data, 12)
        if seconds is None:
            return False
        try:
            date_from_raw(seconds)
        except OverflowError:
            return False
        return True

    async def _process_item_callback(
        self, callback: CallbackQuery, data: str, dialog: Any, manager: DialogManager
    ) -> bool:
        if not self._readable(data):
            await refuse_button(callback)
            return True
        return bool(await super()._process_item_callback(callback, data, dialog, manager))

    async def _render_keyboard(self, data: dict[str, Any], manager: DialogManager) -> Any:
        if self.get_offset(manager) is None:
            self.set_offset(today_of(manager), manager)
        keyboard = await super()._render_keyboard(data, manager)
        # Filler cells (days of other months, past days) are blank in aiogram-dialog; a dot
        # keeps the grid and is a label every Bot API server accepts.
        return [
            [button.model_copy(update={"text": "·"}) if not button.text.strip() else button for button in row]
            for row in keyboard
        ]
