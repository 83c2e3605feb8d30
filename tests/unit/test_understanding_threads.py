"""The reader used from two threads at once (start's warm-up thread and a request on the event
loop) reads each text as it reads it alone: jionlp and dateparser keep per-call state on shared
objects, so each is called one call at a time. And the warm-up thread's import silences only
jionlp's banner, not what the rest of the program prints meanwhile."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from bot.services.understanding import en_time, zh_time

ROOT = Path(__file__).resolve().parents[2]
BASE = datetime(2026, 12, 1, 9, 0)
ZH = ["明天上午9点到11点", "下周三下午2点到4点", "12月8日14:00-15:30", "后天晚上7点", "本周五上午10点到12点"]
EN = [
    "tomorrow 9-11am",
    "next Wednesday 2-4pm",
    "on 8 December 2:00-3:30pm",
    "Friday at 10",
    "in 3 days at 7pm",
]


def _readings(texts: list[str]) -> list[tuple[str, datetime]]:
    # each text against several "now"s: a call that picks up another call's time base shows
    return [(text, BASE + timedelta(days=day)) for day in range(6) for text in texts]


def test_chinese_and_english_read_in_parallel_threads_as_one_at_a_time() -> None:
    work = [(zh_time.read, *item) for item in _readings(ZH)]
    work += [(en_time.read, *item) for item in _readings(EN)]
    alone = [repr(read(text, now)) for read, text, now in work]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns inside every call, not once in 5 ms
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            for _ in range(3):
                together = list(pool.map(lambda job: repr(job[0](job[1], job[2])), work))
                assert together == alone
    finally:
        sys.setswitchinterval(switch)


def test_a_warm_up_thread_drops_jionlps_banner_and_nothing_else() -> None:
    script = (
        "import threading, time\n"
        "from bot.services.understanding import warm_up\n"
        "thread = threading.Thread(target=warm_up)\n"
        "thread.start()\n"
        "number = 0\n"
        "while thread.is_alive():\n"
        "    print(f'line {number}', flush=True)\n"
        "    number += 1\n"
        "    time.sleep(0.005)\n"
        "print(f'printed {number}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    printed = int(lines[-1].removeprefix("printed "))
    assert printed > 10  # the main thread printed all along the import
    assert lines[:-1] == [f"line {number}" for number in range(printed)]  # none lost, no banner
