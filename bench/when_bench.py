"""Benchmark of bot.domain.when against dateparser alone, on the labelled corpus.

    python bench/when_bench.py [--rounds 5]

Measured in one run:

1. cold start, each in a fresh subprocess: importing our module and the first parse per
   language (grammar), then warm() (dateparser's import and first parses); beside it,
   importing dateparser and its first parse per language alone.
2. warm latency per phrase over the whole corpus (tests/domain/test_when_corpus.py: the first
   corpus, the written files in tests/domain/when_corpus/ and the generated phrases): p50, p99
   and max of ``when.parse`` and of ``dateparser.parse(text, languages=[...], settings={...})``
   (PREFER_DATES_FROM=future, a naive local RELATIVE_BASE), with their ratio. Each phrase's
   latency is its median over the rounds.
3. correctness against the labels: ours, and how many dateparser alone gets right (a
   recurrence it cannot express counts as wrong; a refusal counts as right when dateparser
   returns nothing, or a moment a caller would refuse: past for when.past, beyond 5 years for
   when.too_far).
4. how many corpus phrases our grammar reads and how many fall back to dateparser.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dateutil.relativedelta import relativedelta  # noqa: E402

from bot.domain import when as when_module  # noqa: E402
from bot.domain.errors import DomainError  # noqa: E402
from bot.domain.when.core import _localize  # noqa: E402
from tests.domain.test_when_corpus import (  # noqa: E402
    CORPUS,
    FIRST_CORPUS,
    GENERATED,
    LABELLED,
    Case,
    local,
    matches,
)

DATEPARSER_CODES = {"en": "en", "zh_Hans": "zh", "ru": "ru"}
FIRST_PHRASES = {"en": "tomorrow at 9", "zh_Hans": "明天早上8点", "ru": "завтра в 9 утра"}

COLD_OURS = """
import json, sys, time
from datetime import datetime, timezone
t0 = time.perf_counter()
from bot.domain import when
t1 = time.perf_counter()
now = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)
result = {"import": (t1 - t0) * 1000}
for lang, phrase in json.loads(sys.argv[1]).items():
    t = time.perf_counter()
    when.parse(phrase, lang=lang, tz="Asia/Shanghai", now=now)
    result[lang] = (time.perf_counter() - t) * 1000
t = time.perf_counter()
when.warm()
result["warm"] = (time.perf_counter() - t) * 1000
print(json.dumps(result))
"""

COLD_DATEPARSER = """
import json, sys, time
from datetime import datetime
t0 = time.perf_counter()
import dateparser
t1 = time.perf_counter()
result = {"import": (t1 - t0) * 1000}
order = ["en", "zh", "ru"]
for lang, phrase in json.loads(sys.argv[1]).items():
    code = {"en": "en", "zh_Hans": "zh", "ru": "ru"}[lang]
    languages = [code] + [x for x in order if x != code]
    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": datetime(2026, 11, 21, 10)}
    t = time.perf_counter()
    dateparser.parse(phrase, languages=languages, settings=settings)
    result[lang] = (time.perf_counter() - t) * 1000
