"""aiogram's Telegram models build their pydantic validators on first use, not at import.

Why. ``import aiogram`` builds a pydantic-core validator and serializer for each of its ~400
Telegram types and ~190 Bot API methods: about 100 MB of one instance's memory (aiogram issue
#1513), though the bot validates a few dozen of them. pydantic's own ``defer_build`` config
builds a model on its first validation or serialization instead, and aiogram's types even
ask for it, but two things undo it:

- ``aiogram/types/__init__.py`` calls ``model_rebuild(_types_namespace=…)`` on every type, to
  resolve the annotations each type module imports only for type checkers (``Update`` names
  ``Message``, which ``update.py`` imports under ``if TYPE_CHECKING``). ``model_rebuild``
  always builds;
- ``TelegramMethod`` (``aiogram/methods/base.py``) has no ``defer_build``, so every method
  builds when its class is defined.

What ``install()`` does, from an import hook (``importlib``'s meta path) that runs a step right
after each of three aiogram modules has been executed:

1. after ``aiogram.types.base``: ``TelegramObject.model_rebuild`` is replaced by one that keeps
   the namespace aiogram passes and builds nothing;
2. after ``aiogram.types``: the replacement is removed again, and every name of that namespace
   a type module lacks is added to the module. pydantic then resolves a type's annotations on
   first use by its ordinary rules (the module's globals first, then that namespace), which
   is what aiogram's rebuild would have found;
3. after ``aiogram.methods.base``: ``defer_build=True`` is added to ``TelegramMethod``'s
   ``model_config`` before the first method class inherits it.

Afterwards aiogram's classes carry no patch: what remains is pydantic's public ``defer_build``
(each model is built, once, when first validated or serialized) and the names added in step 2.

NOT PUBLIC API, all in this module and nowhere else: step 1 replaces a classmethod of an
aiogram class for the duration of one import and reads the ``_types_namespace`` keyword
aiogram passes to ``model_rebuild`` (a pydantic parameter with a leading underscore); step 2
writes names into aiogram's modules; the hook depends on aiogram's module layout. Nothing of
pydantic's private modules or attributes is touched. ``tests/unit/test_lazy_models.py`` fails
when the installed aiogram or pydantic no longer behave as this expects (a model this should
defer is built at import, or a payload validates or serializes differently from an eager
build), and pyproject.toml pins the range it was tested with. The lasting fix belongs in
aiogram: ``defer_build=True`` on ``TelegramMethod`` and no eager ``model_rebuild`` loop.

``install()`` must run before anything imports aiogram: ``bot/__init__.py`` calls it, so every
entry point (``huiwu``, ``python -m bot``, the tests, the benchmarks) gets it. When aiogram was
imported first it does nothing and ``deferred()`` stays False: the bot works as before, with
the memory of eager models.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

_TYPES_BASE = "aiogram.types.base"
_TYPES = "aiogram.types"
_METHODS_BASE = "aiogram.methods.base"

# the namespace aiogram.types hands to model_rebuild, kept by step 1 for step 2
_types_namespace: dict[str, Any] = {}
_steps_done: set[str] = set()


def install() -> bool:
    """Defer the build of aiogram's models from now on; False when aiogram came first."""
    if _TYPES in sys.modules or _METHODS_BASE in sys.modules:
        return _steps_done == set(_STEPS)
    if not any(isinstance(finder, _AfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport())
    return True


def deferred() -> bool:
    """Whether aiogram was imported in this process with its models deferred (all steps ran)."""
    return _steps_done == set(_STEPS)


# --- the three steps ------------------------------------------------------------------------


def _hold_rebuilds(module: ModuleType) -> None:
    """Step 1, after aiogram.types.base: aiogram's rebuild loop keeps its namespace, builds nothing."""
    telegram_object: type[Any] = module.TelegramObject

    def model_rebuild(cls: type[Any], **options: Any) -> bool | None:
        namespace = options.get("_types_namespace")
        if namespace is not None and not options.get("force"):
            _types_namespace.update(namespace)
            return None  # "nothing to rebuild": pydantic builds the model on first use
        # anything else is not aiogram's loop: pydantic's own, one frame further down
        options["_parent_namespace_depth"] = options.get("_parent_namespace_depth", 2) + 1
        return super(telegram_object, cls).model_rebuild(**options)  # type: ignore[no-any-return]

    telegram_object.model_rebuild = classmethod(model_rebuild)


def _release_rebuilds(module: ModuleType) -> None:
    """Step 2, after aiogram.types: the patch goes; each type module gets the names it lacks."""
    telegram_object = sys.modules[_TYPES_BASE].TelegramObject
    if "model_rebuild" in vars(telegram_object):
        del telegram_object.model_rebuild
    for name, type_module in list(sys.modules.items()):
        if name.startswith(_TYPES + ".") and type_module is not None:
            names = vars(type_module)
            for key, value in _types_namespace.items():
                names.setdefault(key, value)


def _defer_methods(module: ModuleType) -> None:
    """Step 3, after aiogram.methods.base: every method class defined from now on is deferred."""
    module.TelegramMethod.model_config["defer_build"] = True


_STEPS: dict[str, Callable[[ModuleType], None]] = {
    _TYPES_BASE: _hold_rebuilds,
    _TYPES: _release_rebuilds,
    _METHODS_BASE: _defer_methods,
}


# --- the import hook --------------------------------------------------------------------------


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds the three modules through the other finders and runs a step after each one."""

    def __init__(self) -> None:
        self._finding = threading.local()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        step = _STEPS.get(fullname)
        if step is None or fullname in _steps_done or getattr(self._finding, "name", None) == fullname:
            return None
        self._finding.name = fullname  # another finder that asks the meta path gets None here
        try:
            spec = _find_elsewhere(self, fullname, path, target)
        finally:
            self._finding.name = None
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _ThenStep(spec.loader, fullname, step)
        return spec


def _find_elsewhere(
    finder: _AfterImport, fullname: str, path: Sequence[str] | None, target: ModuleType | None
) -> ModuleSpec | None:
    for other in list(sys.meta_path):
        find_spec = getattr(other, "find_spec", None)
        if other is finder or find_spec is None:
            continue
        spec = find_spec(fullname, path, target)
        if spec is not None:
            return spec  # type: ignore[no-any-return]
    return None


class _ThenStep(importlib.abc.Loader):
    """The module's own loader, then the step; the module keeps its own loader afterwards."""

    def __init__(self, loader: Any, fullname: str, step: Callable[[ModuleType], None]) -> None:
        self._loader, self._fullname, self._step = loader, fullname, step

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        self._step(module)
        _steps_done.add(self._fullname)
        if _steps_done == set(_STEPS):
            sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _AfterImport)]

    def __getattr__(self, name: str) -> Any:  # get_data, get_resource_reader … of the real loader
        return getattr(self._loader, name)
