"""Giving back to the system the memory that loading the one-sentence reader used and freed.

Importing jionlp and dateparser and reading a first phrase (the warm-up at start) allocates
far more than they keep. CPython returns its own small-object arenas when they empty, but the
larger blocks come from glibc's malloc, which keeps what is freed for later use instead of
returning it: about 4 MB of the bot's RSS after start with the reader warmed (docs/benchmarks.md,
section Memory). ``malloc_trim`` returns it. Elsewhere (macOS, musl) there is nothing to call:
Python's garbage is still collected, and the rest is left to that allocator.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import logging
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # no glibc (musl, a static build)
        log.debug("no glibc malloc_trim: freed memory is left to the allocator")
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def give_back_free_memory() -> bool:
    """Collect Python's garbage (about 0.1 s), then hand malloc's free pages back to the
    system: once, after work that allocated much and keeps little. True if some went back."""
    gc.collect()
    trim = _malloc_trim()
    return trim is not None and trim(0) == 1
