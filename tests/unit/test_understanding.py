"""The request reader: every hand-written case, and the rules around it."""

from __future__ import annotations

import random
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.services.understanding import (
    BOOKING_FIELDS,
    Confidence,
    looks_like_booking_request,
    understand,
)
from bot.site import SiteConfig, load_site, parse_site
from tests.unit.understanding_cases import (
    CASES,
    CHANGES,
    EN_CASES,
    NOT_REQUESTS,
    NOW,
    REQUESTS,
    ZH_CASES,
    ZONE,
    score,
)

ROOT = Path(__file__).resolve().parents[2]
GOAL = 0.90  # share of expected fields found


@pytest.fixture(scope="module")
def site() -> SiteConfig:
    return load_site(ROOT / "examples" / "site.toml")


def test_the_table_is_big_and_varied_enough() -> None:
    assert len(ZH_CASES) >= 30
    assert len(EN_CASES) >= 30
    assert all(case.language == "zh" for case in ZH_CASES)
    assert all(case.language == "en" for case in EN_CASES)
    assert sum("problems" in case.expect for case in CASES) >= 10  # contradictions, unknown rooms …


@pytest.mark.parametrize("case", CASES, ids=[case.text[:40] for case in CASES])
def test_no_field_is_ever_wrong(site: SiteConfig, case) -> None:  # type: ignore[no-untyped-def]
    result = understand(case.text, site, NOW)

    assert score(case, result).wrong == []


@pytest.mark.parametrize("language", ["zh", "en", "all"])
def test_share_of_expected_fields_found(site: SiteConfig, language: str) -> None:
    cases = {"zh": ZH_CASES, "en": EN_CASES, "all": CASES}[language]
    expected = found = 0
    for case in cases:
        mark = score(case, understand(case.text, site, NOW))
        expected += mark.expected
        found += mark.found
    share = found / expected
    print(f"{language}: {found}/{expected} fields = {share:.1%}")

    assert share >= GOAL


def test_times_are_aware_utc_in_the_site_zone(site: SiteConfig) -> None:
    result = understand("明天上午9点到11点 203会议厅 120人", site, NOW)

    assert result.start == datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    assert result.end == datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    assert result.start is not None and result.start.tzinfo is not None
    assert result.start.utcoffset() == timedelta(0)
    assert result.start_time == time(9, 0)
    assert result.confidence["start"] is Confidence.stated


def test_now_may_be_given_in_any_zone(site: SiteConfig) -> None:
    in_utc = understand("tomorrow 2-4pm room 101 for 8", site, NOW.astimezone(UTC))
    in_shanghai = understand("tomorrow 2-4pm room 101 for 8", site, NOW.astimezone(ZONE))

    assert in_utc.start == in_shanghai.start == datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def test_tomorrow_is_the_site_zones_tomorrow(site: SiteConfig) -> None:
    # 17:00 UTC on 1 December is already 2 December, 01:00, in Shanghai
    late = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)

    assert understand("明天上午9点", site, late).date == datetime(2026, 12, 3).date()


def test_a_naive_now_is_refused(site: SiteConfig) -> None:
    with pytest.raises(ValueError):
        understand("明天上午9点", site, datetime(2026, 12, 1, 9, 0))


def test_bare_hours_are_marked_as_assumed(site: SiteConfig) -> None:
    result = understand("明天两点到四点 第一会议室", site, NOW)

    assert (result.start_time, result.end_time) == (time(14, 0), time(16, 0))
    assert result.confidence["start_time"] is Confidence.assumed


def test_end_from_a_duration_is_implied(site: SiteConfig) -> None:
    result = understand("Reception room tomorrow at 4pm for half an hour", site, NOW)

    assert result.end_time == time(16, 30)
    assert result.confidence["end_time"] is Confidence.implied
    assert result.confidence["layout"] is Confidence.implied  # the room's only layout


