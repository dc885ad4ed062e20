"""Core benchmark: fit the six-term model and evaluate the sweet spot at scale.

Prints a table of seconds and same-run ratios against ``scipy.optimize.curve_fit`` (and
``lmfit`` when installed) on the same data. Run::

    python benchmarks/bench_core.py            # 10^6 rows, 10^7 n_in
    python benchmarks/bench_core.py --rows 100000 --points 1000000   # quicker

Targets (2-core machine): fit of 10^6 rows <= 0.5 s and >= 20x faster than curve_fit;
optimal_n_out on 10^7 input lengths <= 0.2 s. Timing is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

import sweetspot as ss

THETA = np.array([2.0e-6, 3.0e-5, 4.0e-3, 5.0e-5, 30.0, 0.35])


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def quad(x: np.ndarray, t1: float, t2: float, t3: float, t4: float, t5: float, t6: float):
    ni, no = x
    return t1 * ni * ni + t2 * ni * no + t3 * ni + t4 * no * no + t5 + t6 * no


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--points", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    n_in = rng.integers(16, 4097, args.rows)
    n_out = rng.integers(16, 4097, args.rows)
    e = ss.energy(THETA, n_in, n_out) * (1 + 0.03 * rng.standard_normal(args.rows))
    df = pd.DataFrame({"n_in": n_in, "n_out": n_out, "energy_j": e})
    x = np.vstack([n_in, n_out]).astype(float)

    rows: list[tuple[str, float, str]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ss.SweetspotWarning)
        t_ss, res = best_of(lambda: ss.fit(df, "sweetspot"), args.repeat)
    rows.append((f"sweetspot.fit, {args.rows:,} rows (relative loss)", t_ss, "1.0x"))

    from scipy.optimize import curve_fit

    def cf() -> np.ndarray:
        p, _ = curve_fit(quad, x, e, p0=np.ones(6) * 1e-3, sigma=e, absolute_sigma=False)
        return p

    t_cf, p_cf = best_of(cf, args.repeat)
    rows.append(("scipy curve_fit, same data and weights", t_cf, f"{t_cf / t_ss:.1f}x slower"))
    try:
        import lmfit

        model = lmfit.Model(
            lambda ni, no, t1, t2, t3, t4, t5, t6: quad((ni, no), t1, t2, t3, t4, t5, t6),
            independent_vars=["ni", "no"],
        )
        params = model.make_params(t1=1e-3, t2=1e-3, t3=1e-3, t4=1e-3, t5=1.0, t6=1e-3)
        t_lm, _ = best_of(
            lambda: model.fit(
                e, params, ni=n_in.astype(float), no=n_out.astype(float), weights=1 / e
            ),
            1,
        )
        rows.append(("lmfit Model.fit, same data and weights", t_lm, f"{t_lm / t_ss:.1f}x slower"))
    except ImportError:
        rows.append(("lmfit (not installed)", float("nan"), "-"))
    agree = float(np.max(np.abs(p_cf - res.theta) / np.abs(res.theta)))

    pts = rng.integers(1, 8193, args.points)
    t_opt, _ = best_of(lambda: ss.optimal_n_out(THETA, pts), args.repeat)
    rows.append((f"sweetspot.optimal_n_out, {args.points:,} n_in", t_opt, ""))
    t_pred, _ = best_of(lambda: ss.energy(THETA, pts, pts), args.repeat)
    rows.append((f"sweetspot.energy (predict), {args.points:,} points", t_pred, ""))

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    print(f"{'task':<55}{'seconds':>10}  ratio")
    for name, t, ratio in rows:
        print(f"{name:<55}{t:>10.3f}  {ratio}")
    print(f"max relative difference of theta, sweetspot vs curve_fit: {agree:.2e}")


if __name__ == "__main__":
    main()
