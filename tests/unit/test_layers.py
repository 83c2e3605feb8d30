"""The layering of pyproject.toml's import-linter contracts holds (docs/architecture.md).

The same check as ``uv run lint-imports``, so that ``uv run pytest`` fails when an import
crosses a layer or closes a cycle: bot.services stays plain Python (no aiogram, nothing above
it), storage and the emulator know nothing of the bot, bot.ops takes explicit dependencies,
handlers, renderers and dialogs import no repository (they go through bot.services), aiogram
is imported only by bot.telegram, handlers, dialogs and render, and no cycle joins the
packages of bot beyond the ones the contract names.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
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


def test_handlers_renderers_and_dialogs_may_not_import_a_repository() -> None:
    """The contract that keeps storage.repositories behind bot.services is there and covers
    every adapter package (a direct import only: through a service is the way)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {contract["id"]: contract for contract in config["tool"]["importlinter"]["contracts"]}
    contract = contracts["adapters-read-through-services"]
    assert contract["type"] == "forbidden"
    assert set(contract["source_modules"]) >= {"bot.handlers", "bot.render", "bot.dialogs"}
    assert contract["forbidden_modules"] == ["storage.repositories"]
