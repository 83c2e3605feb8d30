"""jionlp's time extractor loaded alone (bot/services/understanding/jionlp_time.py) reads as
jionlp imported in full does.

What the loader imports is decided once per process, so tests/unit/jionlp_time_probe.py runs
in a fresh interpreter: it loads the extractor alone, reads every text the Chinese reader
hands to jionlp for the understanding cases, then imports jionlp in full and reads them again.

When one of these fails after an upgrade, the installed jionlp no longer behaves as
jionlp_time expects: fix the module and the pin in pyproject.toml, or make ``time_extractor``
return ``jionlp.ner.extract_time`` after a plain ``import jionlp`` (the bot then works with
about 26 MB more memory and a second more at start).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.unit.jionlp_time_probe"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"the probe failed:\n{done.stderr[-4000:]}"
    # the full import prints jionlp's banner before the probe's one JSON line
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_extractor_alone_reads_every_text_as_the_whole_library(probe: dict[str, Any]) -> None:
    # 85 Chinese cases, a few read twice or not at all, and the probe's own 5 phrases
    assert len(probe["texts"]) > 80, "the probe saw too few of the reader's texts to compare"
    differing = [
        (text, lean, full)
        for text, lean, full in zip(probe["texts"], probe["lean"], probe["full"], strict=True)
        if lean != full
    ]
    assert differing == [], f"jionlp {probe['version']}: read differently when loaded alone: {differing[:3]}"


def test_loading_it_imports_neither_numpy_nor_leaves_a_partial_jionlp(probe: dict[str, Any]) -> None:
    assert probe["after_load"] == {"heavy": [], "jionlp_modules": []}, probe["version"]
