"""The bot's command lists, one per scope and language, as setMyCommands leaves them."""

from __future__ import annotations

from .core import Core
from .models import JSON

CommandKey = tuple[str, str, str, str]


class Commands:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.clear()

    def clear(self) -> None:
        self.commands: dict[CommandKey, list[JSON]] = {}

    @staticmethod
    def command_key(scope: JSON | None, language_code: str | None) -> CommandKey:
        scope = scope or {"type": "default"}
        return (
            str(scope.get("type", "default")),
            str(scope.get("chat_id", "")),
            str(scope.get("user_id", "")),
            language_code or "",
        )

    def set_commands(self, commands: list[JSON], scope: JSON | None, language_code: str | None) -> None:
        key = self.command_key(scope, language_code)
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        self.core.events.publish("commands", None, scope=key[0], language_code=key[3])

    def get_commands(self, scope: JSON | None, language_code: str | None) -> list[JSON]:
        return list(self.commands.get(self.command_key(scope, language_code), []))

    def delete_commands(self, scope: JSON | None, language_code: str | None) -> None:
        key = self.command_key(scope, language_code)
        self.commands.pop(key, None)
        self.core.events.publish("commands", None, scope=key[0], language_code=key[3])

    def commands_record(self) -> list[JSON]:
        result = []
        for (kind, chat_id, user_id, language), commands in self.commands.items():
            scope: JSON = {"type": kind}
            if chat_id:
                scope["chat_id"] = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id
            if user_id:
                scope["user_id"] = int(user_id)
            result.append({"scope": scope, "language_code": language, "commands": commands})
        return result
