"""Memory freed by the reader's warm-up goes back to the system where glibc can give it."""

from __future__ import annotations

import sys

import pytest

from bot.ops import memory


def test_glibc_gives_freed_memory_back() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("malloc_trim is glibc's")
    freed = [bytearray(256 * 1024) for _ in range(64)]  # 16 MB of malloc's own blocks
    del freed
    assert memory._malloc_trim() is not None
    assert isinstance(memory.give_back_free_memory(), bool)


def test_without_glibc_nothing_is_called_and_nothing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(sys, "platform", "darwin")
    try:
        assert memory._malloc_trim() is None
        assert memory.give_back_free_memory() is False
    finally:
        memory._malloc_trim.cache_clear()
