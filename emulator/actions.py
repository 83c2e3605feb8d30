"""What the emulated people do: write (text, photos, documents, replies), edit what they wrote,
press inline buttons or reply-keyboard buttons; and the bot's answers to their button presses.

Each action becomes an update when the bot would see it: always in a private chat, in a group
only what the group privacy in force lets through.
"""

from __future__ import annotations

from .core import Core
from .directory import Directory
from .errors import QUERY_TOO_OLD, ControlError, bad_request
from .files import Files
from .formatting import auto_entities, entity_text, validate_entities
from .messages import Messages
from .models import JSON, CallbackQueryRecord, Chat, StoredMessage
from .updates import Updates


class UserActions:
    def __init__(
        self, core: Core, directory: Directory, messages: Messages, files: Files, updates: Updates
    ) -> None:
        self.core = core
        self.directory = directory
        self.messages = messages
        self.files = files
        self.updates = updates
        self.clear()

    def clear(self) -> None:
        self.callbacks: dict[str, CallbackQueryRecord] = {}

    # ----------------------------------------------------------------- writing

    def inject_message(
        self,
        chat_id: int,
        user_id: int,
        *,
        text: str | None = None,
        entities: list[JSON] | None = None,
        reply_to_message_id: int | None = None,
        photo: bytes | None = None,
        caption: str | None = None,
        document: bytes | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredMessage:
        """A user writes into a chat; returns the stored message (``update_id`` None if hidden)."""
        chat = self.directory.chat(chat_id)
        user = self.directory.user(user_id)
        if chat.type == "private" and chat.id != user.id:
            raise ControlError(400, "a private chat's id is its user's id")
        if chat.is_group and user_id not in chat.members:
            raise ControlError(400, f"user {user_id} is not a member of chat {chat_id}")
        if text is None and photo is None and document is None:
            raise ControlError(400, "a message needs text, a photo or a document")
        if text is not None and (photo is not None or document is not None):
            raise ControlError(400, "media messages take a caption, not text")
        if text is not None and not text.strip():
            raise ControlError(400, "message text is empty")
        if text is not None and len(text) > 4096:
            raise ControlError(400, "message text is longer than 4096 characters")
        if reply_to_message_id is not None:
            target = self.messages.get_message(chat_id, reply_to_message_id)
            if target is None or target.deleted:
                raise ControlError(404, f"message {reply_to_message_id} not found in {chat_id}")
        if chat.type == "private":
            if user.blocked_bot:
                self.directory.set_blocked(user_id, False)
            user.started = True

        message = StoredMessage(
            chat_id=chat_id,
            message_id=chat.take_message_id(),
            sender_id=user_id,
            from_bot=False,
            date=self.core.now(),
            reply_to_message_id=reply_to_message_id,
        )
        if text is not None:
            message.text = text
            message.entities = self._user_entities(text, entities)
        if photo is not None:
            message.photo = self.files.store_photo(photo)
        if document is not None:
            message.document = self.files.store_document(document, file_name, mime_type)
        if caption:
            message.caption = caption
            message.caption_entities = self._user_entities(caption, entities)
        # The update id is the message's before it is stored, so the stored message's event
        # already names the update the bot will get.
        if self._bot_sees(chat, message):
            message.update_id = self.updates.reserve_id()
        self.messages.store(message)
        if message.update_id is not None:
            self.updates.enqueue(message.update_id, "message", self.messages.message_api(message))
        return message

    def edit_user_message(
        self, chat_id: int, message_id: int, text: str, entities: list[JSON] | None = None
    ) -> StoredMessage:
        message = self.messages.get_message(chat_id, message_id)
        if message is None or message.deleted or message.from_bot:
            raise ControlError(404, f"user message {message_id} not found in {chat_id}")
        if message.text is None:
            message.caption = text
            message.caption_entities = self._user_entities(text, entities)
        else:
            message.text = text
            message.entities = self._user_entities(text, entities)
        message.edit_date = self.core.now()
        message.edit_count += 1
        self.messages.changed(message, "edit")
        chat = self.directory.chats[chat_id]
        if self._bot_sees(chat, message):
            self.updates.push("edited_message", self.messages.message_api(message))
        return message

    def _user_entities(self, text: str, entities: list[JSON] | None) -> list[JSON]:
        if entities is None:
            return auto_entities(text, [])
        try:
            return self.messages.fill_mentions(validate_entities(text, entities))
        except ValueError as exc:
            raise ControlError(400, str(exc)) from exc

    def _bot_sees(self, chat: Chat, message: StoredMessage) -> bool:
        if not chat.is_group:
            return True
        if chat.bot_status in ("left", "kicked"):
            return False
        if self.directory.bot_reads_all(chat):
            return True
        body = message.text if message.text is not None else message.caption or ""
        entities = message.entities if message.text is not None else message.caption_entities
        username = self.core.config.bot_username.lower()
        for entity in entities:
            value = entity_text(body, entity)
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                _, _, addressee = value.partition("@")
                if not addressee or addressee.lower() == username:
                    return True
            if entity["type"] == "mention" and value[1:].lower() == username:
                return True
            if entity["type"] == "text_mention" and entity.get("user", {}).get("id") == self.core.bot_id:
                return True
        if message.reply_to_message_id is not None:
            replied = self.messages.get_message(chat.id, message.reply_to_message_id)
            if replied is not None and replied.from_bot:
                return True
        return False

    # ----------------------------------------------------------------- buttons

    def press_button(
        self, user_id: int, chat_id: int, message_id: int, data: str, *, forge: bool = False
    ) -> CallbackQueryRecord:
        user = self.directory.user(user_id)
        chat = self.directory.chat(chat_id)
        if chat.type == "private" and chat_id != user_id:
            raise ControlError(400, "only the chat's own user can press buttons in a private chat")
        message = self.messages.get_message(chat_id, message_id)
        if message is None or message.deleted:
            raise ControlError(404, f"message {message_id} not found in chat {chat_id}")
        if not forge and not any(b.get("callback_data") == data for b in message.buttons()):
            raise ControlError(400, f"message {message_id} has no button with callback_data {data!r}")
        query_id = str(int(f"{abs(chat_id) % 100000:05d}{self.core.next_id():09d}") + 10**17)
        payload = {
            "id": query_id,
            "from": user.to_api(),
            "message": self.messages.message_api(message),
            "chat_instance": chat.chat_instance,
            "data": data,
        }
        update_id = self.updates.push("callback_query", payload)
        record = CallbackQueryRecord(
            id=query_id,
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            data=data,
            created_at=self.core.clock(),
            update_id=update_id,
        )
        self.callbacks[query_id] = record
        self.core.events.publish("callback_query", chat_id, callback_query=record.to_record())
        return record

    def find_button(
        self, chat_id: int, text: str, *, exact: bool = False
    ) -> tuple[StoredMessage, JSON] | None:
        """The newest live message of the chat with a callback button whose text matches."""
        self.directory.chat(chat_id)
        for message in reversed(self.messages.chat_messages(chat_id)):
            if message.deleted or not message.from_bot:
                continue
            for button in message.buttons():
                label = button.get("text", "")
                if "callback_data" in button and (label == text if exact else text in label):
                    return message, button
        return None

    def current_reply_keyboard(self, chat_id: int) -> JSON | None:
        for message in reversed(self.messages.chat_messages(chat_id)):
            markup = message.reply_markup
            if not message.from_bot or not markup or "inline_keyboard" in markup:
                continue
            if "keyboard" in markup:
                return markup
            if markup.get("remove_keyboard"):
                return None
        return None

    def press_button_by_text(self, user_id: int, chat_id: int, text: str, *, exact: bool = False) -> JSON:
        """Press an inline button by its label, or else send a reply-keyboard button's text."""
        found = self.find_button(chat_id, text, exact=exact)
        if found is not None:
            message, button = found
            record = self.press_button(user_id, chat_id, message.message_id, button["callback_data"])
            return {"kind": "callback_query", **record.to_record(), "button": button}
        keyboard = self.current_reply_keyboard(chat_id)
        if keyboard is not None:
            for row in keyboard["keyboard"]:
                for button in row:
                    label = button["text"]
                    if label == text if exact else text in label:
                        sent = self.inject_message(chat_id, user_id, text=label)
                        return {
                            "kind": "reply_keyboard",
                            "message_id": sent.message_id,
                            "update_id": sent.update_id,
                            "chat_id": chat_id,
                            "user_id": user_id,
                            "data": None,
                            "button": button,
                        }
        raise ControlError(404, f"no button matching {text!r} in chat {chat_id}")

    def answer_callback(
        self,
        query_id: str,
        *,
        text: str | None = None,
        show_alert: bool = False,
        url: str | None = None,
        cache_time: int | None = None,
    ) -> None:
        record = self.callbacks.get(query_id)
        if record is None or record.answered:
            raise bad_request(QUERY_TOO_OLD)
        timeout = self.core.config.callback_answer_timeout
        if timeout is not None and self.core.clock() - record.created_at > timeout:
            raise bad_request(QUERY_TOO_OLD)
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.text = text
        record.show_alert = show_alert
        record.url = url
        record.cache_time = cache_time
        record.answered_at = self.core.clock()
        self.core.events.publish("callback_answer", record.chat_id, callback_query=record.to_record())
