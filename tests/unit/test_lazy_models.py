"""aiogram's models built on first use (bot/telegram/lazy_models.py) behave as built at import.

Whether aiogram's models are deferred is decided once per process, when aiogram is imported,
so tests/unit/telegram_models_probe.py runs in two fresh interpreters: one imports the bot
first (as every entry point does), one imports aiogram first (nothing deferred). Their
outputs must be the same, model for model and payload for payload.

When one of these fails after an upgrade, the installed aiogram or pydantic no longer behaves
as lazy_models expects: fix the module and the pins in pyproject.toml, or take the install()
call out of bot/__init__.py (the bot then works with ~100 MB more memory).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.telegram import lazy_models

ROOT = Path(__file__).resolve().parents[2]
# built when aiogram's modules are executed, as designed: the methods' base classes
BUILT_BY_DESIGN = ["aiogram.methods.Request", "aiogram.methods.Response", "aiogram.methods.TelegramMethod"]
SECTIONS = ["updates", "messages", "calls", "answers", "schemas", "every model"]


def _probe(mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.unit.telegram_models_probe", mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"the {mode} probe failed:\n{done.stderr[-4000:]}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def lazy() -> dict[str, Any]:
    return _probe("lazy")


@pytest.fixture(scope="module")
def eager() -> dict[str, Any]:
    return _probe("eager")


def _upgrade_note(result: dict[str, Any]) -> str:
    versions = result["versions"]
    return (
        f"aiogram {versions['aiogram']} with pydantic {versions['pydantic']} no longer behaves as "
        "bot/telegram/lazy_models.py expects (see this test module's docstring)"
    )


def test_this_test_run_has_aiogram_models_deferred() -> None:
    # the end-to-end tests run in this process: they check the bot with deferred models
    import aiogram  # noqa: F401  (whether deferred is decided when aiogram is imported)

    assert lazy_models.deferred(), "aiogram was imported before bot/__init__.py could install the deferral"


def test_importing_the_bot_defers_every_aiogram_model(lazy: dict[str, Any]) -> None:
    note = _upgrade_note(lazy)
    assert lazy["deferred"], f"{note}: not every step ran (a module it hooks was renamed?)"
    assert lazy["models"] > 400, f"{note}: aiogram.types / aiogram.methods list {lazy['models']} models"
    built = [name for name in lazy["built at import"] if name not in BUILT_BY_DESIGN]
    assert not built, f"{note}: {len(built)} models were built at import, e.g. {built[:5]}"
    assert lazy["built at the end"] == lazy["models"], f"{note}: some models never got built on use"


def test_aiogram_imported_first_is_left_as_it_is(eager: dict[str, Any]) -> None:
    assert not eager["deferred"]
    assert len(eager["built at import"]) == eager["models"], "the eager reference is not eager"


@pytest.mark.parametrize("section", SECTIONS)
def test_deferred_models_behave_as_eager_ones(
    lazy: dict[str, Any], eager: dict[str, Any], section: str
) -> None:
    assert lazy["versions"] == eager["versions"]
    assert sorted(lazy[section]) == sorted(eager[section])
    differing = [name for name in sorted(eager[section]) if lazy[section][name] != eager[section][name]]
    assert not differing, (
        f"{_upgrade_note(lazy)}: {section} differ for {differing[:10]}; first, deferred then eager:\n"
        f"{json.dumps(lazy[section][differing[0]], ensure_ascii=False)[:1500]}\n"
        f"{json.dumps(eager[section][differing[0]], ensure_ascii=False)[:1500]}"
    )


def test_the_probe_sees_both_accepted_and_refused_payloads(eager: dict[str, Any]) -> None:
    outcomes = list(eager["updates"].values()) + list(eager["calls"].values())
    refused = sum(1 for outcome in outcomes if isinstance(outcome, dict) and "refused" in outcome)
    assert 5 <= refused < len(outcomes) - 15, "the probe's payloads no longer test what they are meant to"
    answers = {name: outcome[0] for name, outcome in eager["answers"].items()}
    assert answers["sent"] == "Response[Message]" and answers["too many"] == "TelegramRetryAfter"
