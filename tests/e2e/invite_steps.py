"""Joining a department in the end-to-end tests: an admin issues an invite with /invite, the
new person opens it (people of examples/site.toml)."""

from __future__ import annotations

import re
from typing import Any

from tests.support.harness import Harness
from tests.support.people import SITE_ADMIN

JSON = dict[str, Any]
_LINK = re.compile(r"https://t\.me/[A-Za-z0-9_]+\?start=([A-Za-z0-9_-]+)")


def invite_code(message: JSON) -> str:
    """The code of the invite link in a bot message."""
    found = _LINK.search(message.get("text") or "")
    assert found is not None, message.get("text")
    return found.group(1)


async def issue_invite(h: Harness, department: str, admin: int = SITE_ADMIN) -> str:
    """``/invite <department>`` by an admin; the code of the link the bot answers with."""
    return invite_code(await h.ask(admin, f"/invite {department}", "?start="))


async def join_department(h: Harness, user_id: int, department: str, expect: str = "/book") -> JSON:
    """A person the site file does not list joins with a fresh invite; the bot's answer."""
    code = await issue_invite(h, department)
    return await h.ask(user_id, f"/start {code}", expect)
