"""The example site in one language: its groups' default and, for the people named, their own."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

EXAMPLE_SITE = Path(__file__).resolve().parents[2] / "examples" / "site.toml"


def example_site_in(language: str, folder: Path, people: Iterable[int] = (), *, groups: bool = True) -> Path:
    """A copy of examples/site.toml in ``folder`` whose groups (unless ``groups`` is false)
    read ``language``, as do the ``people`` named (by Telegram id); the path of the copy."""
    site = EXAMPLE_SITE.read_text(encoding="utf-8")
    if groups:
        site = site.replace('default_language = "zh"', f'default_language = "{language}"', 1)
    for person in people:
        site = re.sub(rf"(\nid = {person}\n)", rf'\1language = "{language}"\n', site)
    path = folder / "site.toml"
    path.write_text(site, encoding="utf-8")
    return path
