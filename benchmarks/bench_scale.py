"""Scale benchmark: in-memory and streamed fits, the sweet spot and prediction at scale.

Each task runs in its own Python process, so its peak resident memory (``ru_maxrss``) is its
own; the table prints seconds (best of ``--repeat``), the same-run ratio to sweetspot, the
process's peak RSS and the extra memory the timed call allocated (tracemalloc peak: numpy
and Python allocations, not pyarrow's). Every comparison runs on the same data as the
sweetspot task it is compared with (generated from the same seed).

Tasks:

- fit of 10^4, 10^6 and 10^7 rows in memory: ``sweetspot.fit`` (a DataFrame in, validated,
  relative loss) vs ``scipy.optimize.curve_fit`` and ``lmfit.Model.fit`` (when installed)
  with the same 1/E weights;
- fit of 10^8 rows streamed from Parquet (``sweetspot.fit_parquet``), the dataset
  generated in chunks in a temporary directory, vs reading it whole
  (``pandas.read_parquet``) and fitting in memory with sweetspot and curve_fit, when the
  machine has the memory;
- ``optimal_n_out`` and ``FitResult.predict`` on 10^7 points vs the bare numpy formula and
  scipy / lmfit equivalents.

Run::

    python benchmarks/bench_scale.py                       # full run: minutes, ~3 GB disk
    python benchmarks/bench_scale.py --max-rows 1000000    # quick: everything <= 10^6 rows
    python benchmarks/bench_scale.py --no-lmfit --repeat 1 --tmp /big/disk

Targets (2-core machine, issue 6): 10^6 rows in memory <= 0.5 s and >= 20x faster than
curve_fit; 10^8 rows streamed with peak RSS <= 1 GB; optimum on 10^7 n_in <= 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

THETA = np.array([2.0e-6, 3.0e-5, 4.0e-3, 5.0e-5, 30.0, 0.35])
CHUNK = 1_000_000  # rows generated (and written as one row group) at a time
ROWS_PER_FILE = 10_000_000
# peak RSS per row of reading a Parquet dataset whole and fitting it in memory, measured at
# 10^7 rows (bench_scale.py itself), rounded up: used to skip runs the machine cannot hold
BYTES_PER_ROW = {"sweetspot": 340, "curve_fit": 260, "lmfit": 250}


# ------------------------------------------------------------------------------ data ---
def make_data(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n_in, n_out, energy per request [J]) with 3 % noise, identical for a given seed.

    Generated chunk by chunk from ``default_rng([seed, chunk])``, so the in-memory data of
    n rows equals the first n rows of the streamed dataset.
    """
    parts = [_chunk(seed, i, min(CHUNK, rows - i * CHUNK)) for i in range(-(-rows // CHUNK))]
    ni, no, e = (np.concatenate(p) for p in zip(*parts, strict=True))
    return ni, no, e


def _chunk(seed: int, i: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import sweetspot as ss

    rng = np.random.default_rng([seed, i])
    ni = rng.integers(16, 4097, m)
    no = rng.integers(16, 4097, m)
    e = ss.energy(THETA, ni, no) * (1 + 0.03 * rng.standard_normal(m))
    return ni, no, e


def write_parquet(rows: int, root: Path) -> float:
    """Write ``rows`` rows as Parquet files of 10^7 rows (row groups of 10^6); seconds."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    schema = pa.schema([("n_in", pa.int64()), ("n_out", pa.int64()), ("energy_j", pa.float64())])
    writer = None
    for i in range(-(-rows // CHUNK)):
        if (i * CHUNK) % ROWS_PER_FILE == 0:
            if writer is not None:
                writer.close()
            name = root / f"part-{i * CHUNK // ROWS_PER_FILE:05d}.parquet"
            writer = pq.ParquetWriter(name, schema)
        ni, no, e = _chunk(0, i, min(CHUNK, rows - i * CHUNK))
        assert writer is not None
        writer.write_table(pa.table({"n_in": ni, "n_out": no, "energy_j": e}, schema=schema))
    if writer is not None:
        writer.close()
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- workers ---
def quad(x: Any, t1: float, t2: float, t3: float, t4: float, t5: float, t6: float) -> Any:
    ni, no = x
    return t1 * ni * ni + t2 * ni * no + t3 * ni + t4 * no * no + t5 + t6 * no


def _lmfit_model() -> Any:
    import lmfit

    def energy(ni: Any, no: Any, t1: float, t2: float, t3: float, t4: float, t5: float, t6: float):
        return quad((ni, no), t1, t2, t3, t4, t5, t6)

    model = lmfit.Model(energy, independent_vars=["ni", "no"])
    params = model.make_params(t1=1e-3, t2=1e-3, t3=1e-3, t4=1e-3, t5=1.0, t6=1e-3)
    return model, params


def measure(fn: Callable[[], Any], repeat: int) -> dict[str, Any]:
    """Best-of-``repeat`` seconds, then one traced call for the allocation peak."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    theta = _theta_of(out)
    return {"seconds": best, "traced_mb": traced / 2**20, "theta": theta}


def _theta_of(out: Any) -> list[float] | None:
    import sweetspot as ss

    if isinstance(out, ss.FitResult) and out.theta is not None:
        return [float(v) for v in out.theta]
    if hasattr(out, "best_values"):  # lmfit ModelResult
        return [float(out.best_values[f"t{i}"]) for i in range(1, 7)]
    if isinstance(out, np.ndarray) and out.shape == (6,):
        return [float(v) for v in out]
    return None


def warm_up(task: str) -> None:
    """Import and run each tool once on tiny data, so timings exclude one-off imports."""
    import pandas as pd
    import scipy.linalg.lapack  # noqa: F401  (the solver's QR)

    import sweetspot as ss

    ni, no, e = make_data(100, seed=1)
    ss.fit(pd.DataFrame({"n_in": ni, "n_out": no, "energy_j": e}))
    x = np.vstack([ni, no]).astype(float)
    if "curve_fit" in task:
        _fit_other("curve_fit", x, e)
    if "lmfit" in task:
        _fit_other("lmfit", x, e)
    if task in ("stream", "parquet-sweetspot", "parquet-curve_fit", "parquet-lmfit"):
        import pyarrow.parquet  # noqa: F401


def worker(task: str, rows: int, repeat: int, path: str | None) -> dict[str, Any]:
    import pandas as pd

    import sweetspot as ss
    from sweetspot import fit_parquet

    warnings.simplefilter("ignore")
    warm_up(task)
    if task == "stream":
        assert path is not None
        return measure(lambda: fit_parquet(path), repeat)
    if task.startswith("parquet-"):  # read the whole dataset, then fit in memory
        assert path is not None
        which = task.removeprefix("parquet-")

        def run() -> Any:
            df = pd.read_parquet(path)
            if which == "sweetspot":
                return ss.fit(df)
            x = np.vstack([df.n_in.to_numpy(float), df.n_out.to_numpy(float)])
            e = df.energy_j.to_numpy()
            return _fit_other(which, x, e)

        return measure(run, repeat)
    if task in ("fit-sweetspot", "fit-curve_fit", "fit-lmfit"):
        ni, no, e = make_data(rows)
        df = pd.DataFrame({"n_in": ni, "n_out": no, "energy_j": e})
        x = np.vstack([ni, no]).astype(float)
        del ni, no
        which = task.removeprefix("fit-")
        if which == "sweetspot":
            return measure(lambda: ss.fit(df), repeat)
        del df
        return measure(lambda: _fit_other(which, x, e), repeat)
    rng = np.random.default_rng(1)
    n_in = rng.integers(1, 8193, rows)
    n_out = rng.integers(1, 8193, rows)
    res = ss.fit(
        pd.DataFrame(
            {
                "n_in": np.repeat([64, 256, 1024, 4096], 4),
                "n_out": np.tile([64, 256, 1024, 4096], 4),
                "energy_j": ss.energy(
                    THETA, np.repeat([64, 256, 1024, 4096], 4), np.tile([64, 256, 1024, 4096], 4)
                ),
            }
        )
    )
    t1, _, t3, t4, t5, _ = THETA
    if task == "optimum-sweetspot":
        return measure(lambda: ss.optimal_n_out(THETA, n_in), repeat)
    if task == "optimum-numpy":
        return measure(lambda: np.sqrt((t1 * n_in * n_in + t3 * n_in + t5) / t4), repeat)
    if task == "optimum-scipy":
        # minimize_scalar per input length, on 1000 lengths, scaled to all of them
        from scipy.optimize import minimize_scalar

        sub = n_in[:1000].astype(float)

        def per_point() -> None:
            for ni in sub:
                minimize_scalar(
                    lambda no, ni=ni: quad((ni, no), *THETA) / no,
                    bounds=(1.0, 2.0**20),
                    method="bounded",
                )

        out = measure(per_point, 1)
        out["seconds"] *= rows / sub.size
        out["note"] = "1000 points timed, scaled"
        return out
    if task == "predict-sweetspot":
        return measure(lambda: res.predict(n_in, n_out, warn=False), repeat)
    if task == "predict-numpy":
        ni, no = n_in.astype(float), n_out.astype(float)
        return measure(lambda: quad((ni, no), *THETA), repeat)
    if task == "predict-lmfit":
        model, params = _lmfit_model()
        fitted = model.fit(
            ss.energy(THETA, [64, 256, 1024, 4096] * 4, np.repeat([64, 256, 1024, 4096], 4)),
            params,
            ni=np.array([64, 256, 1024, 4096] * 4, float),
            no=np.repeat([64, 256, 1024, 4096], 4).astype(float),
        )
        ni, no = n_in.astype(float), n_out.astype(float)
        return measure(lambda: fitted.eval(ni=ni, no=no), repeat)
    raise SystemExit(f"unknown task {task!r}")


def _fit_other(which: str, x: np.ndarray, e: np.ndarray) -> Any:
    if which == "curve_fit":
        from scipy.optimize import curve_fit

        p, _ = curve_fit(quad, x, e, p0=np.ones(6) * 1e-3, sigma=e, absolute_sigma=False)
        return p
    model, params = _lmfit_model()
    return model.fit(e, params, ni=x[0], no=x[1], weights=1 / e)


# ---------------------------------------------------------------------------- parent ---
def run_task(task: str, rows: int, repeat: int, path: str | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", task, "--rows", str(rows), "--repeat", str(repeat)]
    if path:
        cmd += ["--path", path]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": tail}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def mem_available_gb() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def machine() -> list[str]:
    cpu = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    lines = [
        f"CPU: {cpu}, nproc {os.cpu_count()}, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM",
        f"Python {platform.python_version()}, numpy {np.__version__}",
    ]
    try:
        import pyarrow
        import scipy

        import sweetspot

        lines.append(
            f"scipy {scipy.__version__}, pyarrow {pyarrow.__version__}, "
            f"sweetspot {sweetspot.__version__}"
        )
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            if info.get("user_api") == "blas":
                lines.append(
                    f"BLAS: {info.get('internal_api')} {info.get('version')}, "
                    f"{info.get('num_threads')} threads, kernel {info.get('architecture')} "
                    f"({Path(info.get('filepath', '')).name})"
                )
    except ImportError:
        pass
    env = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")}
    if env:
        lines.append("environment: " + ", ".join(f"{k}={v}" for k, v in sorted(env.items())))
    return lines


def run_streamed(
    stream_rows: int,
    repeat: int,
    others: list[str],
    tmp_dir: str | None,
    record: Callable[[str, str, int, dict[str, Any], str | None], None],
) -> None:
    """Write the Parquet dataset, stream-fit it, and compare with reading it whole."""
    tmp = Path(tempfile.mkdtemp(prefix="sweetspot-bench-", dir=tmp_dir))
    try:
        print(f"writing {stream_rows:,} rows of Parquet to {tmp} ...", file=sys.stderr)
        gen = write_parquet(stream_rows, tmp)
        size = sum(f.stat().st_size for f in tmp.iterdir()) / 2**30
        group = f"fit {stream_rows:,} rows from Parquet ({size:.2f} GiB, written in {gen:.0f} s)"
        out = run_task("stream", stream_rows, repeat if stream_rows <= 10**7 else 1, str(tmp))
        record(group, "sweetspot.fit_parquet", stream_rows, out, None)
        for which in ("sweetspot", *others):
            label = f"read_parquet + {which} in memory"
            # measured peak bytes per row (10^7 rows), with a margin: never risk an OOM
            need_gb = stream_rows * BYTES_PER_ROW[which] / 2**30
            if need_gb > 0.5 * mem_available_gb():
                out = {"error": f"skipped: needs ~{need_gb:.0f} GB"}
            else:
                out = run_task(f"parquet-{which}", stream_rows, repeat, str(tmp))
            record(group, label, stream_rows, out, "sweetspot.fit_parquet")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--max-rows", type=int, default=100_000_000, help="largest data set")
    ap.add_argument("--points", type=int, default=10_000_000, help="optimum/predict points")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    ap.add_argument("--tmp", default=None, help="directory for the Parquet dataset")
    ap.add_argument("--no-lmfit", action="store_true", help="skip lmfit even if installed")
    ap.add_argument("--json", default=None, help="also write the raw results to this file")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--path", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        out = worker(args.worker, args.rows, args.repeat, args.path)
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return

    try:
        import lmfit  # noqa: F401

        others = ["curve_fit"] if args.no_lmfit else ["curve_fit", "lmfit"]
    except ImportError:
        others = ["curve_fit"]
    results: list[dict[str, Any]] = []

    def record(group: str, label: str, rows: int, out: dict[str, Any], base: str | None) -> None:
        out.update(group=group, label=label, rows=rows, base=base)
        results.append(out)
        secs = out.get("seconds")
        shown = f"{secs:.3f} s" if secs is not None else out.get("error", "?")
        print(f"  {label:<48} {rows:>12,} rows  {shown}", file=sys.stderr, flush=True)

    for rows in (10_000, 1_000_000, 10_000_000):
        if rows > args.max_rows:
            continue
        # best of 3 at every size: a fresh process pays first-touch page faults for its
        # large arrays (seconds on this VM at 10^7 rows), which later runs do not
        repeat = args.repeat
        group = f"fit {rows:,} rows in memory"
        record(group, "sweetspot.fit", rows, run_task("fit-sweetspot", rows, repeat), None)
        for other in others:
            label = {"curve_fit": "scipy curve_fit", "lmfit": "lmfit Model.fit"}[other]
            record(group, label, rows, run_task(f"fit-{other}", rows, repeat), "sweetspot.fit")

    for stream_rows in sorted({min(n, args.max_rows) for n in (10_000_000, 100_000_000)}):
        run_streamed(
            stream_rows, args.repeat if stream_rows <= 10**7 else 1, others, args.tmp, record
        )

    pts = args.points
    group = f"optimal_n_out on {pts:,} n_in"
    record(
        group, "sweetspot.optimal_n_out", pts, run_task("optimum-sweetspot", pts, args.repeat), None
    )
    record(
        group,
        "numpy closed form, no validation",
        pts,
        run_task("optimum-numpy", pts, args.repeat),
        "sweetspot.optimal_n_out",
    )
    record(
        group,
        "scipy minimize_scalar per point",
        pts,
        run_task("optimum-scipy", pts, 1),
        "sweetspot.optimal_n_out",
    )
    group = f"predict on {pts:,} (n_in, n_out)"
    record(group, "FitResult.predict", pts, run_task("predict-sweetspot", pts, args.repeat), None)
    record(
        group,
        "numpy polynomial (curve_fit users)",
        pts,
        run_task("predict-numpy", pts, args.repeat),
        "FitResult.predict",
    )
    if "lmfit" in others:
        record(
            group,
            "lmfit ModelResult.eval",
            pts,
            run_task("predict-lmfit", pts, args.repeat),
            "FitResult.predict",
        )

    print("\n".join(machine()))
    print(f"command: python {' '.join(sys.argv)}")
    print()
    print(
        f"| {'task':<50} | {'seconds':>9} | {'ratio':>14} | {'peak RSS MB':>11} | {'call MB':>8} |"
    )
    print(f"|{'-' * 52}|{'-' * 11}|{'-' * 16}|{'-' * 13}|{'-' * 10}|")
    by_label: dict[tuple[str, str], dict[str, Any]] = {}
    current = None
    for r in results:
        by_label[(r["group"], r["label"])] = r
        if r["group"] != current:
            current = r["group"]
            print(f"| **{current}** |  |  |  |  |")
        if "error" in r:
            print(f"| {r['label']:<50} | {'-':>9} | {r['error']:>14} | {'-':>11} | {'-':>8} |")
            continue
        ratio = ""
        base = by_label.get((r["group"], r["base"])) if r["base"] else None
        if base and "seconds" in base:
            f = r["seconds"] / base["seconds"]
            ratio = f"{f:.1f}x slower" if f >= 1 else f"{1 / f:.1f}x faster"
        note = f" ({r['note']})" if r.get("note") else ""
        print(
            f"| {r['label'] + note:<50} | {r['seconds']:>9.3f} | {ratio:>14} | "
            f"{r['peak_rss_mb']:>11.0f} | {r['traced_mb']:>8.0f} |"
        )
    print()
    for r in results:
        base = by_label.get((r["group"], r["base"])) if r["base"] else None
        if base and r.get("theta") and base.get("theta"):
            a, b = np.array(r["theta"]), np.array(base["theta"])
            print(
                f"{r['group']}: max relative difference of theta, {r['label']} vs "
                f"{base['label']}: {np.max(np.abs(a - b) / np.abs(b)):.1e}"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
