"""The `huiwu` command: check-config, and `run` refusing to start on bad settings or a bad site."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from bot.cli import main
from tests.unit.test_settings import ENVIRONMENT, VALID_TOKEN

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "site.toml"

BROKEN_SITE = (
    EXAMPLE.read_text(encoding="utf-8")
    .replace("capacity = 400", "capacity = -400")
    .replace('equipment = ["tea set"]', 'equipment = ["tea set"]\ncolour = "red"')
)
BROKEN_PROBLEMS = [
    "rooms[1].colour: unknown key",
    "rooms[3].capacity: must be > 0",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing of the machine's environment or of a .env in the checkout reaches the command."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SITE_CONFIG", str(EXAMPLE))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'never-created.db'}")


@pytest.fixture
def broken_site(tmp_path: Path) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN_SITE, encoding="utf-8")
    return path


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# ---- check-config --------------------------------------------------------------------------


def test_check_config_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-config", str(EXAMPLE)])

    out, err = capsys.readouterr()
    assert code == 0
    assert out.strip() == f"{EXAMPLE}: OK — 5 rooms, 5 teams, 16 people, 17 task templates"
    assert err == ""


def test_check_config_lists_each_problem_with_its_path(
    broken_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check-config", str(broken_site)])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    lines = _lines(err)
    assert len(lines) == len(BROKEN_PROBLEMS) + 1
    for line, expected in zip(lines, BROKEN_PROBLEMS, strict=False):
        assert line.startswith(expected), (line, expected)
    assert lines[-1] == f"{broken_site}: {len(BROKEN_PROBLEMS)} problem(s)"


def test_check_config_reports_reference_problems_with_their_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site.toml"
    site.write_text(
        EXAMPLE.read_text(encoding="utf-8")
        .replace('class = "B"', 'class = "Z"', 1)
        .replace('team = "cleaning"', 'team = "kitchen"'),
        encoding="utf-8",
    )

    code = main(["check-config", str(site)])

    lines = _lines(capsys.readouterr().err)
    assert code == 1
    assert lines[0] == "rooms[2].class: unknown room class 'Z' (known: A, B, C)"
    assert lines[1].startswith("task_templates[16].team: unknown team 'kitchen'")
    assert lines[2] == f"{site}: 2 problem(s)"


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "cannot read (No such file or directory)"), ("rooms = [", "not valid TOML (")],
    ids=["missing file", "not TOML"],
)
def test_check_config_on_an_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, expected: str
) -> None:
    path = tmp_path / "site.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")

    code = main(["check-config", str(path)])

    out, err = capsys.readouterr()
    assert code == 1
    lines = _lines(err)
    assert lines[0].startswith(f"{path}: {expected}")
    assert lines[1] == f"{path}: 1 problem(s)"
    assert "Traceback" not in out + err


def test_check_config_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["check-config"])

    assert caught.value.code == 2
    assert "file" in capsys.readouterr().err


# ---- run: refusing to start ------------------------------------------------------------------


def _never_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """`run` must stop before it builds the bot; reaching build_app is a failure."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bot was built although it must not start")

    monkeypatch.setattr("bot.app.build_app", refuse)


def test_run_without_a_token_exits_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _never_build(monkeypatch)

    code = main(["run"])

    out, err = capsys.readouterr()
    assert code != 0
    assert out == ""
    assert _lines(err) == ["BOT_TOKEN is not set: get a token from @BotFather and export BOT_TOKEN=…"]


@pytest.mark.parametrize("token", ["hello", "123:abc", "987654321:short"])
def test_run_with_a_malformed_token_exits_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    _never_build(monkeypatch)
    monkeypatch.setenv("BOT_TOKEN", token)

    code = main(["run"])

    out, err = capsys.readouterr()
    assert code != 0
    lines = _lines(err)
    assert len(lines) == 1
    assert lines[0].startswith("BOT_TOKEN is malformed")
    assert token not in out + err


