"""Every handler module's router, in the order updates should meet them."""

from __future__ import annotations

from aiogram import Router


def build_routers() -> list[Router]:
    from bot.handlers import start

    return [start.router]
