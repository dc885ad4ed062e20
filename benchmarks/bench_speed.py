"""Speed a user feels: the fit against the usual tools and the practical limit, and whole commands.

Prints, in one run, same-run ratios only (seconds depend on the machine; ratios on the same
data in the same run do not):

1. Fit of the six-term model (weights 1/E) on ``--rows`` rows (default 10^6), arrays in:
   ``sweetspot.fit`` on :class:`sweetspot.fitting.FitData` (validated arrays), and on a
   DataFrame (validated by ``read_measurements``), against ``scipy.optimize.curve_fit``,
   ``lmfit``, ``statsmodels`` WLS, ``numpy.linalg.lstsq`` and a single-pass kernel that
   accumulates the 21 + 6 sums of the normal equations (compiled with numba: the practical
   limit of reading the data once). Each time is the best of ``--repeat``; the table gives
   each tool's time as a multiple of sweetspot's, and sweetspot's as a multiple of the kernel's.
2. Peak resident memory of an in-memory fit of ``--big-rows`` rows (default 10^7) in a fresh
   process, against the size of its input arrays (n_in, n_out, energy: 24 bytes per row).
3. Whole commands (fresh processes, best of ``--repeat``), as multiples of
   ``python -c "import numpy"`` (the floor of any Python command that uses numpy):
   ``sweetspot --help``, ``sweetspot report`` (no plots), ``sweetspot evaluate`` on the
   Wilkins grid and ``sweetspot tables build`` (both when ``../shared/data`` is present).

Tools that are not installed are skipped and say so (``pip install lmfit statsmodels numba``).
Run::

    python benchmarks/bench_speed.py                  # about a minute or two
    python benchmarks/bench_speed.py --rows 100000 --big-rows 1000000 --repeat 2   # quick

Targets (issue "Speed a user feels", 2-core machine): fit of 10^6 rows >= 20x faster than
curve_fit and within 5x of the single-pass kernel; 10^7 rows in memory with peak RSS <= 2x
the input arrays + 200 MB; ``--help`` within 0.25 s of the numpy floor; report < 1.5 s;
evaluate < 3 s; tables build < 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
THETA = np.array([2.0e-6, 3.0e-5, 4.0e-3, 5.0e-5, 30.0, 0.35])


def make_data(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_in = rng.integers(16, 4097, rows)
    n_out = rng.integers(16, 4097, rows)
    t = THETA
    e = t[0] * n_in * n_in + t[1] * n_in * n_out + t[2] * n_in + t[3] * n_out**2 + t[4]
    e = (e + t[5] * n_out) * (1 + 0.03 * rng.standard_normal(rows))
    return n_in, n_out, e


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _design(ni: np.ndarray, no: np.ndarray) -> np.ndarray:
    return np.column_stack([ni * ni, ni * no, ni, no * no, np.ones_like(ni), no])


# ------------------------------------------------------------------------ 1. the fit ---
def fit_tools(rows: int, repeat: int) -> list[tuple[str, float | None, str]]:
    import pandas as pd

    import sweetspot as ss

    n_in, n_out, e = make_data(rows)
    ni, no = n_in.astype(float), n_out.astype(float)
    frame = pd.DataFrame({"n_in": n_in, "n_out": n_out, "energy_j": e})
    out: list[tuple[str, float | None, str]] = []
    warnings.simplefilter("ignore")

    def ss_arrays() -> Any:
        try:
            from sweetspot.fitting import FitData
        except ImportError:  # an older sweetspot: no array input, the frame is the fastest path
            return ss.fit(frame)
        return ss.fit(FitData(n_in=ni, n_out=no, energy_j=e, batch_size=np.ones(rows)))

    ss_arrays()  # warm-up: imports and first-touch of memory
    t_ss = best_of(ss_arrays, repeat)
    out.append(("sweetspot.fit (FitData arrays)", t_ss, "validated arrays, full statistics"))
    t = best_of(lambda: ss.fit(frame), repeat)
    out.append(("sweetspot.fit (DataFrame)", t, "read_measurements validation included"))

    def lstsq() -> Any:
        X = _design(ni, no) / e[:, None]
        return np.linalg.lstsq(X, np.ones(rows), rcond=None)

    out.append(("numpy.linalg.lstsq", best_of(lstsq, repeat), "weighted design, no statistics"))
    try:
        from scipy.optimize import curve_fit

        def quad(x: np.ndarray, *t: float) -> np.ndarray:
            return (
                t[0] * x[0] ** 2
                + t[1] * x[0] * x[1]
                + t[2] * x[0]
                + t[3] * x[1] ** 2
                + t[4]
                + t[5] * x[1]
            )

        x = np.vstack([ni, no])
        out.append(
            (
                "scipy.optimize.curve_fit",
                best_of(lambda: curve_fit(quad, x, e, p0=np.ones(6), sigma=e), repeat),
                "sigma = E",
            )
        )
    except ImportError:
        out.append(("scipy.optimize.curve_fit", None, "not installed"))
    try:
        import lmfit

        model = lmfit.Model(
            lambda x, t1, t2, t3, t4, t5, t6: (
                t1 * x[0] ** 2 + t2 * x[0] * x[1] + t3 * x[0] + t4 * x[1] ** 2 + t5 + t6 * x[1]
            )
        )
        params = model.make_params(t1=1, t2=1, t3=1, t4=1, t5=1, t6=1)
        out.append(
            (
                "lmfit.Model.fit",
                best_of(lambda: model.fit(e, params, x=np.vstack([ni, no]), weights=1 / e), repeat),
                "weights = 1/E",
            )
        )
    except ImportError:
        out.append(("lmfit.Model.fit", None, "not installed"))
    try:
        import statsmodels.api as sm

        out.append(
            (
                "statsmodels WLS",
                best_of(lambda: sm.WLS(e, _design(ni, no), weights=1 / e**2).fit(), repeat),
                "weights = 1/E^2",
            )
        )
    except ImportError:
        out.append(("statsmodels WLS", None, "not installed"))
    try:
        import numba

        @numba.njit(cache=False, fastmath=False)
        def sums(ni: np.ndarray, no: np.ndarray, y: np.ndarray) -> np.ndarray:  # pragma: no cover
            acc = np.zeros((7, 7))
            row = np.empty(7)
            for i in range(ni.size):
                w = 1.0 / y[i]
                a, b = ni[i], no[i]
                row[0] = a * a * w
                row[1] = a * b * w
                row[2] = a * w
                row[3] = b * b * w
                row[4] = w
                row[5] = b * w
                row[6] = 1.0
                for j in range(7):
                    for k in range(j, 7):
                        acc[j, k] += row[j] * row[k]
            return acc

        def kernel() -> Any:
            g = sums(ni, no, e)
            return np.linalg.solve(np.triu(g)[:6, :6] + np.triu(g, 1)[:6, :6].T, g[:6, 6])

        kernel()  # compile
        out.append(("single-pass kernel (numba)", best_of(kernel, repeat), "the practical limit"))
    except ImportError:
        out.append(("single-pass kernel (numba)", None, "not installed: pip install numba"))
    return out


# ------------------------------------------------------------------------ 2. memory ---
def peak_rss(rows: int) -> dict[str, float]:
    """Run one in-memory fit of ``rows`` rows in a fresh process; its peak RSS [MB]."""
    code = f"""
