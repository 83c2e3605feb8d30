"""Build hook: compile locales/*/LC_MESSAGES/*.po into .mo, so no .mo is ever made by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileCatalogs(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for source in Path(self.root, "locales").glob("*/LC_MESSAGES/*.po"):
            language = source.parent.parent.name
            with source.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            with source.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalog)