def test_a_time_already_past_today_is_not_kept(site: SiteConfig) -> None:
    result = understand("今天上午8点 第一会议室 5人", site, NOW)

    assert result.date == NOW.astimezone(ZONE).date()
    assert result.start is None and result.start_time is None
    assert "in_past" in result.problem_codes()
    assert result.missing[:2] == ["start", "end"]


def test_missing_fields_come_in_dialog_order(site: SiteConfig) -> None:
    assert understand("", site, NOW).missing == list(BOOKING_FIELDS)
    result = understand("tomorrow 2-4pm hall 203 for 50, banner please", site, NOW)

    assert result.missing == ["layout", "title", "reception_level", "services.banner.text"]


def test_language_follows_the_text_then_the_hint(site: SiteConfig) -> None:
    assert understand("明天 203", site, NOW, language_hint="en").language == "zh"
    assert understand("tomorrow 203", site, NOW, language_hint="zh").language == "en"
    assert understand("203 14:00-16:00", site, NOW, language_hint="en").language == "en"


def test_the_site_file_teaches_the_vocabulary() -> None:
    data = tomllib.loads((ROOT / "examples" / "site.toml").read_text(encoding="utf-8"))
    data["rooms"][3]["aliases"].append("大礼堂")
    data["services"][1]["words"].append("白开水")
    data["vocabulary"] = {"confidential": ["内部会议"]}
    taught = parse_site(data)

    result = understand("明天下午2点到4点 大礼堂 内部会议 要白开水", taught, NOW)

    assert result.room_id == "r203"
    assert result.services == {"water": {}}
    assert result.confidential is True


def test_nothing_is_printed_and_jionlp_is_imported_lazily() -> None:
    code = (
        "import sys\n"
        "from datetime import datetime, UTC\n"
        "from bot.services.understanding import understand, looks_like_booking_request\n"
        "from bot.site import load_site\n"
        "assert 'jionlp' not in sys.modules and 'dateparser' not in sys.modules\n"
        "site = load_site('examples/site.toml')\n"
        "looks_like_booking_request('明天下午 203 20人', site)\n"
        "assert 'jionlp' not in sys.modules\n"
        "understand('明天下午2点到4点 203', site, datetime(2026, 12, 1, 1, tzinfo=UTC))\n"
        "understand('tomorrow 2-4pm', site, datetime(2026, 12, 1, 1, tzinfo=UTC))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_odd_input_never_breaks_it(site: SiteConfig) -> None:
    pieces = [piece for case in CASES for piece in case.text.split()] + [
        "",
        "  ",
        "\n",
        "🙂",
        "“",
        "」",
        "'",
        '"',
        "0",
        "99999999",
        "-",
        "到",
        "：",
        "24:00",
        "25点",
        "13pm",
        "2月30日",
        "Feb 30",
        "00/00",
        "第零会议室",
        "-5人",
        "level 9 reception",
        "九十九级接待",
        "\x00",
        "\u200b",
    ]
    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice(pieces) + rng.choice(["", " ", "，"]) for _ in range(rng.randint(0, 12)))
        result = understand(text, site, NOW)
        assert result.text == text[:2000]
        for name in ("start", "end"):
            value = getattr(result, name)
            assert value is None or value.tzinfo is not None


def test_a_long_paste_is_cut(site: SiteConfig) -> None:
    result = understand("明天上午9点 203会议厅 " + "很长的说明" * 2000, site, NOW)

    assert len(result.text) == 2000
    assert result.room_id == "r203"


@pytest.mark.parametrize("text", REQUESTS)
def test_requests_look_like_requests(site: SiteConfig, text: str) -> None:
    assert looks_like_booking_request(text)
    assert looks_like_booking_request(text, site)


@pytest.mark.parametrize("text", NOT_REQUESTS + CHANGES)
def test_chatter_and_changes_do_not(site: SiteConfig, text: str) -> None:
    assert not looks_like_booking_request(text)
    assert not looks_like_booking_request(text, site)
