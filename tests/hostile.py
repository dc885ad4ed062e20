"""Hostile inputs (issue 14): the catalogue of the seven classes, fuzz generators with their
oracles, and the one way an outcome is judged.

Shared by ``tests/test_bad_inputs.py`` (the catalogue, case by case),
``tests/test_hostile_fuzz.py`` (hypothesis drives the generators) and
``benchmarks/hostile_inputs.py`` (runs everything in capped child processes and prints the
totals). An outcome is one of:

- ``library error``: a :class:`~sweetspot.exceptions.SweetspotError` whose message matches
  what the case expects (for the CLI: a non-zero exit with one ``error:`` line);
- ``accepted``: a value the case's check confirms equals what the input says;
- ``traceback``: any other exception (for the CLI: a traceback, an ``internal error`` or more
  than one error line);
- ``wrong diagnosis``: a library error with the wrong message, or a valid input refused;
- ``silent change``: an input that must be refused was accepted, or a value differs from
  what the input says;
- ``hang``: out of time or memory (judged by the runner; see the benchmark script).

A fuzz case accepts either a library error or a value whose oracle passes.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import random
import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sweetspot as ss
from sweetspot.exceptions import SweetspotError

OUTCOMES = ("library error", "accepted", "traceback", "wrong diagnosis", "silent change", "hang")
GOOD_OUTCOMES = ("library error", "accepted")
THETA = np.array([2.0e-6, 3.0e-5, 4.0e-3, 5.0e-5, 30.0, 0.35])
ANY = object()  # `match` of a case that accepts any library error (the fuzz cases)


@dataclass(frozen=True)
class Hostile:
    """One hostile input: how to run it, and what must come of it.

    ``run(tmp)`` builds the input under the folder ``tmp`` and calls the reader or command,
    returning its value (a :class:`CliRun` for a command). ``match`` is the regular expression
    the library error must match (None: the input is valid and must be accepted; ``ANY``:
    either outcome is fine). ``check(value, tmp)`` raises AssertionError when an accepted
    value differs from what the input says. ``bug`` names the module owned elsewhere whose
    fix is pending (the test is then a strict xfail); ``heavy`` cases (gigabytes) run only in
    the benchmark script.
    """

    id: str
    cls: int
    run: Callable[[Path], Any]
    match: Any = None
    check: Callable[[Any, Path], None] | None = None
    bug: str = ""
    heavy: bool = False


@dataclass(frozen=True)
class CliRun:
    """What a ``sweetspot`` command did: exit code and output."""

    rc: int
    out: str
    err: str


def cli(*argv: str) -> CliRun:
    """Run ``sweetspot *argv`` in this process, capturing its output."""
    from sweetspot.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(list(argv))
        except SystemExit as exc:  # argparse
            rc = exc.code if isinstance(exc.code, int) else 2
    return CliRun(int(rc), out.getvalue(), err.getvalue())


def classify(case: Hostile, tmp: Path) -> tuple[str, str]:
    """Run ``case`` in ``tmp`` and judge it: ``(outcome, detail)`` (see the module docstring)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = case.run(tmp)
        except SweetspotError as exc:
            return _judge_error(case, str(exc))
        except MemoryError:
            return "hang", "MemoryError (out of memory)"
        except Exception as exc:
            return "traceback", f"{type(exc).__name__}: {str(exc)[:300]}"
    if isinstance(value, CliRun) and value.rc != 0:
        errors = [line for line in value.err.splitlines() if ": error: " in line]
        if "Traceback" in value.err or "internal error" in value.err or len(errors) != 1:
            return "traceback", value.err[-400:]
        return _judge_error(case, errors[0])
    if case.match is not None and case.match is not ANY:
        return "silent change", f"accepted an input that must be refused: {str(value)[:200]}"
    if case.check is not None:
        try:
            case.check(value, tmp)
        except AssertionError as exc:
            return "silent change", str(exc)[:400]
        except Exception as exc:  # the value itself is broken
            return "traceback", f"checking the value: {type(exc).__name__}: {str(exc)[:300]}"
    return "accepted", ""


def _judge_error(case: Hostile, message: str) -> tuple[str, str]:
    if case.match is ANY:
        return "library error", ""
    if case.match is None:
        return "wrong diagnosis", f"refused a valid input: {message[:300]}"
    if not re.search(case.match, message):
        return "wrong diagnosis", f"message does not match {case.match!r}: {message[:300]}"
    return "library error", ""


# ================================================================= helpers for the cases


def write(tmp: Path, name: str, content: bytes | str) -> Path:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def read(name: str, content: bytes | str, **kw: Any) -> Callable[[Path], Any]:
    def run(tmp: Path) -> Any:
        return ss.read_measurements(write(tmp, name, content), **kw)

    return run


def frame(**columns: Any) -> Callable[[Path], Any]:
    def run(tmp: Path) -> Any:
        return ss.read_measurements(pd.DataFrame(columns))

    return run


def column_is(name: str, expected: list[Any]) -> Callable[[Any, Path], None]:
    def check(value: Any, tmp: Path) -> None:
        got = list(value[name])
        assert got == expected, f"{name} read as {got}, the file says {expected}"

    return check


def zeus(window: str, energy: str = "100.0") -> Callable[[Path], Any]:
    from sweetspot.io import read_zeus

    text = f'start_time,window_name,elapsed_time,gpu0_energy\n1.5,"{window}",2.0,{energy}\n'
    return lambda tmp: read_zeus(write(tmp, "zeus.csv", text))


def codecarbon(name: str, **kw: Any) -> Callable[[Path], Any]:
    from sweetspot.io import read_codecarbon

    text = (
        "timestamp,project_name,duration,gpu_energy,energy_consumed,gpu_count,python_version\n"
        f'2025-01-01T00:00:00,"{name}",10.0,0.001,0.002,1,3.10\n'
    )
    return lambda tmp: read_codecarbon(write(tmp, "emissions.csv", text), **kw)


GRID = "n_in,n_out,energy_j\n64,64,10.5\n128,64,20.25\n"


def _grid_with_models(models: list[str]) -> str:
    rows = []
    for m in models:
        for ni in (64, 256, 1024, 4096):
            for no in (64, 256, 1024, 4096):
                e = float(ss.energy(THETA, ni, no)) * (1 + 0.5 * models.index(m))
                rows.append(f"{ni},{no},{e!r},{m}")
    return "n_in,n_out,energy_j,model\n" + "\n".join(rows) + "\n"


def _sweep(tmp: Path, out: str = "s", **kw: Any) -> Any:
    from sweetspot.harness.sweep import SweepSpec, run_sweep

    spec = SweepSpec(
        **{
            "model": "llama-3.2-1b",
            "engine": "fake",
            "n_in": (64,),
            "n_out": (64,),
            "requests": (2,),
            "cooldown_s": 0.5,
            "min_window_s": 0.5,
            "idle_s": 0.5,
            **kw,
        }
    )
    return run_sweep(spec, tmp / out)


def _keys_of_two_power_limits(tmp: Path) -> Any:
    report = _sweep(tmp, power_limit_w=(300.0001, 300.0002))
    points = [json.loads(x) for x in (tmp / "s" / "points.jsonl").read_text().splitlines()]
    return report, points


def _check_two_points(value: Any, tmp: Path) -> None:
    report, points = value
    assert report.total == 2, f"the sweep stored {report.total} point(s) for 2 power limits"
    assert len({p["point_key"] for p in points}) == 2, "two power limits share one key"


def _resume_with_coarse_keys(tmp: Path) -> Any:
    _sweep(tmp, power_limit_w=(300.0001,))
    log = tmp / "s" / "points.jsonl"
    # a store written by a sweetspot whose keys rounded to 6 digits ("300")
    log.write_text(log.read_text().replace("power_limit_w=300.0001", "power_limit_w=300"))
    from sweetspot.harness.sweep import SweepSpec, run_sweep

    spec = SweepSpec(
        model="llama-3.2-1b",
        engine="fake",
        n_in=(64,),
        n_out=(64,),
        requests=(2,),
        cooldown_s=0.5,
        min_window_s=0.5,
        idle_s=0.5,
        power_limit_w=(300.0001,),
    )
    return run_sweep(spec, tmp / "s", resume=True)


