"""Kill -9 trials outside pytest, any number of them (tests/crash/harness.py tells one trial).

    python bench/crash_trials.py [--trials 100] [--first-seed 7000] [--parallel 4]

Prints one summary line: trials, presses, acknowledged presses, acknowledged presses lost
(must be 0), reminders due / delivered, duplicate sends and reminders in flight at the kill,
unanswered presses (how many of them were stored anyway), and every failing trial with its seed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.crash.harness import run_trials


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=7000)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        seeds = list(range(args.first_seed, args.first_seed + args.trials))
        summary = asyncio.run(run_trials(seeds, Path(folder), parallel=args.parallel))
    print(summary.line())
    print(f"wall time {time.monotonic() - began:.0f} s, {args.parallel} trials at a time")
    for failure in summary.failures:
        print(f"seed {failure.seed} (kill after {failure.kill_after:.2f} s): {failure.problems}")
    return 1 if summary.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
