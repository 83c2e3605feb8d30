"""The bot's profile: its command lists by scope and language, description, name and menu button."""

from __future__ import annotations

import re

from ..errors import bad_request
from ..models import JSON
from .call import Call, Handler, method


def _scope(call: Call) -> JSON | None:
    scope = call.params.get_json("scope", "can't parse BotCommandScope JSON object")
    if scope is not None and (not isinstance(scope, dict) or "type" not in scope):
        raise bad_request("can't parse BotCommandScope JSON object")
    if scope is not None and scope["type"] in ("chat", "chat_administrators", "chat_member"):
        call.state.find_chat(scope.get("chat_id", ""))
    return scope


def _language(call: Call) -> str | None:
    code = call.params.get_str("language_code")
    if code and not re.fullmatch(r"[a-z]{2}", code):
        raise bad_request("invalid language code specified")
    return code or None


@method("setMyCommands")
async def set_my_commands(call: Call) -> bool:
    raw = call.params.get_json("commands", "can't parse commands JSON object")
    if not isinstance(raw, list):
        raise bad_request("can't parse commands JSON object")
    if len(raw) > 100:
        raise bad_request("too many commands specified")
    commands: list[JSON] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", "")).strip().lstrip("/")
        description = str(item.get("description", "")).strip()
        if not re.fullmatch(r"[a-z0-9_]{1,32}", command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request(
                "command description is empty" if not description else "BOT_COMMAND_DESCRIPTION_INVALID"
            )
        commands.append({"command": command, "description": description})
    call.state.set_commands(commands, _scope(call), _language(call))
    return True


@method("getMyCommands")
async def get_my_commands(call: Call) -> list[JSON]:
    return call.state.get_commands(_scope(call), _language(call))


@method("deleteMyCommands")
async def delete_my_commands(call: Call) -> bool:
    call.state.delete_commands(_scope(call), _language(call))
    return True


def _profile_setting(field: str, limit: int) -> tuple[Handler, Handler]:
    async def setter(call: Call) -> bool:
        value = call.params.get_str(field) or ""
        if len(value) > limit:
            raise bad_request(f"{field.replace('_', ' ')} is too long")
        call.state.bot_settings[f"{field}:{_language(call) or ''}"] = value
        return True

    async def getter(call: Call) -> JSON:
        return {field: call.state.bot_settings.get(f"{field}:{_language(call) or ''}", "")}

    return setter, getter


for _field, _limit, _set_name, _get_name in (
    ("description", 512, "setMyDescription", "getMyDescription"),
    ("short_description", 120, "setMyShortDescription", "getMyShortDescription"),
    ("name", 64, "setMyName", "getMyName"),
):
    _setter, _getter = _profile_setting(_field, _limit)
    method(_set_name)(_setter)
    method(_get_name)(_getter)


@method("setChatMenuButton")
async def set_chat_menu_button(call: Call) -> bool:
    button = call.params.get_json("menu_button") or {"type": "default"}
    call.state.bot_settings[f"menu:{call.params.get_str('chat_id') or ''}"] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(call: Call) -> JSON:
    key = f"menu:{call.params.get_str('chat_id') or ''}"
    return call.state.bot_settings.get(key, {"type": "commands"})