def _measure_leaves_nothing(*extra: str) -> Callable[[Path], Any]:
    def run(tmp: Path) -> Any:
        out = tmp / "store"
        result = cli(
            "measure",
            "--engine",
            "fake",
            "--model",
            "llama-3.2-1b",
            "--n-in",
            "64",
            "--n-out",
            "64",
            "--out",
            str(out),
            "--quiet",
            *extra,
        )
        if out.exists():  # a half-made store blocks the corrected command: a silent change
            return CliRun(0, "", f"left {sorted(p.name for p in out.iterdir())}")
        return result

    return run


def _gzip_long_line(size: int) -> Callable[[Path], Any]:
    def run(tmp: Path) -> Any:
        path = tmp / "long.csv.gz"
        with gzip.open(path, "wb", compresslevel=1) as fh:
            fh.write(b"n_in,n_out,energy_j\n64,64,")
            chunk = b"9" * (1 << 20)
            for _ in range(size >> 20):
                fh.write(chunk)
            fh.write(b"\n")
        return ss.read_measurements(path)

    return run


def _gzip_bomb(tmp: Path) -> Any:
    path = tmp / "bomb.csv.gz"
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(b"n_in,n_out,energy_j\n")
        chunk = b"64,64,1\n" * (1 << 17)  # 1 MiB of rows
        for _ in range(200):
            fh.write(chunk)
    return ss.read_measurements(path)


def _store_long_line(size: int) -> Callable[[Path], Any]:
    def run(tmp: Path) -> Any:
        store = tmp / "store"
        store.mkdir()
        with open(store / "points.jsonl", "wb") as fh:
            fh.write(b'{"n_in": 1, "n_out": 1, "energy_j": 1, "x": "')
            chunk = b"a" * (1 << 20)
            for _ in range(size >> 20):
                fh.write(chunk)
            fh.write(b'"}\n')
        return ss.read_measurements(store)

    return run


