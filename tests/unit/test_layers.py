"""The layering of pyproject.toml's import-linter contracts holds (docs/architecture.md).

The same check as ``uv run lint-imports``, so that ``uv run pytest`` fails when an import
crosses a layer or closes a cycle: bot.services stays plain Python (no aiogram, nothing above
it), storage and the emulator know nothing of the bot, bot.ops takes explicit dependencies,
and no cycle joins the packages of bot beyond the ones the contract names.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_hold() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(linter), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
