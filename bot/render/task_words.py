"""The words every task message shares: names of templates, teams and roles, reasons, mentions."""

from __future__ import annotations

from html import escape

from bot.render.text import Reader, shorten, user_text
from bot.site import SiteConfig


def mention(user_id: int, name: str) -> str:
    """A clickable name that notifies the person; ``name`` must already be escaped."""
    return f'<a href="tg://user?id={user_id}">{name}</a>'


def template_name(site: SiteConfig, template_id: str, language: str) -> str:
    template = next((t for t in site.task_templates if t.id == template_id), None)
    if template is None:
        return escape(template_id)
    if template.name is not None:
        return escape(template.name.get(language))
    return escape(shorten(template.text.get(language).format_map(_Blank()), 30))


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def team_name(site: SiteConfig, team_id: str, language: str) -> str:
    team = site.team(team_id)
    return escape(team.name.get(language)) if team else escape(team_id)


def reason_text(reader: Reader, reason: str | None, limit: int = 300) -> str:
    _ = reader.gettext
    presets = {
        "preset:equipment": _("Equipment broken"),
        "preset:locked": _("Room locked"),
        "preset:supplies": _("Supplies missing"),
        "preset:staff": _("Not enough staff"),
    }
    if reason is None:
        return ""
    return presets.get(reason) or user_text(reason, limit)


def role_name(reader: Reader, role: str | None) -> str:
    _ = reader.gettext
    return {"supervisor": _("supervisor"), "manager": _("manager")}.get(role or "", escape(role or ""))
