"""The one-sentence reader's libraries (jionlp's time extractor, dateparser): loaded in the
background right after start (UNDERSTANDING_WARM_UP, the default), or by the first typed
request; never by importing or building the bot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.services.understanding import jionlp_time
from tests.support.harness import ROOT, TOKEN, running_bot
from tests.support.people import WANG

WARM_UP_TASK = "huiwu-reader-warm-up"
SENTENCE = "明天上午9点到11点 第一会议室 12人 会议主题：年度工作会议"


def test_importing_and_building_the_bot_loads_neither_library(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "import bot.cli, bot.app\n"
        "from bot.app import build_app\n"
        "from bot.settings import Settings\n"
        "from bot.site import load_site\n"
        f"settings = Settings(_env_file=None, bot_token={TOKEN!r}, database_url='sqlite+aiosqlite:///{tmp_path}/x.db')\n"
        "build_app(settings, load_site('examples/site.toml'))\n"
        "from bot.services.understanding import jionlp_time\n"
        "imported = sorted(name for name in ('jionlp', 'dateparser') if name in sys.modules)\n"
        "print(imported, jionlp_time.loaded())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[] False"


async def test_start_loads_the_reader_in_the_background(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as h:
        warm_ups = [task for task in h.app.one_off if task.get_name() == WARM_UP_TASK]
        assert len(warm_ups) == 1
        await warm_ups[0]
        # of jionlp only its time extractor, which leaves no jionlp module in sys.modules
        assert jionlp_time.loaded() and "dateparser" in sys.modules
        await h.ask(WANG, SENTENCE, "布置为哪种会议形式")


async def test_without_warm_up_the_first_typed_request_loads_it_and_is_read(tmp_path: Path) -> None:
    async with running_bot(tmp_path, understanding_warm_up=False) as h:
        assert [task for task in h.app.one_off if task.get_name() == WARM_UP_TASK] == []
        since = await h.emu.current_seq()
        await h.ask(WANG, SENTENCE, "布置为哪种会议形式")
        read = [m.get("text") or "" for m in await h.emu.bot_messages(WANG) if m.get("seq", 0) > since]
        assert any("我从您的消息中读到" in text and "✓ 参会人数：12人" in text for text in read)
