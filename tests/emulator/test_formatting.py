from __future__ import annotations

import pytest

from emulator.formatting import (
    EntityParseError,
    auto_entities,
    parse_html,
    render_html,
    strip_text,
    utf16_len,
)
from emulator.markdown import MarkdownError, parse_markdown

TDLIB_ERRORS = [
    ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
    ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba>", 'Can\'t find end tag corresponding to start tag "i"'),
    ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
    ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
    ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
    ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
    (
        "🏟 🏟&lt;<i>a</em   >",
        'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"',
    ),
    ("a<br>b", 'Unsupported start tag "br" at byte offset 1'),
    ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
    ('<span class="x">a</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
]


@pytest.mark.parametrize(("markup", "error"), TDLIB_ERRORS)
def test_html_errors_match_telegram(markup: str, error: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html(markup, strict_ampersand=False)
    assert str(info.value) == error


def test_html_entities_and_offsets_in_utf16() -> None:
    text, entities = parse_html("🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>")
    assert text == "🏟 🏟🏟 ><🏟"
    assert entities == [
        {"type": "italic", "offset": 5, "length": 7},
        {"type": "bold", "offset": 9, "length": 3},
    ]


def test_html_all_tags() -> None:
    markup = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        "<strike>k</strike><del>d</del><tg-spoiler>p</tg-spoiler>"
        '<span class="tg-spoiler">q</span><a href="https://example.com/x">l</a>'
        '<a href="tg://user?id=42">m</a><code>c</code>'
        '<pre><code class="language-python">x=1</code></pre>'
        "<blockquote>q</blockquote><blockquote expandable>w</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    text, entities = parse_html(markup)
    assert text == "bsieunskdpqlmcx=1qw👍"
    kinds = [e["type"] for e in entities]
    assert kinds == [
        "bold", "bold", "italic", "italic", "underline", "underline", "strikethrough",
        "strikethrough", "strikethrough", "spoiler", "spoiler", "text_link", "text_mention",
        "code", "pre", "blockquote", "expandable_blockquote", "custom_emoji",
    ]  # fmt: skip
    pre = next(e for e in entities if e["type"] == "pre")
    assert pre["language"] == "python"
    assert next(e for e in entities if e["type"] == "text_link")["url"] == "https://example.com/x"
    assert next(e for e in entities if e["type"] == "text_mention")["user"] == {"id": 42}


def test_numeric_and_named_character_references() -> None:
    assert parse_html("&lt;&gt;&amp;&quot;&#65;&#x42;")[0] == '<>&"AB'


def test_bare_ampersand_is_rejected_in_strict_mode_only() -> None:
    with pytest.raises(EntityParseError, match='"&" must be escaped'):
        parse_html("Q&A")
    assert parse_html("Q&A &nbsp;", strict_ampersand=False)[0] == "Q&A &nbsp;"


def test_strip_moves_entities() -> None:
    text, entities = parse_html("  <b> bold</b>  ")
    text, entities = strip_text(text, entities)
    assert text == "bold"
    assert entities == [{"type": "bold", "offset": 0, "length": 4}]


def test_render_html_round_trip() -> None:
    markup = '<b>Hi <i>there</i></b> &amp; <a href="https://a.example/">link</a> &lt;x&gt;'
    text, entities = parse_html(markup)
    rendered = render_html(text, entities)
    assert rendered == '<b>Hi <i>there</i></b> &amp; <a href="https://a.example/">link</a> &lt;x&gt;'
    assert parse_html(rendered) == (text, entities)


def test_render_html_overlapping_entities() -> None:
    entities = [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 2, "length": 4},
    ]
    assert render_html("abcdef", entities) == "<b>ab<i>cd</i></b><i>ef</i>"


def test_auto_entities() -> None:
    text = "/start@huiwu_bot go @huiwu_bot https://x.org/a. a.b@c.com #tag 🏟/help"
    found = {(e["type"], text[e["offset"] : e["offset"] + e["length"]]) for e in auto_entities(text, [])}
    assert ("bot_command", "/start@huiwu_bot") in found
    assert ("mention", "@huiwu_bot") in found
    assert ("url", "https://x.org/a") in found
    assert ("email", "a.b@c.com") in found
    assert ("hashtag", "#tag") in found


def _commands(text: str) -> list[str]:
    return [
        text[e["offset"] : e["offset"] + e["length"]]
        for e in auto_entities(text, [])
        if e["type"] == "bot_command"
    ]


@pytest.mark.parametrize(
    ("text", "commands"),
    [
        # tdlib's match_bot_commands: a / not after a word character, /, < or >; 1-64 of
        # [A-Za-z0-9_]; an optional @name of 3-32; then no word character, /, < or >
        ("/start", ["/start"]),
        ("hi /help.", ["/help"]),
        ("(/help) /a /b", ["/help", "/a", "/b"]),
        ("/book@huiwu_bot room", ["/book@huiwu_bot"]),
        ("<b>bold</b> and </i>", []),
        ("<b>季度预算</b>", []),
        ("a/start é/start /é /start/x </start> <br/>", []),
        ("/start@ab /start@" + "b" * 33 + " /" + "a" * 65, []),
        ("/" + "a" * 64 + " /start@" + "b" * 32, ["/" + "a" * 64, "/start@" + "b" * 32]),
    ],
)
def test_bot_commands_only_where_telegram_sees_them(text: str, commands: list[str]) -> None:
    assert _commands(text) == commands


def test_utf16_length() -> None:
    assert utf16_len("a🏟") == 3


def test_markdown_v2() -> None:
    text, entities = parse_markdown("*b* _i_ __u__ ~s~ ||p|| `c` [l](https://x.org) 1\\.", v2=True)
    assert text == "b i u s p c l 1."
    assert [e["type"] for e in entities] == [
        "bold", "italic", "underline", "strikethrough", "spoiler", "code", "text_link",
    ]  # fmt: skip
    with pytest.raises(MarkdownError, match=r"Character '\.' is reserved"):
        parse_markdown("Hello.", v2=True)
    with pytest.raises(MarkdownError, match="Can't find end of Italic entity at byte offset 9"):
        parse_markdown("🏟 🏟_abacaba", v2=True)
