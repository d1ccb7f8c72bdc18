"""The cost of the results pictures (bot/charts.py, Pillow): import time, memory, time per picture.

    python bench/charts_bench.py [--runs 5] [--pictures 20]

Each measurement runs in a fresh process, and the same run measures a baseline process that
does nothing (the interpreter alone), so import time and memory are what bot.charts adds:

* import: wall time of ``import bot.charts`` (Pillow and its C extensions included);
* memory: peak resident set (ru_maxrss) after the import, and after drawing every picture
  (fonts loaded, glyph caches warm), minus the baseline's;
* per picture: wall time of one poll picture (en, zh_Hans) and one decision picture (ru),
  the first (fonts opened, glyphs probed) and the median of the next ``--pictures``.

Prints one line per measure with the median over ``--runs`` processes (min-max in brackets).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(mode: str, pictures: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    out: dict[str, float] = {}
    if mode == "baseline":
        out["rss_import"] = out["rss_drawn"] = _rss()
        return out
    began = time.perf_counter()
    from bot import charts

    out["import_ms"] = (time.perf_counter() - began) * 1000
    out["rss_import"] = _rss()
    bars = [
        charts.Bar("Green", "7 (58%)", 7 / 12, True),
        charts.Bar("Blue", "4 (33%)", 4 / 12, False),
        charts.Bar("Leave it as it is", "1 (8%)", 1 / 12, False),
    ]
    zh = [
        charts.Bar("绿色", "7（58%）", 7 / 12, True),
        charts.Bar("蓝色", "4（33%）", 4 / 12, False),
        charts.Bar("保持原样", "1（8%）", 1 / 12, False),
    ]
    checks = [
        charts.Threshold(
            "Кворум по квартирам", "9/12 квартир (75 %)", "не менее 2/3", 0.75, 2 / 3, True
        ),
        charts.Threshold(
            "«За» по площади (из площади проголосовавших)",
            "610/800 м² (76,2 %)",
            "более 1/2",
            0.762,
            0.5,
            True,
        ),
    ]
    notes = ["Most votes: Green", "12 voters"]
    draws = {
        "poll_en": lambda: charts.poll_picture("Paint the gate?", bars, notes, "en"),
        "poll_zh": lambda: charts.poll_picture("大门刷成什么颜色？", zh, ["12 人投票"], "zh_Hans"),
        "decision_ru": lambda: charts.decision_picture(
            "Замена кровли", "ПРИНЯТО", True, checks, ["За 7 · Против 1"], "ru"
        ),
    }
    for name, draw in draws.items():
        began = time.perf_counter()
        png = draw()
        out[f"{name}_first_ms"] = (time.perf_counter() - began) * 1000
        times = []
        for _ in range(pictures):
            began = time.perf_counter()
            draw()
            times.append((time.perf_counter() - began) * 1000)
        out[f"{name}_ms"] = statistics.median(times)
        out[f"{name}_kb"] = len(png) / 1024
    out["rss_drawn"] = _rss()
    return out


def _rss() -> float:
    """Peak resident set of this process, MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(mode: str, pictures: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--pictures", str(pictures)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pictures", type=int, default=20)
    parser.add_argument("--child", choices=("baseline", "charts"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.pictures)))
        return 0
    base, full = [], []
    for _ in range(args.runs):  # interleaved: a busy machine weighs on both alike
        base.append(run("baseline", args.pictures))
        full.append(run("charts", args.pictures))

    def line(label: str, values: list[float], unit: str) -> None:
        mid = statistics.median(values)
        print(f"{label:<34} {mid:8.1f} {unit} [{min(values):.1f}-{max(values):.1f}]")

    print(f"{args.runs} runs, each in its own process; {args.pictures} pictures per kind")
    line("import bot.charts", [r["import_ms"] for r in full], "ms")
    rss0 = [r["rss_import"] for r in base]
    line("baseline process, peak RSS", rss0, "MB")
    line("+ after import", [f["rss_import"] - b for f, b in zip(full, rss0, strict=True)], "MB")
    line("+ after drawing", [f["rss_drawn"] - b for f, b in zip(full, rss0, strict=True)], "MB")
    for name in ("poll_en", "poll_zh", "decision_ru"):
        line(f"{name}, first picture", [r[f"{name}_first_ms"] for r in full], "ms")
        line(f"{name}, per picture (median)", [r[f"{name}_ms"] for r in full], "ms")
        line(f"{name}, PNG size", [r[f"{name}_kb"] for r in full], "KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
