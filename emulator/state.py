"""Everything the emulator knows: users, chats, messages, files, updates, commands and counters.

Both the Bot API routes and the control API work through this object; Python code running in
the same process (tests, a sandbox) can use it directly as ``server.state``. It is a façade:
the knowledge lives in parts, one module each, that share a :class:`~emulator.core.Core`
(configuration, clocks, events, ids, the bot's identity):

- :mod:`emulator.directory`: users, chats, memberships, group privacy;
- :mod:`emulator.messages`: the history, the bot's sends, edits, deletions and pins;
- :mod:`emulator.files`: uploaded photos and documents;
- :mod:`emulator.updates`: the update queue behind long polling and webhooks;
- :mod:`emulator.actions`: what the emulated people do (write, edit, press buttons);
- :mod:`emulator.commands`: the bot's command lists.

The façade's methods are the parts' own bound methods, so their signatures cannot drift.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .actions import UserActions
from .commands import CommandKey, Commands
from .config import EmulatorConfig
from .core import DEFAULT_BOT_ID, Core, History, Stats
from .directory import Directory
from .events import EventBus, Notifier
from .faults import FaultInjector
from .files import Files
from .messages import Messages
from .models import JSON, CallbackQueryRecord, Chat, StoredFile, StoredMessage, User
from .ratelimit import RateLimiter
from .updates import UPDATE_TYPES, Updates

__all__ = ["DEFAULT_BOT_ID", "UPDATE_TYPES", "CommandKey", "EmulatorState", "Stats"]


class EmulatorState:
    def __init__(
        self,
        config: EmulatorConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.core = core = Core(config or EmulatorConfig(), clock, wall_clock)
        self.history = History()
        self.updates = Updates(core)
        self.directory = Directory(core, self.updates, self.history)
        self.messaging = Messages(core, self.directory, self.history)
        self.file_store = Files(core)
        self.actions = UserActions(core, self.directory, self.messaging, self.file_store, self.updates)
        self.bot_commands = Commands(core)
        self.limiter = RateLimiter(core.config.rate_limits, clock)
        self.faults = FaultInjector()

        self.now = core.now
        # the directory
        self.get_me = self.directory.get_me
        self.upsert_user = self.directory.upsert_user
        self.user = self.directory.user
        self.chat = self.directory.chat
        self.set_blocked = self.directory.set_blocked
        self.set_deactivated = self.directory.set_deactivated
        self.create_group = self.directory.create_group
        self.set_member = self.directory.set_member
        self.set_bot_status = self.directory.set_bot_status
        self.bot_reads_all = self.directory.bot_reads_all
        self.find_chat = self.directory.find_chat
        self.chat_for_send = self.directory.chat_for_send
        self.chat_api = self.directory.chat_api
        self.member_of = self.directory.member_of
        self.administrators = self.directory.administrators
        self.user_record = self.directory.user_record
        self.chat_record = self.directory.chat_record
        # the messages
        self.get_message = self.messaging.get_message
        self.chat_messages = self.messaging.chat_messages
        self.message_api = self.messaging.message_api
        self.message_record = self.messaging.message_record
        self.chat_full_info = self.messaging.chat_full_info
        self.send_bot_message = self.messaging.send_bot_message
        self.edit_message = self.messaging.edit_message
        self.delete_message = self.messaging.delete_message
        self.record_chat_action = self.messaging.record_chat_action
        self.pin_message = self.messaging.pin_message
        # the files
        self.store_photo = self.file_store.store_photo
        self.store_document = self.file_store.store_document
        self.file_by_path = self.file_store.file_by_path
        # the updates
        self.push_update = self.updates.push
        self.confirm_updates = self.updates.confirm
        self.available_updates = self.updates.available
        self.webhook_updates = self.updates.for_webhook
        self.drop_update = self.updates.drop
        # the users acting
        self.inject_message = self.actions.inject_message
        self.edit_user_message = self.actions.edit_user_message
        self.press_button = self.actions.press_button
        self.find_button = self.actions.find_button
        self.current_reply_keyboard = self.actions.current_reply_keyboard
        self.press_button_by_text = self.actions.press_button_by_text
        self.answer_callback = self.actions.answer_callback
        # the commands
        self.command_key = self.bot_commands.command_key
        self.set_commands = self.bot_commands.set_commands
        self.get_commands = self.bot_commands.get_commands
        self.delete_commands = self.bot_commands.delete_commands
        self.commands_record = self.bot_commands.commands_record

    def reset(self) -> None:
        """Forget everything except the configuration (ids keep increasing)."""
        for part in (
            self.core,
            self.history,
            self.updates,
            self.directory,
            self.file_store,
            self.actions,
            self.bot_commands,
        ):
            part.clear()
        self.limiter.reset()
        self.faults.clear()
        self.events.publish("reset", None)
        self.updates_changed.notify()

    # ----------------------------------------------------------------- shared context

    @property
    def config(self) -> EmulatorConfig:
        return self.core.config

    @property
    def clock(self) -> Callable[[], float]:
        return self.core.clock

    @property
    def wall_clock(self) -> Callable[[], float]:
        return self.core.wall_clock

    @property
    def events(self) -> EventBus:
        return self.core.events

    @property
    def updates_changed(self) -> Notifier:
        return self.core.updates_changed

    @property
    def bot_id(self) -> int:
        return self.core.bot_id

    @bot_id.setter
    def bot_id(self, value: int) -> None:
        # The Bot API learns it from each call's token.
        self.core.bot_id = value

    @property
    def bot_user(self) -> JSON:
        return self.core.bot_user

    @property
    def bot_settings(self) -> JSON:
        return self.core.bot_settings

    @property
    def stats(self) -> Stats:
        return self.core.stats

    # ----------------------------------------------------------------- the parts' records

    @property
    def users(self) -> dict[int, User]:
        return self.directory.users

    @property
    def chats(self) -> dict[int, Chat]:
        return self.directory.chats

    @property
    def messages(self) -> dict[int, dict[int, StoredMessage]]:
        return self.history.by_chat

    @property
    def files(self) -> dict[str, StoredFile]:
        return self.file_store.files

    @property
    def photo_groups(self) -> dict[str, list[JSON]]:
        return self.file_store.photo_groups

    @property
    def documents(self) -> dict[str, JSON]:
        return self.file_store.documents

    @property
    def callbacks(self) -> dict[str, CallbackQueryRecord]:
        return self.actions.callbacks

    @property
    def commands(self) -> dict[CommandKey, list[JSON]]:
        return self.bot_commands.commands

    # The update queue's settings are replaced whole by getUpdates, setWebhook and deleteWebhook.

    @property
    def pending_updates(self) -> list[JSON]:
        return self.updates.pending

    @pending_updates.setter
    def pending_updates(self, value: list[JSON]) -> None:
        self.updates.pending = value

    @property
    def allowed_updates(self) -> list[str] | None:
        return self.updates.allowed_updates

    @allowed_updates.setter
    def allowed_updates(self, value: list[str] | None) -> None:
        self.updates.allowed_updates = value

    @property
    def webhook(self) -> JSON:
        return self.updates.webhook

    @webhook.setter
    def webhook(self, value: JSON) -> None:
        self.updates.webhook = value

    @property
    def active_poll(self) -> Any:
        return self.updates.active_poll

    @active_poll.setter
    def active_poll(self, value: Any) -> None:
        self.updates.active_poll = value
