"""Reading helpers shared by every view: the reader's language, dates and times in the site's
zone, and safe pieces of user text (escaped, cut to fit a Telegram message)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from html import escape

from bot.delivery.notices import Translations
from bot.site import SiteConfig

MESSAGE_LIMIT = 4096
SAFE_LIMIT = 3900  # room for a heading or a line added after the body

_WEEKDAYS_ZH = "一二三四五六日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Reader:
    """Whoever reads a text: their language, the site whose zone and names to use, and when
    they read it (``now``, from the injected clock) so that a time can say which day it is
    on relative to the reader's today."""

    i18n: Translations
    language: str
    site: SiteConfig
    now: datetime | None = None

    def at(self, now: datetime) -> Reader:
        """The same reader, reading at ``now``."""
        return replace(self, now=now)

    def gettext(self, singular: str, plural: str | None = None, n: int = 1) -> str:
        try:
            return self.i18n.gettext(singular, plural, n, locale=self.language)
        except LookupError:  # pragma: no cover - a catalogue is missing
            return singular if n == 1 or plural is None else plural

    @property
    def zh(self) -> bool:
        return self.language == "zh"

    # ---- dates and times, in the site's zone ------------------------------------------
    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.site.zone)

    def day(self, day: date) -> str:
        if self.zh:
            return f"{day.year}年{day.month}月{day.day}日（周{_WEEKDAYS_ZH[day.weekday()]}）"
        return f"{_WEEKDAYS_EN[day.weekday()]} {day.day} {_MONTHS_EN[day.month - 1]} {day.year}"

    def short_day(self, day: date) -> str:
        if self.zh:
            return f"{day.month}月{day.day}日 周{_WEEKDAYS_ZH[day.weekday()]}"
        return f"{_WEEKDAYS_EN[day.weekday()]} {day.day} {_MONTHS_EN[day.month - 1]}"

    def month(self, day: date) -> str:
        if self.zh:
            return f"{day.year}年{day.month}月"
        return f"{MONTH_NAMES_EN[day.month - 1]} {day.year}"

    def weekday_letter(self, weekday: int) -> str:
        return _WEEKDAYS_ZH[weekday] if self.zh else _WEEKDAYS_EN[weekday][:2]

    def time(self, moment: datetime) -> str:
        """The bare clock time: only where the text already says the day (a heading, a day's
        section); anywhere else use :meth:`when`."""
        return self.local(moment).strftime("%H:%M")

    def moment(self, moment: datetime) -> str:
        local = self.local(moment)
        return f"{self.day(local.date())} {local:%H:%M}"

    def span(self, start: datetime, end: datetime) -> str:
        first, last = self.local(start), self.local(end)
        if first.date() == last.date():
            return f"{self.day(first.date())} {first:%H:%M}–{last:%H:%M}"
        return f"{self.moment(start)} – {self.moment(end)}"

    def short_span(self, start: datetime, end: datetime) -> str:
        first, last = self.local(start), self.local(end)
        return f"{self.short_day(first.date())} {first:%H:%M}–{last:%H:%M}"

    def when(self, moment: datetime, now: datetime | None = None) -> str:
        """A moment as people say it, from the reader's today in the site's zone: "11:02"
        today, "tomorrow 11:02" / "yesterday 11:02", else the day ("Fri 4 Dec 15:00", with
        the year when not this year). ``now`` defaults to the reader's; a reader with no
        ``now`` gets the full date, never a bare time that could mean any day."""
        reference = now if now is not None else self.now
        if reference is None:
            return self.moment(moment)
        local = self.local(moment)
        return self._on_day(local.date(), self.local(reference).date(), f"{local:%H:%M}")

    def when_span(self, start: datetime, end: datetime, now: datetime | None = None) -> str:
        """A start–end span the way :meth:`when` says a moment: "tomorrow 14:00–16:00"; a span
        over midnight names both ends."""
        reference = now if now is not None else self.now
        if reference is None:
            return self.span(start, end)
        first, last = self.local(start), self.local(end)
        today = self.local(reference).date()
        if first.date() == last.date():
            return self._on_day(first.date(), today, f"{first:%H:%M}–{last:%H:%M}")
        return f"{self.when(start, reference)} – {self.when(end, reference)}"

    def _on_day(self, day: date, today: date, clock: str) -> str:
        _ = self.gettext
        if day == today:
            return clock
        if day == today + timedelta(days=1):
            return _("tomorrow {time}").format(time=clock)
        if day == today - timedelta(days=1):
            return _("yesterday {time}").format(time=clock)
        weekday = _WEEKDAYS_ZH[day.weekday()] if self.zh else _WEEKDAYS_EN[day.weekday()]
        if self.zh:
            year = f"{day.year}年" if day.year != today.year else ""
            return f"{year}{day.month}月{day.day}日（周{weekday}）{clock}"
        year = f" {day.year}" if day.year != today.year else ""
        return f"{weekday} {day.day} {_MONTHS_EN[day.month - 1]}{year} {clock}"

    def duration(self, minutes: float) -> str:
        _ = self.gettext
        whole = round(minutes)
        if whole and whole % 1440 == 0:
            days = whole // 1440
            return _("{n} day", "{n} days", days).format(n=days)
        if whole and whole % 60 == 0:
            hours = whole // 60
            return _("{n} hour", "{n} hours", hours).format(n=hours)
        return _("{n} minute", "{n} minutes", whole).format(n=whole)

    # ---- site names -------------------------------------------------------------------
    def room_name(self, room_id: str) -> str:
        room = self.site.room(room_id)
        return escape(room.name.get(self.language)) if room else escape(room_id)

    def layout_name(self, layout_id: str) -> str:
        layout = self.site.layout(layout_id)
        return escape(layout.name.get(self.language)) if layout else escape(layout_id)

    def department_name(self, department_id: str) -> str:
        department = self.site.department(department_id)
        return escape(department.name.get(self.language)) if department else escape(department_id)

    def service_name(self, service_id: str) -> str:
        service = self.site.service(service_id)
        return escape(service.name.get(self.language)) if service else escape(service_id)


def shorten(text: str, limit: int) -> str:
    """Cut plain text to ``limit`` characters, marking the cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"


def user_text(text: str | None, limit: int) -> str:
    """A piece of typed text ready for an HTML message: cut first, then escaped."""
    return escape(shorten(text or "", limit), quote=False)


def fit_message(text: str, limit: int = SAFE_LIMIT) -> str:
    """Last resort for a message that is still too long: drop whole lines from the end.

    Cutting inside a line could split an HTML tag or entity, so only whole lines go.
    """
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    while lines and len("\n".join(lines)) + 2 > limit:
        lines.pop()
    return "\n".join(lines) + "\n…"
