"""Who exists and who belongs where: users, chats, group memberships, the bot's own membership
and the group privacy in force for it, and the Bot API's views of all of these.

A change to the bot's membership is an update the bot is told about (``my_chat_member``), so the
directory pushes those into the update queue itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from .core import Core, History
from .errors import CHAT_NOT_FOUND, ControlError, bad_request, forbidden
from .models import JSON, BotStatus, Chat, ChatType, MemberStatus, User, chat_member
from .updates import Updates


class Directory:
    def __init__(self, core: Core, updates: Updates, history: History) -> None:
        self.core = core
        self.updates = updates
        self.history = history
        self.clear()

    def clear(self) -> None:
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}

    def get_me(self) -> JSON:
        return {
            **self.core.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.core.config.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # ----------------------------------------------------------------- users

    def upsert_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_premium: bool | None = None,
        started: bool | None = None,
    ) -> User:
        if user_id <= 0:
            raise ControlError(400, "user id must be a positive integer")
        if user_id == self.core.bot_id:
            raise ControlError(400, "user id collides with the bot's id")
        user = self.users.get(user_id)
        if user is None:
            if not first_name:
                raise ControlError(400, "first_name is required for a new user")
            user = self.users[user_id] = User(id=user_id, first_name=first_name)
            self.chats[user_id] = Chat(id=user_id, type="private")
        elif first_name:
            user.first_name = first_name
        if last_name is not None:
            user.last_name = last_name or None
        if username is not None:
            user.username = username.lstrip("@") or None
        if language_code is not None:
            user.language_code = language_code or None
        if is_premium is not None:
            user.is_premium = is_premium
        if started is not None:
            user.started = started
        self.core.events.publish("user", user_id, user=user.to_record())
        return user

    def user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise ControlError(404, f"user {user_id} not found")
        return user

    def set_blocked(self, user_id: int, blocked: bool = True) -> User:
        """The user blocks (or unblocks) the bot; the bot gets a my_chat_member update."""
        user = self.user(user_id)
        if user.blocked_bot != blocked:
            user.blocked_bot = blocked
            old, new = ("member", "kicked") if blocked else ("kicked", "member")
            self._my_chat_member(self.chats[user_id], user, old, new)
        self.core.events.publish("user", user_id, user=user.to_record())
        return user

    def set_deactivated(self, user_id: int, deactivated: bool = True) -> User:
        user = self.user(user_id)
        user.deactivated = deactivated
        self.core.events.publish("user", user_id, user=user.to_record())
        return user

    # ----------------------------------------------------------------- chats and memberships

    def chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ControlError(404, f"chat {chat_id} not found")
        return chat

    def create_group(
        self,
        chat_id: int,
        title: str,
        *,
        chat_type: ChatType = "group",
        username: str | None = None,
        members: Iterable[int] = (),
        admins: Iterable[int] = (),
        owner_id: int | None = None,
        bot_status: BotStatus = "member",
        announce: bool = False,
    ) -> Chat:
        if chat_id >= 0:
            raise ControlError(400, "group chat ids are negative")
        if chat_type not in ("group", "supergroup"):
            raise ControlError(400, "type must be 'group' or 'supergroup'")
        if bot_status not in ("member", "administrator", "left", "kicked"):
            raise ControlError(400, "bot_status must be member, administrator, left or kicked")
        chat = self.chats.get(chat_id)
        created = chat is None
        if chat is None:
            chat = self.chats[chat_id] = Chat(id=chat_id, type=chat_type, title=title)
        chat.type = chat_type
        chat.title = title
        chat.username = username.lstrip("@") if username else None
        for user_id in members:
            self.user(user_id)
            chat.members.setdefault(user_id, "member")
        for user_id in admins:
            self.user(user_id)
            chat.members[user_id] = "administrator"
        if owner_id is not None:
            self.user(owner_id)
            chat.members[owner_id] = "creator"
        old_status = chat.bot_status
        chat.bot_status = bot_status
        self._bot_membership_changed(chat, "left" if created else old_status)
        self.core.events.publish("chat", chat_id, chat=self.chat_record(chat))
        if announce and old_status != bot_status:
            self._my_chat_member(chat, self._actor(chat), "left", bot_status)
        return chat

    def set_member(self, chat_id: int, user_id: int, status: MemberStatus | None) -> Chat:
        chat = self.chat(chat_id)
        if not chat.is_group:
            raise ControlError(400, "members can only be changed in groups")
        self.user(user_id)
        if status is None:
            chat.members.pop(user_id, None)
        elif status not in ("creator", "administrator", "member"):
            raise ControlError(400, "status must be creator, administrator or member")
        else:
            chat.members[user_id] = status
        self.core.events.publish("chat", chat_id, chat=self.chat_record(chat))
        return chat

    def set_bot_status(
        self,
        chat_id: int,
        status: BotStatus,
        *,
        by_user_id: int | None = None,
        by_bot: bool = False,
    ) -> Chat:
        """Add, promote, remove or kick the bot; the bot gets a my_chat_member update."""
        chat = self.chat(chat_id)
        if not chat.is_group:
            raise ControlError(400, "the bot's membership can only be changed in groups")
        if status not in ("member", "administrator", "left", "kicked"):
            raise ControlError(400, "status must be member, administrator, left or kicked")
        old = chat.bot_status
        chat.bot_status = status
        self._bot_membership_changed(chat, old)
        self.core.events.publish("chat", chat_id, chat=self.chat_record(chat))
        if old != status:
            actor = None
            if not by_bot:
                actor = self.user(by_user_id) if by_user_id is not None else self._actor(chat)
            self._my_chat_member(chat, actor, old, status)
        return chat

    def _bot_membership_changed(self, chat: Chat, old: str) -> None:
        """Joining fixes the group privacy in force for the bot there (see Chat.bot_privacy)."""
        was_in = old in ("member", "administrator")
        is_in = chat.bot_status in ("member", "administrator")
        if is_in and not was_in:
            chat.bot_privacy = self.core.config.privacy_mode
        elif not is_in:
            chat.bot_privacy = None

    def bot_reads_all(self, chat: Chat) -> bool:
        """Whether the bot receives every message of this group (not only what privacy mode
        lets through): as an admin, or with privacy mode off when it joined."""
        if chat.bot_status == "administrator":
            return True
        privacy = self.core.config.privacy_mode if chat.bot_privacy is None else chat.bot_privacy
        return not privacy

    def _actor(self, chat: Chat) -> User | None:
        for wanted in ("creator", "administrator", "member"):
            for user_id, status in chat.members.items():
                if status == wanted and user_id in self.users:
                    return self.users[user_id]
        return None

    def _my_chat_member(self, chat: Chat, actor: User | None, old: str, new: str) -> None:
        bot_user = self.core.bot_user
        payload = {
            "chat": self.chat_api(chat),
            "from": actor.to_api() if actor else bot_user,
            "date": self.core.now(),
            "old_chat_member": chat_member(old, bot_user),
            "new_chat_member": chat_member(new, bot_user),
        }
        self.updates.push("my_chat_member", payload)

    # ----------------------------------------------------------------- the bot's view

    def find_chat(self, ref: int | str) -> Chat:
        """Resolve a Bot API ``chat_id`` (number or @username)."""
        chat: Chat | None = None
        if isinstance(ref, int):
            chat = self.chats.get(ref)
        else:
            name = ref.lstrip("@").lower()
            chat = next(
                (c for c in self.chats.values() if c.username and c.username.lower() == name),
                None,
            )
        if chat is None:
            raise bad_request(CHAT_NOT_FOUND)
        if chat.is_group and chat.bot_status in ("left", "kicked"):
            raise self._not_member_error(chat)
        return chat

    def _not_member_error(self, chat: Chat) -> Exception:
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        if chat.bot_status == "kicked":
            return forbidden(f"bot was kicked from the {kind}")
        return forbidden(f"bot is not a member of the {kind}")

    def chat_for_send(self, ref: int | str) -> Chat:
        chat = self.find_chat(ref)
        if chat.type == "private":
            user = self.users[chat.id]
            if user.deactivated:
                raise forbidden("user is deactivated")
            if user.blocked_bot:
                raise forbidden("bot was blocked by the user")
            if self.core.config.require_start and not user.started:
                raise forbidden("bot can't initiate conversation with a user")
        return chat

    def chat_api(self, chat: Chat) -> JSON:
        if chat.type == "private":
            user = self.users[chat.id]
            data: JSON = {"id": chat.id, "first_name": user.first_name}
            if user.last_name:
                data["last_name"] = user.last_name
            if user.username:
                data["username"] = user.username
            data["type"] = "private"
            return data
        data = {"id": chat.id, "title": chat.title or "", "type": chat.type}
        if chat.username:
            data["username"] = chat.username
        return data

    def member_of(self, chat: Chat, user_id: int) -> JSON:
        if user_id == self.core.bot_id:
            status = chat.bot_status if chat.is_group else "member"
            return chat_member(status, self.core.bot_user)
        user = self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if chat.type == "private":
            return chat_member("member" if user_id == chat.id else "left", user.to_api())
        return chat_member(chat.members.get(user_id, "left"), user.to_api())

    def administrators(self, chat: Chat) -> list[JSON]:
        result = [
            chat_member(status, self.users[user_id].to_api())
            for user_id, status in chat.members.items()
            if status in ("creator", "administrator") and user_id in self.users
        ]
        result.sort(key=lambda m: m["status"] != "creator")
        if chat.bot_status == "administrator":
            result.append(chat_member("administrator", self.core.bot_user))
        return result

    # ----------------------------------------------------------------- the control API's view

    def user_record(self, user: User) -> JSON:
        return user.to_record()

    def chat_record(self, chat: Chat) -> JSON:
        return {
            **self.chat_api(chat),
            "bot_status": chat.bot_status if chat.is_group else "member",
            "bot_reads_all": self.bot_reads_all(chat) if chat.is_group else True,
            "members": {str(uid): status for uid, status in chat.members.items()},
            "last_action": chat.last_action,
            "message_count": self.history.count(chat.id),
        }
