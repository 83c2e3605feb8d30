"""SQL is parameterised everywhere: no SQL text is built with f-strings, % or .format()."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["bot", "storage", "emulator", "scripts"]  # what ships; not tests/bench DDL helpers

TEXT = r"(?:(?<![.\w])|\bsa\.|\bsqlalchemy\.)text\("  # SQLAlchemy's text(), not axes.text()
# text(f"..."), execute(f"..."), exec_driver_sql(f"..."), and the %/.format() spellings of it
FORMATTED_SQL = [
    re.compile(TEXT + r"\s*[rbuRBU]*f[\"']"),
    re.compile(r"\b(?:execute|exec_driver_sql|executescript|executemany)\(\s*[rbuRBU]*f[\"']"),
    re.compile(TEXT + r"\s*[rbuRBU]*[\"'][^\"']*[\"']\s*%\s*[(\w]"),
    re.compile(r"\b(?:execute|exec_driver_sql)\(\s*[rbuRBU]*[\"'][^\"']*[\"']\s*%\s*[(\w]"),
    re.compile(TEXT + r"\s*[rbuRBU]*[\"'][^\"']*[\"']\s*\.format\("),
    re.compile(r"\b(?:execute|exec_driver_sql)\(\s*[rbuRBU]*[\"'][^\"']*[\"']\s*\.format\("),
    re.compile(TEXT + r"[^)]*\+\s*\w"),  # text("..." + value)
]


def python_files() -> list[Path]:
    found: list[Path] = []
    for folder in SOURCES:
        base = ROOT / folder
        if base.exists():
            found.extend(p for p in base.rglob("*.py") if ".venv" not in p.parts)
    return sorted(found)


def test_the_grep_itself_catches_formatted_sql() -> None:
    bad = [
        'session.execute(text(f"SELECT * FROM bookings WHERE id = {x}"))',
        "conn.exec_driver_sql(f'DELETE FROM tasks WHERE id={i}')",
        "text(\"SELECT * FROM users WHERE name = '%s'\" % (name,))",
        'text("SELECT {}".format(value))',
        'text("SELECT * FROM t WHERE a = " + value)',
    ]
    for line in bad:
        assert any(pattern.search(line) for pattern in FORMATTED_SQL), line
    good = 'session.execute(text("SELECT * FROM bookings WHERE id = :id"), {"id": x})'
    assert not any(pattern.search(good) for pattern in FORMATTED_SQL)


def test_no_string_formatted_sql_anywhere() -> None:
    files = python_files()
    assert len(files) > 20
    offences = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(pattern.search(line) for pattern in FORMATTED_SQL):
                offences.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offences, "SQL built from strings:\n" + "\n".join(offences)
