"""Hostile inputs: run the bad-input catalogue and the fuzz of every reader, print the totals.

Issue 14 asks that every reader, the store and every command answer a bad or hostile input
with a library error (one line on the command line) or a value equal to what the input says:
0 tracebacks, 0 silent changes, 0 hangs or memory blow-ups. This script runs

- the earlier bad-input catalogue of ``tests/test_bad_inputs.py`` (``read_measurements`` and
  ``sweetspot fit`` on each malformed file),
- the catalogue of the seven classes of issue 14 (``tests/hostile.py``: point identity,
  labels, window names, column kinds, memory, bounds, tracebacks),
- ``--fuzz`` generated inputs for each of the ten readers (CSV, Parquet, Zeus, CodeCarbon,
  Wilkins, request mixes, trtllm-bench, the store, saved fits, parameter tables), each with
  an oracle that compares what was read with what the input says,

each in a forked child process with its address space capped (``--memory-mb`` above the
parent's) and a time limit (``--timeout``), and prints the cases that went wrong, then the
totals. Run from the repository root::

    python benchmarks/hostile_inputs.py                     # catalogue + 100 inputs per reader
    python benchmarks/hostile_inputs.py --fuzz 1000 --heavy # also the gigabyte cases

Cases marked with a pending fix in a module owned elsewhere are run and reported on their
own line, outside the totals. The exit code is 0 when the totals hold no traceback, wrong
diagnosis, silent change or hang. Linux only (fork, RLIMIT_AS).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import hostile  # noqa: E402  (tests/hostile.py)

BAD = ("traceback", "wrong diagnosis", "silent change", "hang")
CLASSES = {
    0: "earlier catalogue",
    1: "point identity",
    2: "labels as written",
    3: "window names",
    4: "column kinds",
    5: "memory",
    6: "bounds",
    7: "tracebacks",
}


def earlier_catalogue() -> list[hostile.Hostile]:
    """The malformed files of tests/test_bad_inputs.py, through the reader and the command."""
    import test_bad_inputs as bad  # tests/test_bad_inputs.py

    import sweetspot as ss

    out = []
    for case in bad.CASES:
        out.append(
            hostile.Hostile(
                f"c0-read-{case.id}",
                0,
                lambda tmp, c=case: ss.read_measurements(c.write(tmp)),
                match=case.match,
            )
        )
        out.append(
            hostile.Hostile(
                f"c0-cli-fit-{case.id}",
                0,
                lambda tmp, c=case: hostile.cli("fit", str(c.write(tmp))),
                match=case.match,
            )
        )
    return out


def _vm_bytes() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return 0


def run_case(case: hostile.Hostile, *, timeout: float, memory_mb: int) -> tuple[str, str, float]:
    """Run one case in a forked child; return ``(outcome, detail, seconds)``."""
    tmp = Path(tempfile.mkdtemp(prefix="sweetspot-hostile-"))
    cap = _vm_bytes() + memory_mb * (1 << 20)
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        try:
            if cap > memory_mb * (1 << 20):
                resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
            result = hostile.classify(case, tmp)
        except MemoryError:
            result = ("hang", "MemoryError (out of memory)")
        except BaseException as exc:  # the judge itself failed
            result = ("traceback", f"{type(exc).__name__}: {exc}")
        try:
            os.write(write_fd, json.dumps(result).encode("utf-8", "replace"))
        finally:
            os._exit(0)
    os.close(write_fd)
    chunks: list[bytes] = []
    outcome: tuple[str, str] | None = None
    try:
        while True:
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                outcome = ("hang", f"no answer in {timeout:g} s")
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if ready:
                data = os.read(read_fd, 1 << 16)
                if not data:
                    break
                chunks.append(data)
        _, status = os.waitpid(pid, 0)
        if outcome is None:
            try:
                found = json.loads(b"".join(chunks).decode("utf-8"))
                outcome = (str(found[0]), str(found[1]))
            except (ValueError, IndexError):
                how = (
                    f"killed by signal {os.WTERMSIG(status)}"
                    if os.WIFSIGNALED(status)
                    else f"exit {os.WEXITSTATUS(status)}"
                )
                outcome = ("hang", f"the child died without an answer ({how}): memory?")
    finally:
        os.close(read_fd)
        shutil.rmtree(tmp, ignore_errors=True)
    return outcome[0], outcome[1], time.monotonic() - start


def run(
    cases: Iterable[hostile.Hostile],
    *,
    timeout: float = 120.0,
    memory_mb: int = 1536,
    out: Any = sys.stdout,
) -> dict[str, Any]:
    """Run ``cases``; print the cases that went wrong and the totals; return the counts.

    Returns
    -------
    dict
        ``totals`` (a Counter over the outcomes of the cases without a pending fix),
        ``groups`` (the same per class or reader), ``pending`` (``(case id, outcome,
        detail)`` of the cases whose fix is pending elsewhere) and ``slowest``.
    """
    totals: collections.Counter[str] = collections.Counter()
    groups: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    pending: list[tuple[str, str, str]] = []
    slowest = ("", 0.0)
    for case in cases:
        outcome, detail, seconds = run_case(case, timeout=timeout, memory_mb=memory_mb)
        if seconds > slowest[1]:
            slowest = (case.id, seconds)
        if case.bug:
            pending.append((case.id, outcome, detail))
            continue
        group = (
            f"fuzz {case.id.split('-')[1]}"
            if case.id.startswith("fuzz-")
            else f"class {case.cls} {CLASSES[case.cls]}"
        )
        totals["cases"] += 1
        totals[outcome] += 1
        groups[group]["cases"] += 1
        groups[group][outcome] += 1
        if outcome in BAD:
            print(f"  {outcome}: {case.id}: {detail[:300]}", file=out)
    width = max((len(g) for g in groups), default=10)
    for group, counts in groups.items():
        print(f"  {group:<{width}}  {_line(counts)}", file=out)
    print(f"totals: {_line(totals)}", file=out)
    if pending:
        print(
            f"pending fixes in modules owned elsewhere ({len(pending)} case(s), not in the "
            "totals):",
            file=out,
        )
        for case_id, outcome, detail in pending:
            print(f"  {case_id}: {outcome}: {detail[:160]}", file=out)
    print(f"slowest case: {slowest[0]} ({slowest[1]:.1f} s)", file=out)
    return {"totals": totals, "groups": groups, "pending": pending, "slowest": slowest}


def _line(counts: collections.Counter[str]) -> str:
    return (
        f"{counts['cases']} cases, {counts['library error']} library errors, "
        f"{counts['accepted']} accepted (values checked), {counts['traceback']} tracebacks, "
        f"{counts['wrong diagnosis']} wrong diagnoses, {counts['silent change']} silent "
        f"changes, {counts['hang']} hangs"
    )


def all_cases(*, fuzz: int, seed: int, heavy: bool) -> list[hostile.Hostile]:
    """The earlier catalogue, the seven classes and ``fuzz`` inputs per reader."""
    cases = [*earlier_catalogue(), *hostile.catalogue(), *hostile.fuzz_cases(fuzz, seed)]
    return [c for c in cases if heavy or not c.heavy]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fuzz", type=int, default=100, help="inputs per reader (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fuzz (default 0)")
    parser.add_argument("--heavy", action="store_true", help="also the gigabyte cases")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    parser.add_argument(
        "--memory-mb", type=int, default=1536, help="address space per case above the parent's"
    )
    args = parser.parse_args(argv)
    cases = all_cases(fuzz=args.fuzz, seed=args.seed, heavy=args.heavy)
    print(
        f"hostile inputs: {len(cases)} cases (earlier catalogue, issue 14's seven classes"
        f"{' with the heavy ones' if args.heavy else ''}, {args.fuzz} fuzz inputs for each of "
        f"{len(hostile.GENERATORS)} readers, seed {args.seed}); each in a child capped at "
        f"+{args.memory_mb} MiB and {args.timeout:g} s"
    )
    t0 = time.monotonic()
    result = run(cases, timeout=args.timeout, memory_mb=args.memory_mb)
    print(f"wall time: {time.monotonic() - t0:.0f} s")
    return 1 if any(result["totals"][k] for k in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
