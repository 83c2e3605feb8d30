"""jionlp's time extractor alone, without the rest of jionlp.

Why. ``import jionlp`` runs a package ``__init__`` that imports every module jionlp has: its
tokenizer (jiojio), text augmentation, sentiment, summaries, keyphrases, and numpy with them.
In a bare interpreter that is about 44 MB and 1.5 s, the largest part of one instance's memory
after aiogram and SQLAlchemy (docs/benchmarks.md, Memory). The Chinese reader (``zh_time``)
calls one function of it, ``jionlp.ner.extract_time``, an instance of ``TimeExtractor`` from
``jionlp/algorithm/ner/time_extractor.py``. That module and what it imports (``jionlp.rule``,
``jionlp.util``, ``jionlp.dictionary``'s loaders by name, and four modules of ``jionlp.gadget``:
the time and money parsers, the lunar calendar) take about 18 MB and 0.4 s, and no numpy.

What ``time_extractor()`` does, once, under a lock:

1. if jionlp has already been imported in full by someone, its own ``ner.extract_time`` is used;
2. otherwise the four packages whose ``__init__`` imports everything (``jionlp``,
   ``jionlp.algorithm``, ``jionlp.algorithm.ner``, ``jionlp.gadget``) are put in
   ``sys.modules`` as packages found on jionlp's own path whose ``__init__`` is not run;
3. the top package is given the one name the time modules import from it, ``logging``: what
   jionlp's ``__init__`` binds there, the standard library's module (jionlp 1.5.31 comments
   out its own logger);
4. ``jionlp.algorithm.ner.time_extractor`` is imported, and one ``TimeExtractor`` made;
5. every ``jionlp`` module is taken out of ``sys.modules`` again, so that a later ``import
   jionlp`` anywhere imports the whole library as usual. The extractor keeps the modules it
   was built from (its functions import nothing when called).

jionlp's ``__init__`` also unzips dictionary files on its first import; the time path reads
none of them.

NOT PUBLIC API, all in this module and nowhere else: it depends on jionlp's module layout and
on what its ``__init__`` binds. ``tests/unit/test_jionlp_time.py`` fails when the installed
jionlp no longer behaves as this expects: in a fresh interpreter it reads every Chinese text
of the understanding cases with this extractor and with ``jionlp.ner.extract_time`` from a full
import and compares them, and checks that neither numpy nor a ``jionlp`` module is left in
``sys.modules``. pyproject.toml pins the range it was tested with. The lasting fix belongs in
jionlp: an ``__init__`` that imports its modules on first use (a module ``__getattr__``,
PEP 562).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import logging
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

# packages whose __init__ imports all of jionlp (numpy included); the time modules need none
# of what they bind except the top package's ``logging``
_WHOLE_LIBRARY_PACKAGES = ("jionlp", "jionlp.algorithm", "jionlp.algorithm.ner", "jionlp.gadget")
_TIME_EXTRACTOR_MODULE = "jionlp.algorithm.ner.time_extractor"

_extractor: Any = None
_lock = threading.Lock()


def time_extractor() -> Any:
    """jionlp's ``extract_time`` (``text, time_base=…, with_parsing=True`` → entities), loaded
    once. Loading prints a banner line to stdout: what the loading thread prints is dropped for
    that moment, what other threads print goes through (start loads it in a thread while the
    bot runs); stderr, where logging writes, is left alone."""
    global _extractor
    if _extractor is None:
        with _lock:
            if _extractor is None:
                with contextlib.redirect_stdout(_QuietThread(sys.stdout)):
                    _extractor = _load()
    return _extractor


def loaded() -> bool:
    """Whether the extractor has been loaded in this process (it is never unloaded)."""
    return _extractor is not None


def _load() -> Any:
    whole = sys.modules.get("jionlp")
    if whole is not None and hasattr(whole, "ner"):  # imported in full elsewhere
        return whole.ner.extract_time
    spec = importlib.util.find_spec("jionlp")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("jionlp is not installed", name="jionlp")
    root = Path(next(iter(spec.submodule_search_locations)))
    try:
        for name in _WHOLE_LIBRARY_PACKAGES:
            sys.modules[name] = _package_without_init(name, root)
        vars(sys.modules["jionlp"])["logging"] = logging  # what jionlp's __init__ binds there
        module = importlib.import_module(_TIME_EXTRACTOR_MODULE)
        return module.TimeExtractor()
    finally:
        for name in [name for name in sys.modules if name == "jionlp" or name.startswith("jionlp.")]:
            del sys.modules[name]


class _QuietThread(io.TextIOBase):
    """A stdout that drops what this thread writes and passes on what the others write."""

    def __init__(self, stream: Any) -> None:
        self._stream, self._thread = stream, threading.get_ident()

    def write(self, text: str) -> int:
        if threading.get_ident() == self._thread or self._stream is None:
            return len(text)
        return int(self._stream.write(text))

    def flush(self) -> None:
        if self._stream is not None:
            self._stream.flush()


def _package_without_init(name: str, root: Path) -> ModuleType:
    """The package ``name`` of jionlp, its submodules importable, its ``__init__`` not run."""
    directory = root.joinpath(*name.split(".")[1:])
    spec = importlib.util.spec_from_file_location(
        name, directory / "__init__.py", submodule_search_locations=[str(directory)]
    )
    if spec is None:
        raise ModuleNotFoundError(f"no package {name} in {root}", name=name)
    return importlib.util.module_from_spec(spec)
