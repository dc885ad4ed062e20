"""The hostile-input runner (benchmarks/hostile_inputs.py) on a subset: 0 tracebacks, 0 wrong
diagnoses, 0 silent changes and 0 hangs, each case in a capped child process."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import pytest
from hostile import ANY, Hostile, catalogue, fuzz_cases

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "hostile_inputs.py"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork and RLIMIT_AS: Linux")


def _runner():
    spec = importlib.util.spec_from_file_location("hostile_inputs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SUBSET = (
    "c1-keys-of-close-power-limits",
    "c2-model-labels-not-inferred",
    "c3-zeus-1k",
    "c4-datetime-lengths",
    "c5-gzip-8mib-line",
    "c5-store-4mib-line",
    "c6-measure-idle-1e9",
    "c7-measure-seed-minus-1",
    "c7-manifest-nested-100000",
    "c7-zip-two-csvs",
)


def test_runner_subset_has_no_traceback_silent_change_or_hang() -> None:
    runner = _runner()
    cases = [c for c in catalogue() if c.id in SUBSET] + fuzz_cases(3, seed=1)
    cases += runner.earlier_catalogue()[:6]
    out = io.StringIO()
    result = runner.run(cases, timeout=120, memory_mb=1536, out=out)
    totals = result["totals"]
    assert totals["cases"] == len(cases)
    for outcome in runner.BAD:
        assert totals[outcome] == 0, out.getvalue()
    assert "totals: " in out.getvalue()


def test_runner_reports_what_goes_wrong() -> None:
    runner = _runner()

    def boom(tmp: Path) -> object:
        raise KeyError("x")

    def forever(tmp: Path) -> object:
        while True:
            pass

    def hog(tmp: Path) -> object:
        return bytearray(4 << 30)  # beyond the cap

    cases = [
        Hostile("t-traceback", 7, boom, match=ANY),
        Hostile("t-silent", 7, lambda tmp: 1, match="an error"),
        Hostile("t-hang", 7, forever),
        Hostile("t-memory", 7, hog),
        Hostile("t-pending", 7, boom, bug="elsewhere"),
    ]
    out = io.StringIO()
    result = runner.run(cases, timeout=2, memory_mb=512, out=out)
    totals = result["totals"]
    assert (totals["traceback"], totals["silent change"], totals["hang"]) == (1, 1, 2)
    assert [p[0] for p in result["pending"]] == ["t-pending"]
    assert "totals: 4 cases" in out.getvalue()
