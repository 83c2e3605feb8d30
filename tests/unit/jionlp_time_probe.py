"""Reads the understanding cases' Chinese texts with jionlp's time extractor loaded alone and
with jionlp imported in full, and prints both as JSON.

    python -m tests.unit.jionlp_time_probe

tests/unit/test_jionlp_time.py runs it in a fresh interpreter (what is imported is decided
once per process). The texts are the ones the Chinese reader really hands to jionlp, after
its normalising and masking: every case of tests/unit/understanding_cases.py goes through
``understand`` with a recorder in front of the extractor, then a few phrases of its own.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.services.understanding import understand, zh_time
from bot.services.understanding.jionlp_time import time_extractor
from bot.site import load_site
from tests.unit.understanding_cases import CASES, NOW

ROOT = Path(__file__).resolve().parents[2]
EXTRA = ("明天下午2点到4点", "下周三上午九点半到十一点", "12月24日晚上7点", "后天14:00-16:30", "周五下午")


def _heavy_modules() -> list[str]:
    return sorted(name for name in ("numpy", "jiojio") if name in sys.modules)


def _jionlp_modules() -> list[str]:
    return sorted(name for name in sys.modules if name == "jionlp" or name.startswith("jionlp."))


def main() -> None:
    calls: list[tuple[str, datetime]] = []
    lean = time_extractor()
    after_load = {"heavy": _heavy_modules(), "jionlp_modules": _jionlp_modules()}

    def recorder(text: str, time_base: datetime, with_parsing: bool) -> Any:
        calls.append((text, time_base))
        return lean(text, time_base=time_base, with_parsing=with_parsing)

    zh_time.time_extractor = lambda: recorder  # type: ignore[assignment]  # the probe's own process
    site = load_site(ROOT / "examples" / "site.toml")
    for case in CASES:
        understand(case.text, site, NOW)
    base = datetime(2026, 12, 1, 9, 0)
    calls.extend((text, base) for text in EXTRA)
    lean_readings = [lean(text, time_base=when, with_parsing=True) for text, when in calls]

    import jionlp  # the whole library, imported as usual after the lean load

    full_readings = [jionlp.ner.extract_time(text, time_base=when, with_parsing=True) for text, when in calls]
    print(
        json.dumps(
            {
                "version": jionlp.__version__,
                "after_load": after_load,
                "texts": [text for text, _ in calls],
                "lean": lean_readings,
                "full": full_readings,
            },
            ensure_ascii=False,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
