"""The Bot API itself, one module per topic (``messages``, ``files``, ``updates``, ``profile``,
``chats``) over the registry of methods (``call``); ``endpoint`` serves them over HTTP.

``STATE_KEY`` and ``setup_routes`` are what the server and the control API use.
"""

from .call import STATE_KEY
from .endpoint import setup_routes

__all__ = ["STATE_KEY", "setup_routes"]
