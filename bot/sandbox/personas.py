"""The people of the sandbox: the personas of the site file, and the command menu each one sees."""

from __future__ import annotations

from dataclasses import dataclass

from bot.sandbox.common import JSON
from bot.site import SiteConfig


# ---- personas ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Persona:
    """A person of the site file, as the page's persona switcher shows them."""

    id: int
    name: str
    language: str
    roles: tuple[str, ...] = ()
    department: JSON | None = None
    teams: tuple[JSON, ...] = ()

    @property
    def language_code(self) -> str:
        """What the emulator reports as the user's Telegram language."""
        return "en" if self.language == "en" else "zh-hans"

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "roles": list(self.roles),
            "department": self.department,
            "teams": list(self.teams),
        }


def site_personas(site: SiteConfig) -> list[Persona]:
    """Everyone of the site file, plus team members the file lists only by id."""
    default = site.site.default_language
    personas: list[Persona] = []
    known: set[int] = set()

    def teams_of(user_id: int) -> tuple[JSON, ...]:
        return tuple(
            {
                "id": team.id,
                "name": team.name.model_dump(),
                "leader": team.leader == user_id,
                "chat_id": team.chat_id,
            }
            for team in site.teams_of(user_id)
        )

    for person in site.people:
        department = site.department(person.department) if person.department else None
        personas.append(
            Persona(
                id=person.id,
                name=person.name,
                language=person.language or default,
                roles=tuple(str(role) for role in person.roles),
                department=department.name.model_dump() if department else None,
                teams=teams_of(person.id),
            )
        )
        known.add(person.id)
    for team in site.teams:
        for member in sorted(team.everyone - known):
            personas.append(
                Persona(id=member, name=f"staff {member}", language=default, teams=teams_of(member))
            )
            known.add(member)
    return personas


# ---- command menus ----------------------------------------------------------------------------------
def resolve_commands(
    stored: list[JSON],
    *,
    chat_id: int,
    chat_type: str,
    user_id: int,
    language: str | None,
    admin: bool = False,
) -> list[JSON]:
    """The command menu a Telegram client shows: the narrowest scope that has commands, in the
    user's language first, then without a language (Bot API, "Determining list of commands")."""
    scopes: list[tuple[str, int | None, int | None]]
    if chat_type == "private":
        scopes = [("chat", chat_id, None), ("all_private_chats", None, None), ("default", None, None)]
    else:
        scopes = [("chat_member", chat_id, user_id), ("chat", chat_id, None)]
        if admin:
            scopes += [("chat_administrators", chat_id, None), ("all_chat_administrators", None, None)]
        scopes += [("all_group_chats", None, None), ("default", None, None)]
    wanted = (language or "").split("-")[0].lower()
    codes = (wanted, "") if wanted else ("",)
    for kind, scope_chat, scope_user in scopes:
        for code in codes:
            for entry in stored:
                scope = entry.get("scope") or {}
                if (
                    scope.get("type") == kind
                    and (scope_chat is None or scope.get("chat_id") == scope_chat)
                    and (scope_user is None or scope.get("user_id") == scope_user)
                    and (entry.get("language_code") or "") == code
                    and entry.get("commands")
                ):
                    return list(entry["commands"])
    return []
