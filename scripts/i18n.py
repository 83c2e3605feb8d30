"""Keep the catalogues in step with the code.

uv run python scripts/i18n.py update   # extract, merge into zh/en, copy en msgids
uv run python scripts/i18n.py check    # list strings missing a translation
uv run python scripts/i18n.py compile  # .po -> .mo (the build does this too)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
LANGUAGES = ("zh", "en")
KEYWORDS = ["-k", "_:1,1t", "-k", "_:1,2", "-k", "__", "-k", "Tr", "-k", "N_"]


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / "messages.po"


def update() -> None:
    subprocess.run(
        [
            "pybabel",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            *KEYWORDS,
            "--no-location",
            "--sort-output",
            "--project",
            "huiwu",
            "-o",
            str(POT),
            str(ROOT / "bot"),
        ],
        check=True,
        cwd=ROOT,
    )
    for language in LANGUAGES:
        path = po_path(language)
        command = "update" if path.exists() else "init"
        args = ["pybabel", command, "-i", str(POT), "-d", str(LOCALES), "-D", "messages", "-l", language]
        if command == "update":
            args += ["--no-fuzzy-matching", "--ignore-obsolete"]
        subprocess.run(args, check=True, cwd=ROOT)
    english = po_path("en")
    with english.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if message.id and not _translated(message):
            # English is the source language: each msgid (and its plural) is its own translation
            message.string = message.id
    with english.open("wb") as handle:
        write_po(handle, catalog, width=0, omit_header=False)


def _translated(message: Message) -> bool:
    """Every form has text (a plural message's string is a tuple, one per plural form)."""
    strings = [message.string] if isinstance(message.string, str) else list(message.string or ())
    return bool(strings) and all(strings)


def missing() -> list[str]:
    problems = []
    for language in LANGUAGES:
        with po_path(language).open("rb") as handle:
            catalog = read_po(handle, locale=language)
        problems += [f"{language}: {m.id!r}" for m in catalog if m.id and (not _translated(m) or m.fuzzy)]
    return problems


def compile_all() -> None:
    for language in LANGUAGES:
        source = po_path(language)
        with source.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        with source.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog)


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else "check"
    if action == "update":
        update()
    elif action == "compile":
        compile_all()
    else:
        problems = missing()
        print("\n".join(problems) or "every string is translated")
        sys.exit(1 if problems else 0)
