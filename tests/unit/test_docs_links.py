"""The repository is self-contained: no file refers to the old steering folder beside the
checkout, and every relative markdown link reaches a file of the repository (and, when it names
a heading of a markdown file, that heading).

The product description and the Telegram notes used to live outside the repository; a newcomer
with a clone had dangling references. The files checked are the repository's text files (the
tracked ones, plus new ones not yet added and not ignored, so that a new page is checked before
its commit).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[2]
TEXT_SUFFIXES = frozenset({".md", ".py", ".toml", ".js", ".html", ".cfg", ".ini"})
# In two pieces, so that a plain search of the repository for the folder finds nothing here.
OUTSIDE = ".." + "/shared"
# This file's own examples of bad references and links are the one exception.
THIS_FILE = Path(__file__).resolve()
SKIPPED_DIRECTORIES = frozenset({"data", "artifacts", "node_modules", "__pycache__", "build", "dist"})

FENCED_CODE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
# Outside markdown, "](" is mostly code (regular expressions, subscripted calls): there a target
# counts as a link only when it looks like a path to a document of the repository.
PATH_LIKE = re.compile(r"(?:\.{1,2}/)+[^\s]*|[\w./-]+\.(?:md|png|svg|toml)(?:#[\w-]*)?")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
HTML_ANCHOR = re.compile(r"<a\s[^>]*(?:id|name)=[\"']([^\"']+)[\"']", re.IGNORECASE)
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def repository_files(root: Path) -> list[Path]:
    """The text files to check: git's view of the checkout, or a walk when it is not one."""
    try:
        top = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        if Path(top).resolve() != root.resolve():
            raise ValueError(top)
        listing = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        names = sorted({name for name in listing.split("\0") if name})
        paths = [root / name for name in names]
    except (OSError, subprocess.CalledProcessError, ValueError):
        paths = [
            path
            for path in sorted(root.rglob("*"))
            if not any(
                part.startswith(".") or part in SKIPPED_DIRECTORIES
                for part in path.relative_to(root).parts[:-1]
            )
        ]
    return [path for path in paths if path.suffix in TEXT_SUFFIXES and path.is_file()]


def _blank(match: re.Match[str]) -> str:
    """The same number of characters and lines, so that offsets still give line numbers."""
    return re.sub(r"[^\n]", " ", match.group(0))


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def link_targets(path: Path, text: str) -> Iterator[tuple[int, str]]:
    """(line, target) of each relative link in ``text``; code in markdown is not a link."""
    markdown = path.suffix == ".md"
    if markdown:
        text = INLINE_CODE.sub(_blank, FENCED_CODE.sub(_blank, text))
        matches = [*INLINE_LINK.finditer(text), *REFERENCE_LINK.finditer(text)]
    else:
        matches = list(INLINE_LINK.finditer(text))
    for match in sorted(matches, key=lambda found: found.start()):
        target = match.group(1)
        if SCHEME.match(target) or target.startswith("//"):
            continue  # a web address, mailto: …
        if not markdown and not PATH_LIKE.fullmatch(target):
            continue
        yield _line(text, match.start()), target


def heading_anchor(heading: str) -> str:
    """GitHub's anchor of a heading: its text, lower case, without punctuation, spaces → -."""
    pieces = []
    for index, piece in enumerate(re.split(r"(`+[^`]*`+)", heading)):
        if index % 2:  # inline code: its text, literally
            pieces.append(piece.strip("`"))
        else:
            piece = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", piece)  # a link: its text
            pieces.append(re.sub(r"<[^>]+>", "", piece))
    text = "".join(pieces).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a link may name in a markdown file (repeated headings get -1, -2 …)."""
    text = FENCED_CODE.sub(_blank, text)
    found: set[str] = set(HTML_ANCHOR.findall(text))
    seen: dict[str, int] = {}
    for match in HEADING.finditer(text):
        anchor = heading_anchor(match.group(1))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


def problems(root: Path) -> list[str]:
    root = root.resolve()
    found: list[str] = []
    anchor_cache: dict[Path, set[str]] = {}

    def anchors_of(path: Path) -> set[str]:
        if path not in anchor_cache:
            anchor_cache[path] = anchors(path.read_text(encoding="utf-8", errors="replace"))
        return anchor_cache[path]

    for path in repository_files(root):
        if path.resolve() == THIS_FILE:
            continue
        name = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE in line:
                found.append(f"{name}:{number}: refers to {OUTSIDE}, outside the repository")
        for number, target in link_targets(path, text):
            file_part, _, fragment = target.partition("#")
            file_part, fragment = unquote(file_part), unquote(fragment)
            destination = (path.parent / file_part).resolve() if file_part else path.resolve()
            if not destination.is_relative_to(root):
                found.append(f"{name}:{number}: link {target!r} leads outside the repository")
            elif not destination.exists():
                found.append(f"{name}:{number}: link {target!r}: no such file in the repository")
            elif fragment and destination.suffix == ".md" and fragment not in anchors_of(destination):
                found.append(f"{name}:{number}: link {target!r}: no heading #{fragment} there")
    return found


def test_the_repository_refers_only_to_itself() -> None:
    assert problems(ROOT) == []


def test_the_check_finds_outside_references_missing_files_and_missing_headings(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "product.md").write_text(
        "# Product\n\n## 2. Rooms and booking rules\n\n### `[room_classes.<name>]`\n\nText.\n",
        encoding="utf-8",
    )
    (tmp_path / "README.md").write_text(
        "The rules: [product](docs/product.md), [rooms](docs/product.md#2-rooms-and-booking-rules),\n"
        "[classes](docs/product.md#room_classesname), [web](https://example.org/x.md).\n"
        f"Old: [`{OUTSIDE}/rules.md`]({OUTSIDE}/rules.md).\n"
        "Gone: [notes](docs/telegram-notes.md), [heading](docs/product.md#9-nothing).\n"
        "```sh\n[not a link](missing.md)\n```\n"
        "Code `[not a link](missing.md)` either.\n",
        encoding="utf-8",
    )
    (tmp_path / "app.py").write_text(
        f'"""Rules: {OUTSIDE}/rules.md §2."""\n'
        'PATTERN = r"[\\u4e00-\\u9fff](?:室|厅)"\n'
        "HANDLERS = {}\n"
        "x = HANDLERS[1](2)\n"
        "# see [the guide](docs/guide.md)\n",
        encoding="utf-8",
    )
    (tmp_path / "notes.txt").write_text(f"{OUTSIDE} is fine in a file type not checked\n", encoding="utf-8")

    assert problems(tmp_path) == [
        f"README.md:3: refers to {OUTSIDE}, outside the repository",
        f"README.md:3: link '{OUTSIDE}/rules.md' leads outside the repository",
        "README.md:4: link 'docs/telegram-notes.md': no such file in the repository",
        "README.md:4: link 'docs/product.md#9-nothing': no heading #9-nothing there",
        f"app.py:1: refers to {OUTSIDE}, outside the repository",
        "app.py:5: link 'docs/guide.md': no such file in the repository",
    ]


def test_heading_anchors_follow_github() -> None:
    assert heading_anchor("3. Tasks, pushed to the teams") == "3-tasks-pushed-to-the-teams"
    assert heading_anchor("`[room_classes.<name>]`") == "room_classesname"
    assert heading_anchor("8.1 会务服务方案(完整版) — a plan") == "81-会务服务方案完整版--a-plan"
    assert anchors("# A\n## A\n```\n# not a heading\n```\n") == {"a", "a-1"}
