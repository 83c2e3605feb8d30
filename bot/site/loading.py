"""Reading the site file: TOML → validated :class:`SiteConfig`, or every problem at once."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.site.config import SiteConfig
from bot.site.problems import reference_problems, structure_problems


class SiteConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_site(data: dict[str, Any]) -> SiteConfig:
    try:
        site = SiteConfig.model_validate(data)
    except ValidationError as exc:
        raise SiteConfigError(structure_problems(exc)) from None
    problems = reference_problems(site)
    if problems:
        raise SiteConfigError(problems)
    return site


def load_site(path: str | Path) -> SiteConfig:
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise SiteConfigError([f"{file}: cannot read ({exc.strerror})"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SiteConfigError([f"{file}: not valid TOML (not UTF-8 text: byte {exc.start})"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SiteConfigError([f"{file}: not valid TOML ({exc})"]) from None
    return parse_site(data)