def test_run_with_an_invalid_site_file_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], broken_site: Path
) -> None:
    _never_build(monkeypatch)
    monkeypatch.setenv("BOT_TOKEN", VALID_TOKEN)
    monkeypatch.setenv("SITE_CONFIG", str(broken_site))

    code = main(["run"])

    out, err = capsys.readouterr()
    assert code != 0
    lines = _lines(err)
    assert len(lines) == len(BROKEN_PROBLEMS) + 1
    for line, expected in zip(lines, BROKEN_PROBLEMS, strict=False):
        assert line.startswith(expected), (line, expected)
    assert lines[-1] == f"{broken_site}: the bot does not start with an invalid site file"
    assert "Traceback" not in out + err


def test_run_with_a_missing_site_file_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _never_build(monkeypatch)
    missing = tmp_path / "missing.toml"
    monkeypatch.setenv("BOT_TOKEN", VALID_TOKEN)
    monkeypatch.setenv("SITE_CONFIG", str(missing))

    code = main(["run"])

    lines = _lines(capsys.readouterr().err)
    assert code != 0
    assert lines == [
        f"{missing}: cannot read (No such file or directory)",
        f"{missing}: the bot does not start with an invalid site file",
    ]


def test_run_with_invalid_settings_exits_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    _never_build(monkeypatch)
    monkeypatch.setenv("BOT_TOKEN", VALID_TOKEN)
    monkeypatch.setenv("LOG_LEVEL", "loud")

    with pytest.raises(SystemExit) as caught:
        main(["run"])

    message = str(caught.value.code)
    assert message == "Invalid settings: LOG_LEVEL: must be DEBUG, INFO, WARNING, ERROR or CRITICAL"


# ---- the installed entry point ---------------------------------------------------------------


def _huiwu(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    return subprocess.run(
        [uv, "run", "--frozen", "--project", str(ROOT), "huiwu", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in ENVIRONMENT}
    env.update(extra)
    return env


def test_the_installed_command_checks_a_site_file(tmp_path: Path, broken_site: Path) -> None:
    good = _huiwu("check-config", str(EXAMPLE), env=_subprocess_env(), cwd=tmp_path)
    bad = _huiwu("check-config", str(broken_site), env=_subprocess_env(), cwd=tmp_path)

    assert good.returncode == 0, good.stderr
    assert f"{EXAMPLE}: OK" in good.stdout
    assert bad.returncode == 1
    lines = _lines(bad.stderr)
    for expected in BROKEN_PROBLEMS:
        assert any(line.startswith(expected) for line in lines), (expected, lines)
    assert "Traceback" not in bad.stderr


def test_the_installed_command_refuses_to_run_without_a_token(tmp_path: Path) -> None:
    result = _huiwu("run", env=_subprocess_env(SITE_CONFIG=str(EXAMPLE)), cwd=tmp_path)

    assert result.returncode != 0
    assert result.stdout == ""
    assert _lines(result.stderr) == [
        "BOT_TOKEN is not set: get a token from @BotFather and export BOT_TOKEN=…"
    ]


def test_the_installed_command_refuses_a_malformed_token(tmp_path: Path) -> None:
    result = _huiwu(
        "run", env=_subprocess_env(SITE_CONFIG=str(EXAMPLE), BOT_TOKEN="not-a-token"), cwd=tmp_path
    )

    assert result.returncode != 0
    lines = _lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("BOT_TOKEN is malformed")
    assert "not-a-token" not in result.stderr


def test_the_weekly_spreadsheet_is_written_on_a_fresh_checkout(tmp_path: Path) -> None:
    """No database yet: the command migrates one, as `huiwu run` would, and writes an empty
    but valid workbook readable by its owner only."""
    from openpyxl import load_workbook

    result = _huiwu(
        "report", "week", "--week", "2026-W49", "--out", "week.xlsx",
        env=_subprocess_env(SITE_CONFIG=str(EXAMPLE)),
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "week.xlsx: weekly briefing 2026-W49 — 0 meetings" in result.stdout
    workbook = load_workbook(tmp_path / "week.xlsx")
    assert len(workbook.sheetnames) > 1
    assert stat.S_IMODE((tmp_path / "week.xlsx").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data" / "huiwu.db").stat().st_mode) == 0o600
