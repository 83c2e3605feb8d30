"""How well ``understand`` reads the hand-written requests of tests/unit/understanding_cases.py.

    uv run python bench/understanding.py [--repeat N] [--verbose]

Prints, per language and overall, the share of expected fields found, the number of wrong
fields (the goal is 0), the cases that fall short, and the time per request (after a
warm-up: jionlp's first import takes about a second and is reported apart). Exits with 1
when any field is wrong.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.services.understanding import understand, warm_up  # noqa: E402
from bot.site import load_site  # noqa: E402
from tests.unit.understanding_cases import CASES, NOW, Score, score  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timing runs over all cases (default 20)")
    parser.add_argument("--verbose", action="store_true", help="print every case's missed fields too")
    args = parser.parse_args()
    site = load_site(ROOT / "examples" / "site.toml")
    started = time.perf_counter()
    warm_up()
    warm = time.perf_counter() - started

    totals: dict[str, Score] = {"zh": Score(), "en": Score()}
    short: list[tuple[str, Score]] = []
    for case in CASES:
        result = understand(case.text, site, NOW)
        mark = score(case, result)
        total = totals[case.language]
        total.expected += mark.expected
        total.found += mark.found
        total.wrong += mark.wrong
        if mark.wrong or mark.missed:
            short.append((case.text, mark))

    timings: dict[str, list[float]] = {"zh": [], "en": []}
    for _ in range(args.repeat):
        for case in CASES:
            begin = time.perf_counter()
            understand(case.text, site, NOW)
            timings[case.language].append(time.perf_counter() - begin)

    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {platform.system()} "
        f"python {platform.python_version()}".replace("  ", " ")
    )
    print(f"warm-up (imports jionlp and dateparser): {warm:.2f} s")
    print(
        f"{'':8}{'cases':>6}{'fields':>8}{'found':>7}{'share':>8}{'wrong':>7}{'median ms':>11}{'p95 ms':>8}"
    )
    overall = Score()
    for language in ("zh", "en"):
        total = totals[language]
        overall.expected += total.expected
        overall.found += total.found
        overall.wrong += total.wrong
        times = sorted(timings[language])
        count = sum(1 for case in CASES if case.language == language)
        print(
            f"{language:8}{count:>6}{total.expected:>8}{total.found:>7}{total.found / total.expected:>8.1%}"
            f"{len(total.wrong):>7}{statistics.median(times) * 1000:>11.1f}"
            f"{times[int(len(times) * 0.95)] * 1000:>8.1f}"
        )
    every = sorted(timings["zh"] + timings["en"])
    print(
        f"{'overall':8}{len(CASES):>6}{overall.expected:>8}{overall.found:>7}"
        f"{overall.found / overall.expected:>8.1%}{len(overall.wrong):>7}"
        f"{statistics.median(every) * 1000:>11.1f}{every[int(len(every) * 0.95)] * 1000:>8.1f}"
    )
    if short:
        print(f"\ncases that fall short ({len(short)}):")
        for text, mark in short:
            print(f"- {text}")
            for wrong in mark.wrong:
                print(f"    WRONG {wrong}")
            print(f"    missed: {', '.join(mark.missed) or '-'}")
    return 1 if overall.wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