def _store_deep_manifest(tmp: Path) -> Any:
    store = tmp / "store"
    store.mkdir()
    (store / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    (store / "points.jsonl").write_text(
        '{"point_key": "a", "n_in": 1, "n_out": 1, "energy_j": 1}\n'
    )
    return ss.read_measurements(store)


def _store_deep_point(tmp: Path) -> Any:
    store = tmp / "store"
    store.mkdir()
    (store / "points.jsonl").write_text('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    return ss.read_measurements(store)


def _zip(members: dict[str, str]) -> Callable[[Path], Any]:
    def run(tmp: Path) -> Any:
        import zipfile

        path = tmp / "a.csv.zip"
        with zipfile.ZipFile(path, "w") as z:
            for name, text in members.items():
                z.writestr(name, text)
        return ss.read_measurements(path)

    return run


def _pipe(tmp: Path) -> Any:
    code = (
        "import warnings, json, sweetspot as ss; warnings.simplefilter('ignore'); "
        "df = ss.read_measurements('/dev/stdin', format='csv'); "
        "print(json.dumps(df[['n_in', 'n_out', 'energy_j']].values.tolist()))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], input=GRID.encode(), capture_output=True, timeout=120
    )
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise ss.MeasurementError(" ".join(tail))
    return json.loads(proc.stdout)


def _fit_file(tmp: Path) -> Path:
    return write(tmp, "grid.csv", _grid_with_models(["m"]))


def _cli_fit_save(tmp: Path) -> Any:
    blocker = write(tmp, "file", "not a folder")
    return cli(
        "fit", str(_fit_file(tmp)), "--model", "sweetspot", "--save", str(blocker / "f.json")
    )


def _cli_report_plots(tmp: Path) -> Any:
    blocker = write(tmp, "file", "not a folder")
    return cli("report", "--model", "llama-2-7b", "--plots", str(blocker / "plots"))


def _big_parquet_footer(tmp: Path) -> Any:
    from sweetspot.io import _files

    path = tmp / "a.parquet"
    pd.DataFrame({"n_in": [64] * 1000, "n_out": [64] * 1000, "energy_j": 1.0}).to_parquet(path)
    old = _files.MAX_PARQUET_BYTES
    _files.MAX_PARQUET_BYTES = 10  # as if the footer declared more than 4 GiB
    try:
        return ss.read_measurements(path)
    finally:
        _files.MAX_PARQUET_BYTES = old


# ================================================================= the catalogue

M = r"."  # any message of a library error


def catalogue() -> list[Hostile]:
    """Every hostile input of issue 14's seven classes, with the expected outcome."""
    from sweetspot.harness.sweep import SweepPoint

    dtcol = pd.to_datetime([1, 2])
    cases = [
        # 1. point identity ------------------------------------------------------------
        Hostile(
            "c1-keys-of-close-power-limits",
            1,
            lambda tmp: {
                SweepPoint(n_in=1, n_out=1, n_requests=1, power_limit_w=w).key
                for w in (300.0001, 300.0002)
            },
            check=lambda v, tmp: _assert(len(v) == 2, f"one key for two power limits: {v}"),
        ),
        Hostile(
            "c1-keys-unchanged-for-round-limits",
            1,
            lambda tmp: SweepPoint(n_in=1, n_out=1, n_requests=1, power_limit_w=300.0).key,
            check=lambda v, tmp: _assert("power_limit_w=300|" in v, v),
        ),
        Hostile(
            "c1-sweep-over-close-power-limits",
            1,
            _keys_of_two_power_limits,
            check=_check_two_points,
        ),
        Hostile(
            "c1-resume-store-of-another-grid",
            1,
            _resume_with_coarse_keys,
            match=r"grid does not have.*power_limit_w=300\|",
        ),
        # 2. labels kept as written ----------------------------------------------------
        Hostile(
            "c2-model-labels-not-inferred",
            2,
            read(
                "a.csv", "n_in,n_out,energy_j,model\n1,1,1,1.1\n2,2,2,1.10\n3,3,3,007\n4,4,4,1e3\n"
            ),
            check=column_is("model", ["1.1", "1.10", "007", "1e3"]),
        ),
        Hostile(
            "c2-gpu-and-dtype-labels",
            2,
            read("a.csv", "n_in,n_out,energy_j,gpu,dtype\n1,1,1,100,16\n2,2,2,100.0,016\n"),
            check=lambda v, tmp: _assert(
                list(v["gpu"]) == ["100", "100.0"] and list(v["dtype"]) == ["16", "016"],
                f"{list(v['gpu'])} {list(v['dtype'])}",
            ),
        ),
        Hostile(
            "c2-extra-none-na-text",
            2,
            read("a.csv", "n_in,n_out,energy_j,note\n1,1,1,None\n2,2,2,NA\n3,3,3,null\n"),
            check=column_is("note", ["None", "NA", "null"]),
        ),
        Hostile(
            "c2-extra-identifier-columns",
            2,
            read("a.csv", "n_in,n_out,energy_j,run_id,python_version\n1,1,1,007,3.10\n"),
            check=lambda v, tmp: _assert(
                v["run_id"].iloc[0] == "007" and v["python_version"].iloc[0] == "3.10",
                f"{v['run_id'].iloc[0]!r} {v['python_version'].iloc[0]!r}",
            ),
        ),
        Hostile(
            "c2-column-map-to-model",
            2,
            read("a.csv", "n_in,n_out,energy_j,llm\n1,1,1,1.10\n", column_map={"llm": "model"}),
            check=column_is("model", ["1.10"]),
        ),
        Hostile(
            "c2-codecarbon-version-text",
            2,
            codecarbon("n_in=8 n_out=4"),
            check=column_is("python_version", ["3.10"]),
        ),
        Hostile(
            "c2-fit-group-model-keeps-1.1-and-1.10",
            2,
            lambda tmp: cli(
                "fit",
                str(write(tmp, "a.csv", _grid_with_models(["1.1", "1.10"]))),
                "--group",
                "model",
                "--model",
                "sweetspot",
                "--json",
            ),
            check=lambda v, tmp: _assert(
                '"1.10"' in v.out and '"1.1"' in v.out, f"groups: {v.out[:300]}"
            ),
        ),
        # 3. strict window names -------------------------------------------------------
        Hostile(
            "c3-zeus-1k", 3, zeus("n_in=512 n_out=1k"), match=r"n_out.*'1k'.*n_in=512 n_out=1k"
        ),
        Hostile("c3-zeus-decimal", 3, zeus("n_in=512.7 n_out=5"), match=r"n_in.*'512\.7'"),
        Hostile("c3-zeus-exponent", 3, zeus("n_in=5e2 n_out=5"), match=r"n_in.*'5e2'"),
        Hostile("c3-zeus-negative", 3, zeus("n_in=-5 n_out=5"), match=r"n_in.*'-5'"),
        Hostile("c3-zeus-empty-value", 3, zeus("n_out=5 n_in="), match=r"n_in has no value"),
        Hostile("c3-zeus-value-is-a-key", 3, zeus("n_in= n_out=5"), match=r"n_in.*got 'n_out'"),
        Hostile(
            "c3-zeus-fullwidth-digits", 3, zeus("n_in=５１２ n_out=5"), match=r"n_in.*'５１２'"
        ),
        Hostile(
            "c3-zeus-repeated-key", 3, zeus("n_in=512 n_out=5 n_in=256"), match=r"n_in 2 times"
        ),
        Hostile(
            "c3-zeus-glued-key",
            3,
            zeus("n_in=512n_out=5"),
            match=r"n_in.*'512n_out'",
        ),
        Hostile(
            "c3-zeus-key-inside-a-word",
            3,
            zeus("my_n_in=512 n_out=5"),
            match=r"cannot tell n_in",
        ),
        Hostile(
            "c3-zeus-repeated-same-value",
            3,
            zeus("n_in=512 n_out=5 n_in=512"),
            check=lambda v, tmp: _assert(
                (v["n_in"].iloc[0], v["n_out"].iloc[0]) == (512, 5), str(v[["n_in", "n_out"]])
            ),
        ),
        Hostile(
            "c3-zeus-pattern-part-of-a-decimal",
            3,
            lambda tmp: ss.io.read_zeus(
                write(
                    tmp,
                    "z.csv",
                    'start_time,window_name,elapsed_time,gpu0_energy\n1,"in=512.7,out=5",1,1\n',
                ),
                window_pattern=r"in=(?P<n_in>\d+).*out=(?P<n_out>\d+)",
            ),
            match=r"not a whole token.*'512'",
        ),
        Hostile(
            "c3-zeus-pattern-greedy-group",
            3,
            lambda tmp: ss.io.read_zeus(
                write(
                    tmp,
                    "z.csv",
                    'start_time,window_name,elapsed_time,gpu0_energy\n1,"in=5x out=5",1,1\n',
                ),
                window_pattern=r"in=(?P<n_in>\S+) out=(?P<n_out>\d+)",
            ),
            match=r"n_in.*'5x'",
        ),
        Hostile(
            "c3-zeus-fractional-constant",
            3,
            lambda tmp: ss.io.read_zeus(
                write(tmp, "z.csv", "start_time,window_name,elapsed_time,gpu0_energy\n1,a,1,1\n"),
                n_in=512.7,
                n_out=5,
            ),
            match=r"n_in must be a whole number.*512\.7",
        ),
        Hostile("c3-codecarbon-1k", 3, codecarbon("n_in=1k n_out=5"), match=r"n_in.*'1k'"),
        Hostile(
            "c3-codecarbon-repeated",
            3,
            codecarbon("n_in=8 n_out=4 n_out=2"),
            match=r"n_out 2 times",
        ),
        # 4. wrong-kind columns --------------------------------------------------------
        Hostile(
            "c4-datetime-lengths",
            4,
            frame(n_in=dtcol, n_out=[1, 2], energy_j=[1.0, 2]),
            match=r"n_in.*datetime64",
        ),
        Hostile(
            "c4-timedelta-lengths",
            4,
            frame(n_in=pd.to_timedelta([1, 2]), n_out=[1, 2], energy_j=[1.0, 2]),
            match=r"n_in.*timedelta64",
        ),
        Hostile(
            "c4-period-lengths",
            4,
            frame(
                n_in=pd.period_range("2000", periods=2, freq="D"), n_out=[1, 2], energy_j=[1.0, 2]
            ),
            match=r"n_in.*period",
        ),
        Hostile(
            "c4-complex-energy",
            4,
            frame(n_in=[1, 2], n_out=[1, 2], energy_j=np.array([1 + 0j, 2])),
            match=r"energy_j.*complex",
        ),
        Hostile(
            "c4-categorical-lengths",
            4,
            frame(n_in=pd.Categorical([64, 128]), n_out=[1, 2], energy_j=[1.0, 2]),
            match=r"n_in.*categor",
        ),
        Hostile(
            "c4-object-datetime-cells",
            4,
            frame(n_in=[64, pd.Timestamp("2024-01-01")], n_out=[1, 2], energy_j=[1.0, 2]),
            match=r"n_in.*Timestamp.*row 1",
        ),
        Hostile(
            "c4-object-bool-cells",
            4,
            frame(n_in=[64, True], n_out=[1, 2], energy_j=[1.0, 2]),
            match=r"n_in.*boolean True.*row 1",
        ),
        Hostile(
            "c4-bytes-label",
            4,
            frame(n_in=[64], n_out=[1], energy_j=[1.0], model=[b"llama"]),
            match=r"model must be a text label.*b'llama'",
        ),
        Hostile(
            "c4-integral-float-lengths-accepted",
            4,
            frame(n_in=[64.0, 128.0], n_out=np.array([1, 2], dtype=np.uint16), energy_j=[1, 2]),
            check=lambda v, tmp: _assert(list(v["n_in"]) == [64, 128], str(list(v["n_in"]))),
        ),
        Hostile(
            "c4-zeus-boolean-energy",
            4,
            lambda tmp: ss.io.read_zeus(
                write(
                    tmp,
                    "z.csv",
                    "start_time,window_name,elapsed_time,gpu0_energy\n1,n_in=1 n_out=1,1,True\n",
                )
            ),
            match=r"gpu0_energy.*Booleans",
        ),
        Hostile(
            "c4-codecarbon-fractional-gpu-count",
            4,
            lambda tmp: ss.io.read_codecarbon(
                write(
                    tmp,
                    "e.csv",
                    "project_name,duration,gpu_energy,gpu_count\nn_in=1 n_out=1,1,0.001,1.5\n",
                )
            ),
            match=r"n_gpus.*1\.5",
        ),
        Hostile(
            "c4-trtllm-energy-as-text",
            4,
            lambda tmp: ss.io.read_trtllm_bench(
                write(
                    tmp,
                    "r.json",
                    json.dumps(
                        {
                            "request_info": {
                                "num_requests": 2,
                                "avg_input_length": 8,
                                "avg_output_length": 8,
                            },
                            "performance": {"total_energy_j": "120"},
                        }
                    ),
                )
            ),
            match=r"total_energy_j.*must be a number of joules.*'120'",
        ),
        Hostile(
            "c4-trtllm-almost-integral-average",
            4,
            lambda tmp: ss.io.read_trtllm_bench(
                write(
                    tmp,
                    "r.json",
                    json.dumps(
                        {
                            "request_info": {
                                "num_requests": 2,
                                "avg_input_length": 512.0000000001,
                                "avg_output_length": 8,
                            },
                            "performance": {"total_energy_j": 120.0},
                        }
                    ),
                )
            ),
            match=r"avg_input_length.*512\.0000000001.*not a whole",
        ),
        # 5. memory ---------------------------------------------------------------------
        Hostile("c5-gzip-8mib-line", 5, _gzip_long_line(8 << 20), match=r"line 2 is longer"),
        Hostile(
            "c5-gzip-1gib-line", 5, _gzip_long_line(1 << 30), match=r"line 2 is longer", heavy=True
        ),
        Hostile("c5-gzip-bomb", 5, _gzip_bomb, match=r"expands more than 100 times", heavy=True),
        Hostile("c5-store-4mib-line", 5, _store_long_line(4 << 20), match=r"line 1 .*longer"),
        Hostile(
            "c5-store-1gib-line", 5, _store_long_line(1 << 30), match=r"line 1 .*longer", heavy=True
        ),
        Hostile("c5-parquet-footer-too-large", 5, _big_parquet_footer, match=r"Stream it"),
        Hostile(
            "c5-pipe-stdin",
            5,
            _pipe,
            check=lambda v, tmp: _assert(v == [[64, 64, 10.5], [128, 64, 20.25]], str(v)),
        ),
        # 6. bounds ----------------------------------------------------------------------
        Hostile(
            "c6-measure-n-in-1e9",
            6,
            _measure_leaves_nothing("--n-in", "1000000000"),
            match=r"n_in must be at most 10,000,000",
        ),
        Hostile(
            "c6-measure-requests-1e7-text",
            6,
            _measure_leaves_nothing("--requests", "1e7"),
            match=r"--requests",
        ),
        Hostile(
            "c6-measure-requests-1e7",
            6,
            _measure_leaves_nothing("--requests", "10000000"),
            match=r"requests must be at most 100,000",
        ),
        Hostile(
            "c6-measure-idle-1e9",
            6,
            _measure_leaves_nothing("--idle-s", "1e9"),
            match=r"idle_s must be at most 3,600 s",
        ),
        Hostile(
            "c6-measure-window-1e9",
            6,
            _measure_leaves_nothing("--min-window-s", "1e9"),
            match=r"min_window_s must be at most 600 s",
        ),
        Hostile(
            "c6-measure-gpu-index-1e9",
            6,
            _measure_leaves_nothing("--gpus", "1000000000"),
            match=r"gpus must be at most 1,023",
        ),
        Hostile(
            "c6-measure-grid-too-large",
            6,
            _measure_leaves_nothing(
                "--n-in",
                ",".join(str(i) for i in range(1, 1001)),
                "--n-out",
                ",".join(str(i) for i in range(1, 1001)),
            ),
            match=r"1,000,000 points",
        ),
        Hostile(
            "c6-read-n-in-above-bound",
            6,
            read("a.csv", "n_in,n_out,energy_j\n20000000,64,1\n"),
            match=r"n_in must be .* no larger than 10,000,000; got 20000000",
        ),
        Hostile(
            "c6-request-mix-above-bound",
            6,
            lambda tmp: ss.io.read_request_mix(write(tmp, "m.csv", "n_in,n_out\n20000000,1\n")),
            match=r"n_in must be at most 10,000,000",
        ),
        Hostile(
            "c6-optimal-n-out-1e200",
            6,
            lambda tmp: ss.optimal_n_out(THETA, 1e200),
            match=r"n_in must be at most 2\*\*40 tokens",
        ),
        Hostile(
            "c6-flops-1e200",
            6,
            lambda tmp: ss.flops(ss.get_architecture("llama-2-7b"), 1e200, 1),
            match=r"n_in must be at most 2\*\*40 tokens",
        ),
        # 7. tracebacks ------------------------------------------------------------------
        Hostile(
            "c7-measure-seed-minus-1",
            7,
            _measure_leaves_nothing("--seed", "-1"),
            match=r"seed must be a non-negative integer",
        ),
        Hostile(
            "c7-measure-engine-cannot-load",
            7,
            lambda tmp: _measure_model(tmp, "llama-2-70b"),
            match=r"Use a larger --tp",
        ),
        Hostile("c7-fit-save-unwritable", 7, _cli_fit_save, match=r"Not a directory"),
        Hostile(
            "c7-fit-group-nosuchcol",
            7,
            lambda tmp: cli("fit", str(_fit_file(tmp)), "--group", "nosuchcol"),
            match=r"nosuchcol",
        ),
        Hostile("c7-report-plots-unwritable", 7, _cli_report_plots, match=r"Not a directory"),
        Hostile(
            "c7-zip-two-csvs",
            7,
            _zip({"a.csv": GRID, "b.csv": GRID}),
            match=r"zip archive holding 2 files",
        ),
        Hostile(
            "c7-zip-one-csv-read",
            7,
            _zip({"a.csv": GRID}),
            check=column_is("energy_j", [10.5, 20.25]),
        ),
        Hostile("c7-corrupt-zip", 7, read("a.csv.zip", b"PK\x03\x04garbage"), match=r"corrupt zip"),
        Hostile(
            "c7-truncated-gzip",
            7,
            read("a.csv.gz", gzip.compress(GRID.encode())[:25]),
            match=r"truncated or corrupt gzip",
        ),
        Hostile("c7-corrupt-bz2", 7, read("a.csv.bz2", b"BZh9garbage"), match=r"corrupt bz2"),
        Hostile("c7-corrupt-xz", 7, read("a.csv.xz", b"\xfd7zXZ\x00garbage"), match=r"corrupt xz"),
        Hostile("c7-corrupt-tar", 7, read("a.csv.tar", b"not a tar" * 100), match=r"corrupt tar"),
        Hostile("c7-zst", 7, read("a.csv.zst", b"(\xb5/\xfdgarbage"), match=r"zstandard"),
        Hostile(
            "c7-manifest-nested-100000",
            7,
            _store_deep_manifest,
            match=r"manifest\.json is corrupted",
        ),
        Hostile("c7-point-nested-100000", 7, _store_deep_point, match=r"nested thousands"),
        Hostile(
            "c7-trtllm-nested-100000",
            7,
            lambda tmp: ss.io.read_trtllm_bench(
                write(tmp, "r.json", "[" * 100_000 + "]" * 100_000)
            ),
            match=r"nested too deeply",
        ),
        Hostile(
            "c7-store-5000-digit-number",
            7,
            lambda tmp: ss.read_measurements(
                write(tmp, "s/points.jsonl", '{"n_in": ' + "9" * 5000 + ', "n_out": 1}\n').parent
            ),
            match=r"line 1 .*not valid JSON",
        ),
        Hostile(
            "c7-path-with-nul",
            7,
            lambda tmp: ss.read_measurements(str(tmp / "a\x00b.csv")),
            match=r"No such file|cannot look up",
        ),
        Hostile(
            "c7-path-too-long",
            7,
            lambda tmp: ss.read_measurements(str(tmp / ("a" * 5000 + ".csv"))),
            match=r"cannot look up the path",
        ),
        Hostile(
            "c7-wilkins-30-digit-phase",
            7,
            read(
                "w.csv",
                "Timestamp,Phase,Runtime (s),GPU Energy (mJ),Number of Output Tokens,"
                "Number of Input Tokens,Model,Number of GPUs\n"
                "1.0,start-inference-A-" + "9" * 30 + ",1.0,1000,8,8,m,1\n",
            ),
            match=r"Number of Output Tokens' must equal the N",
        ),
        Hostile(
            "c7-zeus-start-time-1e300",
            7,
            lambda tmp: ss.io.read_zeus(
                write(
                    tmp,
                    "z.csv",
                    "start_time,window_name,elapsed_time,gpu0_energy\n1e300,n_in=1 n_out=1,1,1\n",
                )
            ),
            match=r"start_time must be unix seconds between",
        ),
        Hostile(
            "c7-api-column-map-not-a-mapping",
            7,
            lambda tmp: ss.read_measurements(write(tmp, "a.csv", GRID), column_map=[("a", "b")]),
            match=r"column_map must map source column names",
        ),
        Hostile(
            "c7-api-hierarchical-columns",
            7,
            lambda tmp: ss.read_measurements(
                pd.DataFrame(
                    [[64, 64, 1.0]],
                    columns=pd.MultiIndex.from_tuples(
                        [("n_in", "a"), ("n_out", "b"), ("energy_j", "c")]
                    ),
                )
            ),
            match=r"hierarchical columns",
        ),
        Hostile(
            "c7-api-codecarbon-label-column-list",
            7,
            lambda tmp: ss.io.read_codecarbon(
                write(tmp, "e.csv", "project_name,duration,gpu_energy\nn_in=1 n_out=1,1,0.001\n"),
                label_column=["project_name"],  # type: ignore[arg-type]
            ),
            match=r"label_column must be a column name",
        ),
        Hostile(
            "c7-api-parquet-batch-rows-text",
            7,
            lambda tmp: list(_parquet_dataset(tmp).batches("x")),  # type: ignore[arg-type]
            match=r"batch_rows must be a positive whole number",
        ),
        Hostile(
            "c7-api-read-points-of-a-number",
            7,
            lambda tmp: ss.io.store.read_points(5),  # type: ignore[arg-type]
            match=r"directory given as a path",
        ),
        Hostile(
            "c7-api-read-points-of-a-file",
            7,
            lambda tmp: ss.io.store.read_points(write(tmp, "a.csv", GRID)),
            match=r"is not a directory",
        ),
        Hostile(
            "c7-api-run-sweep-out-number",
            7,
            lambda tmp: _sweep_to(123),
            match=r"out must be a directory path",
        ),
        Hostile(
            "c7-api-store-create-number",
            7,
            lambda tmp: _store_create(123),
            match=r"directory given as a path",
        ),
        Hostile(
            "c7-api-summarize-empty-frame",
            7,
            lambda tmp: _summarize(pd.DataFrame()),
            match=r"summarize_repeats expects the rows of a store",
        ),
        Hostile(
            "c7-fit-from-json-path",
            7,
            lambda tmp: ss.FitResult.from_json(_saved_fit(tmp)),
            check=lambda v, tmp: _assert(isinstance(v, ss.FitResult), repr(v)),
        ),
        Hostile(
            "c7-load-params-123",
            7,
            lambda tmp: ss.load_params(123),  # type: ignore[arg-type]
            match=r"model must be a str",
        ),
    ]
    ids = [c.id for c in cases]
    assert len(set(ids)) == len(ids), "case ids must be unique"
    return cases


def _parquet_dataset(tmp: Path) -> Any:
    from sweetspot.io.parquet import ParquetDataset

    path = tmp / "a.parquet"
    pd.DataFrame({"n_in": [64], "n_out": [64], "energy_j": [1.0]}).to_parquet(path)
    return ParquetDataset.open(path)


def _sweep_to(out: Any) -> Any:
    from sweetspot.harness.sweep import SweepSpec, run_sweep

    return run_sweep(SweepSpec(model="llama-3.2-1b", engine="fake", n_in=(64,), n_out=(8,)), out)


def _store_create(path: Any) -> Any:
    from sweetspot.harness.store import MeasurementStore

    return MeasurementStore.create(path, {})


def _summarize(data: Any) -> Any:
    from sweetspot.harness.sweep import summarize_repeats

    return summarize_repeats(data)


def _measure_model(tmp: Path, model: str) -> Any:
    out = tmp / "store"
    result = cli(
        "measure",
        "--engine",
        "fake",
        "--model",
        model,
        "--n-in",
        "64",
        "--n-out",
        "64",
        "--out",
        str(out),
        "--quiet",
        "--idle-s",
        "1",
    )
    if out.exists():
        return CliRun(0, "", f"left {sorted(p.name for p in out.iterdir())}")
    return result


def _saved_fit(tmp: Path) -> Path:
    res = ss.fit(pd.read_csv(io.StringIO(_grid_with_models(["m"]))), "sweetspot")
    path = tmp / "fit.json"
    path.write_text(res.to_json())
    return path


def _assert(condition: bool, message: str) -> None:
    assert condition, message


# ================================================================= fuzz generators


@dataclass(frozen=True)
class Fuzz:
    """A generated input: files to write, the reader call and the oracle of its value."""

    reader: str
    files: dict[str, bytes]
    call: Callable[[Path], Any]
    oracle: Callable[[Any, Path], None]

    def hostile(self, seed: int) -> Hostile:
        def run(tmp: Path) -> Any:
            for name, content in self.files.items():
                write(tmp, name, content)
            return self.call(tmp)

        return Hostile(f"fuzz-{self.reader}-{seed}", 0, run, match=ANY, check=self.oracle)


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_INT = re.compile(r"\s*[+-]?\d+\s*")


def equal_number(value: Any, text: str) -> bool:
    """Whether a number read from a cell equals the number the cell's text says."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)) and _INT.fullmatch(text):
        return int(value) == int(text)
    try:
        expected = float(text)
    except ValueError:
        return False
    got = float(value)
    return got == expected or (math.isnan(got) and math.isnan(expected))


def equal_extra(value: Any, text: str) -> bool:
    """An extra column's cell: text as written, or the number or boolean the text says."""
    if isinstance(value, str):
        return value == text
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return text == ""
    if isinstance(value, (bool, np.bool_)):
        return text.strip().casefold() == str(bool(value)).casefold()
    if isinstance(value, (int, float, np.integer, np.floating)):
        return text != "" and equal_number(value, text)
    return False


# ---------------------------------------------------------------- CSV (read_measurements)

_SCHEMA_NUMERIC = {"n_in", "n_out", "energy_j", "n_requests", "batch_size", "time_s", "n_gpus"}
_SCHEMA_TEXT = {"model", "gpu", "dtype", "engine", "prompt"}
_ALIASES = {
    "energy_mj": ("energy_j", 1.0, 1000.0),
    "energy_kwh": ("energy_j", 3_600_000.0, 1.0),
    "time_ms": ("time_s", 1.0, 1000.0),
}
_HEADERS = [
    "n_in",
    "n_out",
    "energy_j",
    "energy_kwh",
    "energy_mj",
    "n_requests",
    "batch_size",
    "model",
    "gpu",
    "dtype",
    "kv_cache",
    "time_ms",
    "note",
    "run_id",
    "python_version",
    "x",
]
_CELLS = [
    "64",
    "128",
    "1",
    "0",
    "-3",
    "007",
    "1.10",
    "1e3",
    "2.5",
    "1.0",
    "18446744073709551616",
    "9007199254740993",
    "",
    "nan",
    "NaN",
    "None",
    "NA",
    "null",
    "inf",
    "-inf",
    "1e309",
    "True",
    "false",
    "yes",
    "x",
    "１",
    "12 J",
    "0x40",
    " 64 ",
    "llama-3.1-8b",
    "3.10",
    "1_000",
    "+5",
    "20000000",
    "0.1",
    "1e-320",
    "é",
    "\u200b",
]
_GOOD = ["1", "7", "64", "128", "4096", "1e3", "007", "+5", "64.0", " 64 "]
_GOOD_COLUMN = {
    "energy_j": ["0.5", "2.25", "10.0", "1e3", "7", "1e-320", "0.1"],
    "energy_mj": ["1500", "0.5", "7"],
    "energy_kwh": ["2.5e-06", "0.001", "1"],
    "time_ms": ["1500", "0.25"],
    "model": ["llama", "1.10", "007", "1e3", "None", "NA"],
    "gpu": ["H100", "100.0"],
    "dtype": ["bf16", "16"],
    "kv_cache": ["True", "false", "yes", "0", "1"],
    "note": _CELLS,
    "run_id": _CELLS,
    "python_version": ["3.10", "3.9", "007"],
    "x": _CELLS,
}


def gen_csv(rnd: random.Random) -> Fuzz:
    names = rnd.sample(_HEADERS, rnd.randint(1, 6))
    valid = rnd.random() < 0.6
    if valid:
        names = ["n_in", "n_out", rnd.choice(["energy_j", "energy_mj", "energy_kwh"])] + [
            n for n in names if n not in ("n_in", "n_out", "energy_j", "energy_mj", "energy_kwh")
        ]
        rnd.shuffle(names)
    header = [
        (f" {n.upper()} " if rnd.random() < 0.1 else n.capitalize() if rnd.random() < 0.1 else n)
        for n in names
    ]
    sep = "," if rnd.random() < 0.9 else rnd.choice([";", "\t"])
    end = rnd.choice(["\n", "\r\n"])
    rows = []
    for _ in range(rnd.randint(0 if not valid else 1, 5)):
        row = []
        for n in names:
            good = _GOOD_COLUMN.get(n, _GOOD)
            row.append(rnd.choice(good) if valid and rnd.random() < 0.95 else rnd.choice(_CELLS))
        if rnd.random() < 0.05:
            row = row[:-1]
        rows.append(row)
    text = end.join(sep.join(r) for r in [header, *rows]) + rnd.choice(["", end])
    data = text.encode("utf-8")
    if rnd.random() < 0.1:
        data = b"\xef\xbb\xbf" + data
    if rnd.random() < 0.03:
        pos = rnd.randint(0, len(data))
        data = data[:pos] + b"\xff" + data[pos:]
    name = "fuzz.csv"
    if rnd.random() < 0.1:
        name, data = "fuzz.csv.gz", gzip.compress(data)
        if rnd.random() < 0.3:
            data = data[: rnd.randint(0, len(data))]
    return Fuzz(
        "csv", {name: data}, lambda tmp: ss.read_measurements(tmp / name), _csv_oracle(name)
    )


def _table_of(raw: bytes, sep: str = ",") -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV the generators wrote (no quoting), as pandas reads it."""
    text = raw.decode("utf-8-sig")
    lines = [line for line in re.split(r"\r\n|\n|\r", text)]
    header = lines[0].split(sep)
    rows = [line.split(sep) for line in lines[1:] if line != ""]
    rows = [r + [""] * (len(header) - len(r)) for r in rows]
    return header, rows


def _csv_oracle(name: str) -> Callable[[Any, Path], None]:
    def oracle(df: Any, tmp: Path) -> None:
        raw = (tmp / name).read_bytes()
        if name.endswith(".gz"):
            raw = gzip.decompress(raw)
        sep = "\t" if "\t" in raw.decode("utf-8-sig").split("\n")[0] else ","
        header, rows = _table_of(raw, sep)
        assert len(df) == len(rows), f"{len(df)} rows read, the file has {len(rows)}"
        by_key = {h.strip().casefold(): i for i, h in enumerate(header)}
        by_name = {h: i for i, h in enumerate(header)}
        for column in df.columns:
            values = list(df[column])
            if column == "n_requests" and "n_requests" not in by_key:
                assert values == [1] * len(rows), f"n_requests default {values}"
                continue
            if column in by_name:
                i, factor = by_name[column], None
            elif column in by_key:
                i, factor = by_key[column], None
            else:
                alias = next(
                    (a for a, (t, _, _) in _ALIASES.items() if t == column and a in by_key), None
                )
                assert alias is not None, f"column {column!r} comes from nowhere"
                i, factor = by_key[alias], _ALIASES[alias][1:]
            for r, (got, row) in enumerate(zip(values, rows, strict=True)):
                text = row[i]
                where = f"{column} row {r}: read {got!r}, the file says {text!r}"
                if factor is not None:
                    multiply, divide = factor
                    x = float(text)
                    want = x * multiply / divide if multiply != 1.0 else x / divide
                    assert float(got) == want, where
                elif column in _SCHEMA_NUMERIC:
                    assert equal_number(got, text), where
                elif column in _SCHEMA_TEXT:
                    assert got == text, where
                elif column == "kv_cache":
                    assert bool(got) == (text.strip().casefold() in _TRUE), where
                else:
                    assert equal_extra(got, text), where

    return oracle


# ---------------------------------------------------------------- Parquet


def gen_parquet(rnd: random.Random) -> Fuzz:
    n = rnd.randint(1, 4)

    def numbers(kind: str, positive: bool = False) -> Any:
        pick = [
            rnd.choice([1, 2, 64, 4096]) if rnd.random() < 0.9 else rnd.choice([0, -1, 2**60])
            for _ in range(n)
        ]
        if positive:
            pick = [abs(p) + 1 for p in pick]
        if kind == "int":
            return pd.Series(pick, dtype="int64")
        if kind == "float":
            return pd.Series([float(p) + rnd.choice([0.0, 0.0, 0.5]) for p in pick])
        if kind == "nullable":
            return pd.Series([p if rnd.random() < 0.8 else None for p in pick], dtype="Int64")
        if kind == "text":
            return pd.Series([str(p) if rnd.random() < 0.8 else "x" for p in pick], dtype=object)
        if kind == "bool":
            return pd.Series([bool(p % 2) for p in pick])
        small = [p % 10**9 for p in pick]
        if kind == "datetime":
            return pd.Series(pd.to_datetime(small, unit="s"))
        return pd.Series(pd.to_timedelta(small, unit="s"))

    kinds = ["int"] * 6 + ["float", "nullable", "text", "bool", "datetime", "timedelta"]
    source = pd.DataFrame(
        {
            "n_in": numbers(rnd.choice(kinds)),
            "n_out": numbers(rnd.choice(kinds)),
            "energy_j": numbers(
                rnd.choice(["float"] * 5 + ["int", "text", "bool", "datetime"]), True
            ),
        }
    )
    if rnd.random() < 0.5:
        source["model"] = rnd.choice(
            [pd.Series(["1.10", "007", "a"][:1] * n), pd.Series([1.1] * n), pd.Series([None] * n)]
        )
    if rnd.random() < 0.5:
        source["note"] = pd.Series(["None", "NA", ""][:1] * n)
    buf = io.BytesIO()
    source.to_parquet(buf)
    data = buf.getvalue()
    if rnd.random() < 0.1:
        data = data[: rnd.randint(0, len(data))]

    def oracle(df: Any, tmp: Path) -> None:
        assert len(df) == n
        for column in source.columns:
            for r, (got, want) in enumerate(zip(df[column], source[column], strict=True)):
                where = f"{column} row {r}: read {got!r}, the file says {want!r}"
                if column == "model":
                    assert got == str(want), where
                elif column == "note":
                    assert got == want, where
                else:
                    assert not isinstance(want, (bool, np.bool_)), where
                    assert float(got) == float(want), where

    return Fuzz(
        "parquet", {"a.parquet": data}, lambda tmp: ss.read_measurements(tmp / "a.parquet"), oracle
    )


# ---------------------------------------------------------------- window names (Zeus, CodeCarbon)

_VALUES = ["512", "64", "1", "1k", "512.7", "-5", "007", "1e3", "", "0", "99999999999", "２"]
_KEY = re.compile(r"(?<![\w])(n_in|n_out|n_requests)\s*[=:]\s*([\w.+\-]*)", re.IGNORECASE)


def _window_name(rnd: random.Random) -> str:
    if rnd.random() < 0.6:
        keys = ["n_in", "n_out"] + (["n_requests"] if rnd.random() < 0.3 else [])
        rnd.shuffle(keys)
        sep = rnd.choice([" ", ";", "|"])
        return sep.join(f"{k}{rnd.choice(['=', ':'])}{rnd.choice(_GOOD[:5])}" for k in keys)
    parts = []
    for key in rnd.sample(
        ["n_in", "n_out", "n_requests", "n_in", "x_n_in", "N_OUT"], rnd.randint(0, 4)
    ):
        value = rnd.choice(_GOOD[:5]) if rnd.random() < 0.7 else rnd.choice(_VALUES)
        parts.append(f"{key}{rnd.choice(['=', ':', ' = '])}{value}")
    return rnd.choice([" ", ";", "|"]).join(parts)


def expected_lengths(name: str) -> dict[str, int]:
    """What a window name says, by an independent strict reading (None where it is unclear)."""
    found: dict[str, set[str]] = {}
    for key, value in _KEY.findall(name):
        found.setdefault(key.casefold(), set()).add(value)
    out = {}
    for key, values in found.items():
        for value in values:
            ok = value.isascii() and value.isdigit() and int(value) >= 1
            assert ok, f"{key}={value!r} in {name!r} is no length"
        numbers = {int(v) for v in values}
        assert len(numbers) == 1, f"{key} ambiguous in {name!r}"
        out[key] = numbers.pop()
    return out


def gen_zeus(rnd: random.Random) -> Fuzz:
    from sweetspot.io import read_zeus

    gpus = rnd.randint(1, 2)
    header = "start_time,window_name,elapsed_time," + ",".join(
        f"gpu{i}_energy" for i in range(gpus)
    )
    rows = []
    for _ in range(rnd.randint(1, 3)):
        energies = [
            rnd.choice(["100.5", "20", "0", "-1", "", "x", "True", "1e308", "inf"])
            if rnd.random() < 0.2
            else rnd.choice(["100.5", "20", "3.25"])
            for _ in range(gpus)
        ]
        start = (
            rnd.choice(["1700000000.5", "1.0", "x", "", "1e300"]) if rnd.random() < 0.2 else "1.5"
        )
        elapsed = rnd.choice(["2.0", "0", "-1", "", "inf"]) if rnd.random() < 0.2 else "2.0"
        rows.append(",".join([start, _window_name(rnd), elapsed, *energies]))
    text = "\n".join([header, *rows]) + "\n"

    def oracle(df: Any, tmp: Path) -> None:
        assert len(df) == len(rows)
        for r, row in enumerate(rows):
            cells = row.split(",")
            lengths = expected_lengths(cells[1])
            assert df["n_in"].iloc[r] == lengths["n_in"], f"n_in of {cells[1]!r}"
            assert df["n_out"].iloc[r] == lengths["n_out"], f"n_out of {cells[1]!r}"
            assert df["n_requests"].iloc[r] == lengths.get("n_requests", 1), cells[1]
            want = sum(float(c) for c in cells[3:])
            assert df["energy_j"].iloc[r] == want, f"energy {df['energy_j'].iloc[r]} != {want}"
            assert df["time_s"].iloc[r] == float(cells[2])

    return Fuzz(
        "zeus", {"zeus.csv": text.encode()}, lambda tmp: read_zeus(tmp / "zeus.csv"), oracle
    )


def gen_codecarbon(rnd: random.Random) -> Fuzz:
    from sweetspot.io import read_codecarbon

    header = "timestamp,project_name,duration,gpu_energy,gpu_count,python_version,run_id"
    rows = []
    for _ in range(rnd.randint(1, 3)):
        kwh = (
            rnd.choice(["0.001", "2.5e-05", "0", "", "x", "True"])
            if rnd.random() < 0.2
            else "0.001"
        )
        stamp = (
            rnd.choice(["2025-01-01T00:00:00", "", "yesterday", "2025-13-45"])
            if rnd.random() < 0.2
            else "2025-01-01T00:00:00"
        )
        count = rnd.choice(["1", "2", "1.5", "", "x", "0"]) if rnd.random() < 0.3 else "1"
        rows.append(
            ",".join(
                [
                    stamp,
                    _window_name(rnd),
                    "10.0",
                    kwh,
                    count,
                    rnd.choice(["3.10", "3.9", "NA"]),
                    rnd.choice(["007", "None", "abc"]),
                ]
            )
        )
    text = "\n".join([header, *rows]) + "\n"

    def oracle(df: Any, tmp: Path) -> None:
        assert len(df) == len(rows)
        for r, row in enumerate(rows):
            cells = row.split(",")
            lengths = expected_lengths(cells[1])
            assert (df["n_in"].iloc[r], df["n_out"].iloc[r]) == (lengths["n_in"], lengths["n_out"])
            assert df["energy_j"].iloc[r] == float(cells[3]) * 3_600_000.0
            assert df["python_version"].iloc[r] == cells[5], df["python_version"].iloc[r]
            assert df["run_id"].iloc[r] == cells[6], df["run_id"].iloc[r]
            if "n_gpus" in df.columns:
                assert df["n_gpus"].iloc[r] == float(cells[4])
            else:
                assert equal_extra(df["gpu_count"].iloc[r], cells[4])

    return Fuzz(
        "codecarbon",
        {"emissions.csv": text.encode()},
        lambda tmp: read_codecarbon(tmp / "emissions.csv"),
        oracle,
    )


# ---------------------------------------------------------------- Wilkins

_WILKINS_HEADER = (
    "Timestamp,Phase,Runtime (s),GPU Energy (mJ),Number of Output Tokens,Number of Input Tokens,"
    "Model,Number of GPUs"
)


def gen_wilkins(rnd: random.Random) -> Fuzz:
    rows = []
    for _ in range(rnd.randint(1, 4)):
        n_out = rnd.choice(["8", "16", "1k", "0", "8.0", ""]) if rnd.random() < 0.2 else "8"
        phase = (
            rnd.choice(
                [
                    "start-inference-A-8",
                    "start-inference-B-16",
                    "tokenizer",
                    "model load",
                    "start-inference-A-1k",
                    "start-inference-7-8",
                    "warmup",
                    "",
                    "start-inference-A-" + "9" * 25,
                ]
            )
            if rnd.random() < 0.15
            else f"start-inference-A-{n_out}"
        )
        mj = rnd.choice(["1000", "0", "-1", "x", "", "1e309"]) if rnd.random() < 0.2 else "1500.5"
        model = rnd.choice(["falcon-7b", "1.10", "007", "None", ""])
        rows.append(",".join(["1714146421.9", phase, "0.5", mj, n_out, "64", model, "1"]))
    text = "\n".join([_WILKINS_HEADER, *rows]) + "\n"

    def oracle(df: Any, tmp: Path) -> None:
        measured = [r.split(",") for r in rows if r.split(",")[1].startswith("start-inference-")]
        assert len(df) == len(measured)
        for r, cells in enumerate(measured):
            assert equal_number(df["n_out"].iloc[r], cells[4])
            assert df["n_out"].iloc[r] == int(cells[1].rsplit("-", 1)[1])
            assert df["energy_j"].iloc[r] == float(cells[3]) / 1000.0
            assert df["model"].iloc[r] == cells[6], df["model"].iloc[r]
            assert df["prompt"].iloc[r] == cells[1].split("-")[2]

    return Fuzz(
        "wilkins",
        {"w.csv": text.encode()},
        lambda tmp: ss.read_measurements(tmp / "w.csv", format="wilkins"),
        oracle,
    )


# ---------------------------------------------------------------- request mixes (Azure, CSV)


def gen_request_mix(rnd: random.Random) -> Fuzz:
    from sweetspot.io import read_request_mix

    azure = rnd.random() < 0.5
    header = "TIMESTAMP,ContextTokens,GeneratedTokens" if azure else "n_in,n_out,user"
    rows = []
    for _ in range(rnd.randint(1, 4)):
        a, b = (
            rnd.choice(_CELLS) if rnd.random() < 0.2 else rnd.choice(_GOOD[:5]) for _ in range(2)
        )
        third = (
            rnd.choice(["2023-11-16 18:15:46.6805900", "x", ""])
            if azure
            else rnd.choice(["ada", "007", "None", "1.10"])
        )
        rows.append(",".join([third, a, b] if azure else [a, b, third]))
    text = "\n".join([header, *rows]) + "\n"

    def oracle(df: Any, tmp: Path) -> None:
        assert len(df) == len(rows)
        for r, row in enumerate(rows):
            cells = row.split(",")
            a, b = (cells[1], cells[2]) if azure else (cells[0], cells[1])
            assert equal_number(df["n_in"].iloc[r], a), (df["n_in"].iloc[r], a)
            assert equal_number(df["n_out"].iloc[r], b), (df["n_out"].iloc[r], b)
            if not azure:
                assert df["user"].iloc[r] == cells[2] or equal_extra(df["user"].iloc[r], cells[2])

    return Fuzz(
        "request_mix",
        {"mix.csv": text.encode()},
        lambda tmp: read_request_mix(tmp / "mix.csv"),
        oracle,
    )


# ---------------------------------------------------------------- trtllm-bench

_JUNK = [None, True, "512", "x", -1, 0, 0.5, 1e308, [], {}, [1], 2**70, 512.0000001]


def gen_trtllm(rnd: random.Random) -> Fuzz:
    from sweetspot.io import read_trtllm_bench

    def maybe(value: Any) -> Any:
        return rnd.choice(_JUNK) if rnd.random() < 0.15 else value

    report: dict[str, Any] = {
        "engine": maybe({"model": maybe("m"), "version": "1.0", "dtype": maybe("bfloat16")}),
        "world_info": maybe({"tp_size": maybe(1), "world_size": maybe(1), "max_batch_size": 8}),
        "request_info": maybe(
            {
                "num_requests": maybe(4),
                "avg_input_length": maybe(rnd.choice([64, 64.0, 128])),
                "avg_output_length": maybe(32),
            }
        ),
        "performance": maybe({"total_latency_ms": maybe(2000.0), "total_energy_j": maybe(150.0)}),
    }
    for key in list(report):
        if rnd.random() < 0.05:
            del report[key]
    files = {"r.json": json.dumps(report).encode()}
    requests = None
    if rnd.random() < 0.4 and isinstance(report.get("request_info"), dict):
        n = report["request_info"].get("num_requests")
        n = n if isinstance(n, int) and 0 <= n < 10 else 4
        entries = [
            {"num_input_tokens": maybe(64), "output_tokens": maybe(32), "end_to_end_latency": 1e9}
            for _ in range(n)
        ]
        files["q.json"] = json.dumps(entries).encode()
        requests = "q.json"
    if rnd.random() < 0.1:
        files["r.json"] = files["r.json"][: rnd.randint(0, len(files["r.json"]))]

    def oracle(df: Any, tmp: Path) -> None:
        info, perf = report["request_info"], report["performance"]
        assert df["energy_j"].iloc[0] == perf["total_energy_j"]
        assert df["n_requests"].iloc[0] == info["num_requests"]
        if requests is None:
            assert df["n_in"].iloc[0] == info["avg_input_length"]
            assert df["n_out"].iloc[0] == info["avg_output_length"]
        else:
            entries = json.loads(files["q.json"])
            assert {e["num_input_tokens"] for e in entries} == {df["n_in"].iloc[0]}
            assert {e["output_tokens"] for e in entries} == {df["n_out"].iloc[0]}

    def call(tmp: Path) -> Any:
        return read_trtllm_bench(tmp / "r.json", None if requests is None else tmp / requests)

    return Fuzz("trtllm", files, call, oracle)


# ---------------------------------------------------------------- the measurement store


def gen_store(rnd: random.Random) -> Fuzz:
    lines: list[str] = []
    records: list[dict[str, Any]] = []
    keyed = rnd.random() < 0.5
    for i in range(rnd.randint(0, 4)):
        rec: dict[str, Any] = {
            "n_in": rnd.choice([64, 128, "64", 64.0, 0, None, True, 2**60])
            if rnd.random() < 0.2
            else 64 * (i + 1),
            "n_out": 32,
            "energy_j": rnd.choice([1.5, 0, "x", None, 1e308]) if rnd.random() < 0.2 else 1.5 + i,
            "model": rnd.choice(["llama", "1.10", 1.1, "007", None]),
            "extra": rnd.choice([[1, 2], {"a": 1}, "None", 3, None]),
        }
        if keyed or rnd.random() < 0.5:
            rec["point_key"] = rnd.choice([f"k{i}", "k0"])
        line = json.dumps(rec)
        roll = rnd.random()
        if roll < 0.05:
            line = line[: rnd.randint(0, len(line))]
        elif roll < 0.1:
            line = "[1, 2]"
        elif roll < 0.13:
            line = "   "
        else:
            records.append(rec)
        lines.append(line)
    body = "\n".join(lines) + ("\n" if rnd.random() < 0.8 else "")
    files = {"store/points.jsonl": body.encode()}
    if keyed:
        manifest: Any = {"format": "sweetspot-measurement-store", "version": 1}
        if rnd.random() < 0.2:
            manifest = rnd.choice([{"format": "x"}, [1], {"format": "sweetspot-measurement-store"}])
        files["store/manifest.json"] = json.dumps(manifest).encode()

    def oracle(df: Any, tmp: Path) -> None:
        complete = [json.loads(x) for x in body.split("\n") if x.strip() and _parses(x)]
        complete = [r for r in complete if isinstance(r, dict)]
        assert len(df) == len(complete), f"{len(df)} rows, the log has {len(complete)} points"
        for r, rec in enumerate(complete):
            for key in ("n_in", "n_out", "energy_j"):
                assert float(df[key].iloc[r]) == float(rec[key]), (key, df[key].iloc[r], rec[key])
            if "model" in df.columns:
                assert df["model"].iloc[r] == str(rec["model"]), (df["model"].iloc[r], rec["model"])

    return Fuzz("store", files, lambda tmp: ss.read_measurements(tmp / "store"), oracle)


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- saved fits and tables


_FIT: dict[str, Any] = {}


def saved_fit() -> dict[str, Any]:
    """The to_dict() of a real fit (computed once)."""
    if not _FIT:
        res = ss.fit(pd.read_csv(io.StringIO(_grid_with_models(["m"]))), "sweetspot")
        _FIT.update(json.loads(json.dumps(res.to_dict())))
    return json.loads(json.dumps(_FIT))


def _mutate(rnd: random.Random, obj: Any, rate: float) -> Any:
    """A copy of a JSON object with random changes at ``rate`` (values replaced, keys
    dropped, a key added)."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            roll = rnd.random()
            if roll < rate / 3:
                continue
            out[key] = (
                rnd.choice([*_JUNK, float("nan")]) if roll < rate else _mutate(rnd, value, rate)
            )
        if rnd.random() < rate / 3:
            out["unexpected"] = 1
        return out
    if isinstance(obj, list):
        return [_mutate(rnd, v, rate) for v in obj]
    return obj


def _assert_holds(file: Any, read: Any, where: str) -> None:
    """Everything the file says is in what was read (defaults may fill what it omits)."""
    if isinstance(file, dict):
        assert isinstance(read, dict), f"{where}: read {read!r}, the file says {file!r}"
        for key, value in file.items():
            assert key in read, f"{where}.{key} dropped"
            _assert_holds(value, read[key], f"{where}.{key}")
    elif isinstance(file, list):
        assert isinstance(read, list) and len(read) == len(file), f"{where}: {read!r} != {file!r}"
        for i, (a, b) in enumerate(zip(file, read, strict=True)):
            _assert_holds(a, b, f"{where}[{i}]")
    else:
        numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (file, read))
        same = file == read and (numbers or type(file) is type(read))
        assert same, f"{where}: read {read!r}, the file says {file!r}"


def gen_fit(rnd: random.Random) -> Fuzz:
    d = _mutate(rnd, saved_fit(), rnd.choice([0.0, 0.0, 0.01, 0.03, 0.1]))
    text = json.dumps(d)
    if rnd.random() < 0.2:
        text = text[: rnd.randint(0, len(text))]

    def oracle(res: Any, tmp: Path) -> None:
        _assert_holds(json.loads(text), json.loads(json.dumps(res.to_dict())), "fit")

    return Fuzz(
        "fit",
        {"fit.json": text.encode()},
        lambda tmp: ss.FitResult.from_json((tmp / "fit.json").read_text()),
        oracle,
    )


def gen_table(rnd: random.Random) -> Fuzz:
    from sweetspot import tables

    shipped = json.loads(
        Path(tables.__file__).with_name("data").joinpath("params.json").read_text()
    )
    table = _mutate(
        rnd,
        {**shipped, "fits": shipped["fits"][:2], "pooled": shipped["pooled"][:1]},
        rnd.choice([0.0, 0.0, 0.003, 0.01, 0.03]),
    )
    text = json.dumps(table)
    if rnd.random() < 0.1:
        text = text[: rnd.randint(0, len(text))]

    def oracle(value: Any, tmp: Path) -> None:
        assert value == json.loads(text), "the table read differs from the file"

    return Fuzz(
        "table",
        {"params.json": text.encode()},
        lambda tmp: tables.read_table(tmp / "params.json"),
        oracle,
    )


GENERATORS: dict[str, Callable[[random.Random], Fuzz]] = {
    "csv": gen_csv,
    "parquet": gen_parquet,
    "zeus": gen_zeus,
    "codecarbon": gen_codecarbon,
    "wilkins": gen_wilkins,
    "request_mix": gen_request_mix,
    "trtllm": gen_trtllm,
    "store": gen_store,
    "fit": gen_fit,
    "table": gen_table,
}
"""One generator per reader; each takes a seeded random.Random and returns a Fuzz."""


def fuzz_cases(per_reader: int, seed: int = 0) -> list[Hostile]:
    """``per_reader`` generated inputs of every reader, deterministic for a seed."""
    out = []
    for r, gen in enumerate(GENERATORS.values()):
        for i in range(per_reader):
            s = seed * 1_000_003 + r * 10_007 + i
            out.append(gen(random.Random(s)).hostile(s))
    return out
