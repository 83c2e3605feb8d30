"""``understand``: one typed request in, every field it states out; nothing guessed."""

from __future__ import annotations

import re
from datetime import datetime

from bot.site import SiteConfig

from . import en_time, recurrence, zh_time
from .entities import read_attendees, read_level, read_unknown_rooms, read_vocabulary
from .moments import resolve
from .result import BOOKING_FIELDS, Confidence, Problem, Understanding
from .text import PLACEHOLDER, Captures, has_han, normalise
from .typed_values import capture_contacts, capture_texts
from .vocabulary import lexicon_for

MAX_TEXT = 2000  # a request is a message; a pasted document is cut here


def detect_language(text: str, hint: str | None) -> str:
    if has_han(text):
        return "zh"
    if re.search(r"[A-Za-z]{2,}", text):
        return "en"
    return hint if hint in ("zh", "en") else "zh"


def understand(text: str, site: SiteConfig, now: datetime, language_hint: str | None = None) -> Understanding:
    """Read a booking request typed in one message.

    ``now`` is aware (UTC or any zone); relative dates are read in the site's zone. Every
    field that is not certain is left unset and listed in ``missing`` (and, when the text
    allows several readings, in ``ambiguous``); contradictions are in ``problems``.
    """
    if now.tzinfo is None:
        raise ValueError("understand() needs an aware now")
    text = text[:MAX_TEXT]
    captures = Captures()
    work = captures.protect_quotes(text)
    result = Understanding(text=text, language=detect_language(re.sub(PLACEHOLDER, "", work), language_hint))
    lexicon = lexicon_for(site)
    work = capture_contacts(work, captures, result)
    work, texts = capture_texts(work, site, lexicon, captures, result)
    norm = normalise(work)
    zone = site.zone
    local_now = now.astimezone(zone).replace(tzinfo=None)
    norm, repeats = recurrence.read(norm, local_now.date())
    rest = read_vocabulary(norm, site, lexicon, result, texts)
    rest = read_level(rest, lexicon, result)
    rest = read_attendees(rest, result)
    rest = read_unknown_rooms(rest, site, result)
    rest = re.sub(PLACEHOLDER, " ", rest)
    reader = zh_time if result.language == "zh" else en_time
    resolve(reader.read(rest, local_now), result, zone, now)
    if repeats is not None:
        recurrence.apply(repeats, result, site, now)
    _cross_check(result, site)
    result.missing = missing_fields(result, site)
    return result


def _cross_check(result: Understanding, site: SiteConfig) -> None:
    room = site.room(result.room_id) if result.room_id else None
    if room is None:
        return
    if result.layout is None and len(room.layouts) == 1 and "layout" not in result.ambiguous:
        result.layout = room.layouts[0]
        result.confidence["layout"] = Confidence.implied
    elif result.layout is not None and result.layout not in room.layouts:
        result.problems.append(Problem("layout_not_in_room", "layout", result.layout))
    if result.attendees is not None and result.attendees > room.capacity:
        result.problems.append(Problem("over_capacity", "attendees", str(room.capacity)))


def missing_fields(result: Understanding, site: SiteConfig) -> list[str]:
    """What a booking still needs, in the order the booking dialog asks it."""
    present = {
        "date": result.date,
        "start": result.start_time,
        "end": result.end_time,
        "attendees": result.attendees,
        "room": result.room_id,
        "layout": result.layout,
        "title": result.title,
        "reception_level": result.reception_level,
    }
    needed = [name for name in BOOKING_FIELDS if present[name] is None]
    for service_id, details in result.services.items():
        service = site.service(service_id)
        for detail in service.details if service else ():
            if detail.required and detail.key not in details:
                needed.append(f"services.{service_id}.{detail.key}")
    return needed
