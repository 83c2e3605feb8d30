"""``GET /rooms/<room id>/display?token=…``: the full-screen page of a tablet at a room's door,
and ``GET /rooms/<room id>/display.json?token=…``, what the page polls to update itself.

What the screen shows is decided by bot/services/door_display.py (read as by a passer-by) and
worded by bot/render/door_display.py. The page needs nothing from elsewhere: its CSS and
script are inline (allowed by a per-response nonce in its Content-Security-Policy), and the QR
code is drawn here as inline SVG (``segno``).

**The token.** A room has a display only when a site admin issued it a token in chat
(``/display <room>``) or the site file gives it a ``display_token`` (docs/site-config.md);
an issued token replaces the site file's (bot/services/door_display.py). A request whose
token is missing or wrong, for a room without a display or one the site does not know, gets
the same plain 403 page, after a constant-time comparison, so the answer tells nobody which
rooms exist or have a display. The token is in
the address, so the page asks browsers not to send it on as a referrer and not to keep it.

Query parameters: ``lang`` (``zh`` / ``en``, else the site's default language) and ``poll``
(seconds between updates, 1-3600, default :data:`DEFAULT_POLL_SECONDS`).
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.delivery.notices import Translations
from bot.render.door_display import door_view, refusal_text
from bot.render.text import Reader
from bot.services.clock import Clock
from bot.services.door_display import DoorDisplayService, room_opened_by
from bot.services.strict import parse_id
from bot.site import Room, SiteConfig
from storage.database import Database

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 30
MAX_POLL_SECONDS = 3600
TEMPLATE = Path(__file__).with_name("door_display.html")
_PLACEHOLDER = re.compile(r"%%([A-Z_]+)%%")


@functools.lru_cache(maxsize=256)
def qr_svg(link: str) -> str:
    """The link as a QR code, inline SVG scaled by its container (drawn once per link)."""
    import segno  # imported on the first display, not at start-up

    return str(segno.make(link, error="m").svg_inline(scale=4, border=2, omitsize=True, dark="#000"))


@functools.lru_cache(maxsize=1)
def _template() -> str:
    return TEMPLATE.read_text(encoding="utf-8")


def _security_headers(nonce: str | None = None) -> dict[str, str]:
    sources = f"'nonce-{nonce}'" if nonce else "'none'"
    return {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            f"default-src 'none'; script-src {sources}; style-src {sources}; "
            "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        ),
    }


class DoorDisplays:
    """The door displays of every room that has a token (issued in chat, or the site file's)."""

    def __init__(self, site: SiteConfig, clock: Clock, db: Database, i18n: Translations) -> None:
        self.site = site
        self.db = db
        self.i18n = i18n
        self.service = DoorDisplayService(site, clock)

    # ---- the gate ---------------------------------------------------------------------
    async def _room(self, request: web.Request) -> Room | None:
        """The room whose display the request may see, or None."""
        async with self.db.sessionmaker() as session:
            return await room_opened_by(
                session, self.site, request.match_info["room_id"], request.query.get("token", "")
            )

    def _refusal(self) -> web.Response:
        read = self._reader(self.site.site.default_language)
        text = escape(refusal_text(read))
        body = (
            f'<!doctype html><html><head><meta charset="utf-8"><title>403</title></head>'
            f"<body><p>{text}</p></body></html>\n"
        )
        return web.Response(
            status=403, text=body, content_type="text/html", charset="utf-8", headers=_security_headers()
        )

    # ---- what is shown ----------------------------------------------------------------
    def _reader(self, language: str) -> Reader:
        return Reader(self.i18n, language, self.site)

    def _language(self, request: web.Request) -> str:
        asked = request.query.get("lang", "")
        return asked if asked in ("zh", "en") else self.site.site.default_language

    async def _view(self, request: web.Request, room: Room) -> dict[str, Any] | None:
        try:
            async with self.db.sessionmaker() as session:
                state = await self.service.state(session, room)
        except Exception:
            log.exception("the door display of room %s could not be read", room.id)
            return None
        view = door_view(self._reader(self._language(request)), state)
        view["qr_svg"] = qr_svg(state.link)
        return view

    # ---- the handlers -----------------------------------------------------------------
    async def state(self, request: web.Request) -> web.Response:
        try:
            room = await self._room(request)
        except Exception:
            log.exception("the door display's token could not be read")
            return web.Response(status=503, text="the display cannot be read now\n")
        if room is None:
            return self._refusal()
        view = await self._view(request, room)
        if view is None:
            return web.json_response(
                {"error": "unavailable"}, status=503, headers={"Cache-Control": "no-store"}
            )
        return web.json_response(view, headers=_security_headers())

    async def page(self, request: web.Request) -> web.Response:
        try:
            room = await self._room(request)
        except Exception:
            log.exception("the door display's token could not be read")
            return web.Response(status=503, text="the display cannot be read now\n")
        if room is None:
            return self._refusal()
        view = await self._view(request, room)
        if view is None:
            return web.Response(status=503, text="the display cannot be read now\n")
        poll = parse_id(request.query.get("poll"), 4)
        nonce = secrets.token_urlsafe(16)
        body = render_page(view, nonce, min(poll, MAX_POLL_SECONDS) if poll else DEFAULT_POLL_SECONDS)
        return web.Response(
            text=body, content_type="text/html", charset="utf-8", headers=_security_headers(nonce)
        )


def _meeting_html(meeting: dict[str, Any]) -> str:
    classes = "meeting booked-only" if meeting["booked_only"] else "meeting"
    extra = ""
    if meeting["note"]:
        extra += f'<span class="note">{escape(meeting["note"])}</span>'
    if meeting["unit"]:
        extra += f'<span class="unit">{escape(meeting["unit"])}</span>'
    return (
        f'<div class="{classes}"><span class="when">{escape(meeting["time"])}</span>'
        f'<span class="what">{escape(meeting["title"])}{extra}</span></div>'
    )


def render_page(view: dict[str, Any], nonce: str, poll_seconds: int) -> str:
    """The page's first paint (the script then keeps it up to date from the JSON); every value
    is escaped here, the QR code's SVG being the one piece of markup (drawn from the link)."""
    now = view["now"]
    later = view["later"]
    values = {
        "HTML_LANG": "zh-CN" if view["language"] == "zh" else "en",
        "NONCE": nonce,
        "TITLE": escape(view["title"]),
        "LANGUAGE": escape(view["language"]),
        "POLL": str(poll_seconds),
        "STATE": escape(view["state"]),
        "ROOM": escape(view["room"]),
        "STATUS": escape(view["status"]),
        "NOW_HIDDEN": "" if now else " hidden",
        "NOW_LABEL": escape(view["now_label"]),
        "NOW": _meeting_html(now) if now else "",
        "LATER_LABEL": escape(view["later_label"]),
        "LATER": "".join(f"<li>{_meeting_html(meeting)}</li>" for meeting in later),
        "LATER_EMPTY_HIDDEN": " hidden" if later else "",
        "LATER_EMPTY": escape(view["later_empty"]),
        "TIME": escape(view["time"]),
        "DATE": escape(view["date"]),
        "QR_LINK": escape(view["qr_link"]),
        "QR_SVG": view["qr_svg"],
        "QR_CAPTION": escape(view["qr_caption"]),
        "OFFLINE": escape(view["offline"]),
        "SWITCH_TO": escape(view["switch_to"]),
        "SWITCH_LABEL": escape(view["switch_label"]),
    }
    # one pass, so that a value (a title reading "%%NOW%%") is never read as a placeholder
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], _template())