import json, resource, sys, warnings
import numpy as np
sys.path.insert(0, {str(Path(__file__).parent)!r})
from bench_speed import make_data
warnings.simplefilter("ignore")
n_in, n_out, e = make_data({rows})
ni, no = n_in.astype(float), n_out.astype(float)
del n_in, n_out
import sweetspot as ss
try:
    from sweetspot.fitting import FitData
    data = FitData(n_in=ni, n_out=no, energy_j=e, batch_size=np.ones(ni.size))
except ImportError:  # an older sweetspot: a frame
    import pandas as pd
    cols = {{"n_in": ni.astype(np.int64), "n_out": no.astype(np.int64), "energy_j": e}}
    data = pd.DataFrame(cols)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
ss.fit(data)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"before_mb": before, "peak_mb": peak}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    got = json.loads(proc.stdout)
    got["input_mb"] = rows * 24 / 2**20  # n_in, n_out, energy as float64
    got["extra_mb"] = got["peak_mb"] - got["before_mb"]
    return got


# ---------------------------------------------------------------------- 3. commands ---
def command_time(argv: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, cwd=ROOT)
        best = min(best, time.perf_counter() - t0)
    return best


def commands(repeat: int) -> list[tuple[str, float, float]]:
    floor = command_time([sys.executable, "-c", "import numpy"], repeat)
    sweetspot = [sys.executable, "-m", "sweetspot"]
    runs = [("python -c 'import numpy' (floor)", [sys.executable, "-c", "import numpy"])]
    runs += [
        ("sweetspot --help", [*sweetspot, "--help"]),
        ("sweetspot report", [*sweetspot, "report"]),
    ]
    wilkins = SHARED / "wilkins-grid" / "all-stats-raw.csv"
    if wilkins.is_file():
        runs.append(("sweetspot evaluate (Wilkins grid)", [*sweetspot, "evaluate", str(wilkins)]))
        out = Path(os.environ.get("TMPDIR", "/tmp")) / "sweetspot-bench-tables"
        runs.append(
            (
                "sweetspot tables build",
                [*sweetspot, "tables", "build", "--data", str(SHARED), "--out", str(out)],
            )
        )
    rows = []
    for name, argv in runs:
        t = command_time(argv, repeat)
        rows.append((name, t, t / floor))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--big-rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: fit,memory,commands")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    cpu = platform.processor() or platform.machine()
    print(f"# {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}")

    if "fit" not in skip:
        rows = fit_tools(args.rows, args.repeat)
        t_ss = rows[0][1]
        t_kernel = next((t for n, t, _ in rows if n.startswith("single-pass")), None)
        print(f"\n## 1. six-term fit of {args.rows:,} rows (best of {args.repeat})")
        print("| tool | time / sweetspot (arrays) | note |\n|---|---|---|")
        for name, t, note in rows:
            ratio = "-" if t is None or t_ss is None else f"{t / t_ss:.2f}x"
            print(f"| {name} | {ratio} | {note} |")
        if t_kernel:
            print(f"\nsweetspot (arrays) / single-pass kernel: {t_ss / t_kernel:.1f}x")
        curve = next((t for n, t, _ in rows if n.startswith("scipy")), None)
        if curve:
            print(f"curve_fit / sweetspot (arrays): {curve / t_ss:.1f}x")
    if "memory" not in skip:
        m = peak_rss(args.big_rows)
        limit = 2 * m["input_mb"] + 200
        print(f"\n## 2. in-memory fit of {args.big_rows:,} rows: memory")
        print(
            f"input arrays {m['input_mb']:.0f} MB; the fit added {m['extra_mb']:.0f} MB to the "
            f"process ({m['extra_mb'] / m['input_mb']:.2f}x the input); peak RSS "
            f"{m['peak_mb']:.0f} MB "
            f"against the target of 2x input + 200 MB = {limit:.0f} MB"
        )
    if "commands" not in skip:
        print(f"\n## 3. whole commands (fresh processes, best of {args.repeat})")
        print("| command | time / numpy floor | seconds in this run |\n|---|---|---|")
        for name, t, ratio in commands(args.repeat):
            print(f"| {name} | {ratio:.2f}x | {t:.2f} |")


if __name__ == "__main__":
    main()