print(json.dumps(result))
"""


def cold(code: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(FIRST_PHRASES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return {k: float(v) for k, v in json.loads(done.stdout).items()}


def dateparser_languages(lang: str) -> list[str]:
    code = DATEPARSER_CODES[lang]
    return [code] + [x for x in ("en", "zh", "ru") if x != code]


def ours(case: Case) -> Any:
    try:
        return when_module.parse(case.text, lang=case.lang, tz=case.base.tz, now=case.base.aware())
    except DomainError as error:
        return error


def dateparser_alone(case: Case, dateparser: Any) -> Any:
    now = case.base.aware()
    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": now.replace(tzinfo=None)}
    return dateparser.parse(case.text, languages=dateparser_languages(case.lang), settings=settings)


def ours_right(case: Case, result: Any) -> bool:
    if case.error is not None:
        return isinstance(result, DomainError) and result.key == case.error
    return (
        not isinstance(result, DomainError)
        and case.first is not None
        and matches(result.first, case.first, case.base.aware())
        and result.rrule == case.rrule
    )


def dateparser_right(case: Case, found: datetime | None) -> bool:
    now = case.base.aware()
    if found is not None:
        zone = ZoneInfo(case.base.tz)
        found = found.astimezone(zone) if found.tzinfo else _localize(found, zone)
    if case.error is not None:
        if found is None:
            return True
        if case.error == "when.past":
            return found <= now
        if case.error == "when.too_far":
            return bool(found > now + relativedelta(years=5))
        return False
    return (
        found is not None
        and case.rrule is None
        and case.first is not None
        and matches(found, case.first, now)
    )


def timed(rounds: int, call: Any, cases: tuple[Case, ...]) -> list[float]:
    """Per phrase: the median over ``rounds`` of one call, in microseconds."""
    samples: list[list[float]] = [[] for _ in cases]
    for _ in range(rounds):
        for i, case in enumerate(cases):
            start = time.perf_counter()
            call(case)
            samples[i].append((time.perf_counter() - start) * 1e6)
    return [statistics.median(s) for s in samples]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    print(f"when.py benchmark — {len(CORPUS)} labelled phrases, {args.rounds} rounds")
    written = ", ".join(f"{name} {len(cases)}" for name, cases in LABELLED.items())
    by_lang = ", ".join(
        f"{lang} {sum(1 for c in CORPUS if c.lang == lang)}" for lang in ("en", "zh_Hans", "ru")
    )
    print(
        f"  first corpus {len(FIRST_CORPUS)}, written files ({written}), "
        f"generated {len(GENERATED)}; by language: {by_lang}\n"
    )

    ours_cold = cold(COLD_OURS)
    dp_cold = cold(COLD_DATEPARSER)
    print("cold start (fresh subprocess), ms")
    print(f"  {'':36}{'ours':>10}{'dateparser':>12}")
    print(f"  {'import':36}{ours_cold['import']:>10.1f}{dp_cold['import']:>12.1f}")
    for lang, phrase in FIRST_PHRASES.items():
        label = f"first parse {lang} ({phrase})"
        print(f"  {label:36}{ours_cold[lang]:>10.1f}{dp_cold[lang]:>12.1f}")
    print(f"  {'warm() (dateparser loaded)':36}{ours_cold['warm']:>10.1f}{'':>12}")
    ours_first = ours_cold["import"] + sum(ours_cold[lang] for lang in FIRST_PHRASES)
    dp_first = dp_cold["import"] + sum(dp_cold[lang] for lang in FIRST_PHRASES)
    print(f"  {'import + 3 first parses':36}{ours_first:>10.1f}{dp_first:>12.1f}\n")

    when_module.warm()
    import dateparser

    for case in CORPUS:  # one pass untimed: caches, lazy regexes
        ours(case)
        dateparser_alone(case, dateparser)
    ours_times = timed(args.rounds, ours, CORPUS)
    dp_times = timed(args.rounds, lambda case: dateparser_alone(case, dateparser), CORPUS)

    print("warm latency per phrase over the corpus, µs")
    print(f"  {'':8}{'ours':>10}{'dateparser':>12}{'ratio':>8}")
    for name, q in (("p50", 0.5), ("p99", 0.99), ("max", 1.0)):
        a, b = percentile(ours_times, q), percentile(dp_times, q)
        print(f"  {name:8}{a:>10.0f}{b:>12.0f}{b / a:>7.1f}x")
    a, b = statistics.fmean(ours_times), statistics.fmean(dp_times)
    print(f"  {'mean':8}{a:>10.0f}{b:>12.0f}{b / a:>7.1f}x")
    slowest = sorted(zip(ours_times, CORPUS, strict=True), key=lambda pair: -pair[0])[:5]
    print("  slowest of ours: " + ", ".join(f"{c.text!r} {t:.0f}" for t, c in slowest) + "\n")

    ours_ok = [ours_right(case, ours(case)) for case in CORPUS]
    dp_ok = [dateparser_right(case, dateparser_alone(case, dateparser)) for case in CORPUS]
    successes = [case.error is None for case in CORPUS]
    print("right against the labels")
    print(f"  {'':36}{'ours':>10}{'dateparser':>12}")
    print(f"  {'all phrases':36}{sum(ours_ok):>6}/{len(CORPUS):<4}{sum(dp_ok):>7}/{len(CORPUS):<4}")
    for lang in ("en", "zh_Hans", "ru"):
        idx = [i for i, case in enumerate(CORPUS) if case.lang == lang]
        label = f"  {lang}"
        print(
            f"  {label:36}{sum(ours_ok[i] for i in idx):>6}/{len(idx):<4}"
            f"{sum(dp_ok[i] for i in idx):>7}/{len(idx):<4}"
        )
    sources = (
        ("the first corpus", set(FIRST_CORPUS)),
        ("the written files", {c for cases in LABELLED.values() for c in cases}),
        ("  of them Traditional / Cantonese", set(LABELLED["zh_hant"])),
        ("generated from templates", set(GENERATED)),
    )
    for label, members in sources:
        idx = [i for i, case in enumerate(CORPUS) if case in members]
        print(
            f"  {'  ' + label:36}{sum(ours_ok[i] for i in idx):>6}/{len(idx):<4}"
            f"{sum(dp_ok[i] for i in idx):>7}/{len(idx):<4}"
        )
    kinds: tuple[tuple[str, Callable[[Case], bool]], ...] = (
        ("one-off moments", lambda c: c.error is None and c.rrule is None),
        ("recurrences", lambda c: c.rrule is not None),
        ("refusals", lambda c: c.error is not None),
    )
    for label, keep in kinds:
        idx = [i for i, case in enumerate(CORPUS) if keep(case)]
        print(
            f"  {'  ' + label:36}{sum(ours_ok[i] for i in idx):>6}/{len(idx):<4}"
            f"{sum(dp_ok[i] for i in idx):>7}/{len(idx):<4}"
        )
    wrong = [case for case, good in zip(CORPUS, ours_ok, strict=True) if not good]
    for case in wrong:
        print(f"  OURS WRONG: {case.id} -> {ours(case)!r}")
    print()

    readers: Counter[str] = Counter()
    for case in CORPUS:
        who = when_module.understood_by(
            case.text, lang=case.lang, tz=case.base.tz, now=case.base.aware()
        )
        readers[who or "nobody"] += 1
    print("who reads each corpus phrase")
    print(f"  grammar     {readers['grammar']:>4}")
    print(f"  dateparser  {readers['dateparser']:>4}  (fallback)")
    print(f"  nobody      {readers['nobody']:>4}  (refused as unparseable or empty)")
    fallbacks = [
        case
        for case in CORPUS
        if when_module.understood_by(
            case.text, lang=case.lang, tz=case.base.tz, now=case.base.aware()
        )
        == "dateparser"
    ]
    for case in fallbacks:
        shown = ours(case)
        shown = local(shown.first) if not isinstance(shown, DomainError) else shown.key
        print(f"    fallback: {case.text!r} -> {shown}")
    print(
        f"\n  one-off/recurring/refusal labels: {sum(successes)} successes, "
        f"{len(CORPUS) - sum(successes)} refusals"
    )


if __name__ == "__main__":
    main()
