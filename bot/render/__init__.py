"""Views: notices and screens rendered to text and keyboards, in the reader's language.

Importing this package imports every module in it, so each ``@renderer`` registers itself.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
