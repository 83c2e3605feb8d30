"""Every string the code translates has a translation in both catalogues."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()


def code_messages() -> dict[str, str]:
    """msgid → where it is used, extracted with the keywords scripts/i18n.py uses."""
    names = [SCRIPT.KEYWORDS[i + 1] for i in range(0, len(SCRIPT.KEYWORDS), 2)]
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords(names))
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT / "bot", method_map=[("**.py", "python")], keywords=keywords
    ):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault(msgid, f"bot/{filename}:{lineno}")
    return found


def test_the_code_has_strings_to_translate() -> None:
    messages = code_messages()
    assert "This button is no longer valid." in messages
    assert "{n} hour" in messages


@pytest.mark.parametrize("language", SCRIPT.LANGUAGES)
def test_every_string_is_translated(language: str) -> None:
    with SCRIPT.po_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language)
    problems = []
    for msgid, where in sorted(code_messages().items()):
        message = catalog.get(msgid)
        strings = (
            []
            if message is None
            else ([message.string] if isinstance(message.string, str) else list(message.string or ()))
        )
        if message is None:
            problems.append(f"{where}: {msgid!r} is not in the catalogue (run scripts/i18n.py update)")
        elif message.fuzzy or not strings or not all(s.strip() for s in strings):
            problems.append(f"{where}: {msgid!r} has no {language} translation")
    assert not problems, "\n".join(problems)
