"""The door display's reader (a passer-by) and the deep links of its QR codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.ops.door_display import render_page
from bot.services.deep_links import DeepLink, book_room_link, checkin_link, read_payload
from bot.services.visibility import Audience, MeetingFacts, meeting_view
from bot.site import SiteConfig, SiteConfigError, load_site

ROOT = Path(__file__).resolve().parents[2]
SITE = load_site(ROOT / "examples" / "site.toml")
MEETING = dict(
    department_id="finance",
    title="季度财务分析会",
    notes="bring the budget",
    contact_name="王敏",
    contact_phone="13800000000",
    services={"banner": {"text": "热烈欢迎"}, "microphones": {"count": 4}},
)


def test_a_passer_by_reads_title_and_unit_of_an_ordinary_meeting_and_nothing_else() -> None:
    view = meeting_view(MeetingFacts(confidential=False, **MEETING), Audience.passer_by())  # type: ignore[arg-type]
    assert (view.title, view.department_id) == ("季度财务分析会", "finance")
    assert (view.notes, view.contact_name, view.contact_phone, view.banner) == (None, None, None, None)
    assert view.services["microphones"] == {"count": 4}


def test_a_passer_by_reads_nothing_of_a_confidential_meeting() -> None:
    view = meeting_view(MeetingFacts(confidential=True, **MEETING), Audience.passer_by())  # type: ignore[arg-type]
    assert view.hidden and view.department_id is None and view.notes is None and view.banner is None


def test_the_qr_codes_payloads_are_read_back() -> None:
    assert checkin_link(SITE, 42) == "https://t.me/huiwu_bot?start=checkin-42"
    assert book_room_link(SITE, "r101") == "https://t.me/huiwu_bot?start=book-r101"
    assert read_payload(SITE, "checkin-42") == DeepLink("checkin", booking_id=42)
    assert read_payload(SITE, "book-r101") == DeepLink("book", room_id="r101")
    # anything else is left to the invite rules
    for payload in ("checkin-", "checkin-x1", "checkin-４２", "book-nosuch", "book-", "Xy7_invite-code"):
        assert read_payload(SITE, payload) is None


@pytest.mark.parametrize("token", ["short-token", "has space in it!!!!", "é" * 20])
def test_a_display_token_must_be_long_and_url_safe(tmp_path: Path, token: str) -> None:
    text = (ROOT / "examples" / "site.toml").read_text(encoding="utf-8")
    path = tmp_path / "site.toml"
    path.write_text(
        text.replace('id = "r101"\n', f'id = "r101"\ndisplay_token = "{token}"\n'), encoding="utf-8"
    )
    with pytest.raises(SiteConfigError) as error:
        load_site(path)
    assert "rooms[0].display_token" in str(error.value)


def test_a_good_display_token_loads(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "site.toml").read_text(encoding="utf-8")
    path = tmp_path / "site.toml"
    token = "Zq8-xW3_rT5yU7iO"
    path.write_text(
        text.replace('id = "r101"\n', f'id = "r101"\ndisplay_token = "{token}"\n'), encoding="utf-8"
    )
    site: SiteConfig = load_site(path)
    room = site.room("r101")
    assert room is not None and room.display_token == token
    assert token not in repr(room)  # a secret: not in logs of the site's models
    assert all(room.display_token is None for room in SITE.rooms)  # the example has no secrets


def test_the_page_reads_no_value_as_a_placeholder() -> None:
    meeting = {
        "time": "09:00–10:00",
        "title": "%%QR_SVG%% %%NONCE%%",
        "unit": "",
        "booked_only": False,
        "note": "",
    }
    view = {
        "language": "zh",
        "title": "t",
        "room": "%%LATER%%",
        "date": "d",
        "time": "09:05",
        "state": "busy",
        "status": "s",
        "now_label": "n",
        "now": meeting,
        "later_label": "l",
        "later": [],
        "later_empty": "e",
        "qr_caption": "c",
        "qr_link": "https://t.me/huiwu_bot?start=checkin-1",
        "qr_svg": "<svg></svg>",
        "offline": "o",
        "switch_to": "en",
        "switch_label": "English",
    }
    page = render_page(view, "NONCE123", 30)
    assert "%%QR_SVG%% %%NONCE%%" in page and ">%%LATER%%</h1>" in page
    assert "%%" not in page.replace("%%QR_SVG%% %%NONCE%%", "").replace("%%LATER%%", "")
