"""Diagnostics behind docs/evaluation.md for the Wilkins grid.

1. How low can 5-fold CV MAPE go? A noise-floor check.

Fits, per (model, GPU count) group, free polynomials with *more* freedom than any physical
model: the full cubic in (n_in, n_out) with 9 and 10 coefficients (every monomial a
cache-off engine can produce, and n_in^3 on top), with the same relative least squares and
the same 5 folds (numpy default_rng(0)) as `sweetspot evaluate`. If these cannot go below
~5 %, no 4-coefficient physical model honestly can: the rest is measurement noise
(NVML counter granularity on sub-second windows, true output length in [0.9 N, N]).

2. The same best physical model with the first (cold-start) cell of each group left out.
3. Cache-on versus cache-off physical models on this cache-off data.
4. How much more the context^2 cost is than the attention FLOPs alone predict.

    python docs/scripts/wilkins_diagnostics.py ../shared/data/wilkins-grid/all-stats-raw.csv
"""

from __future__ import annotations

import sys

import numpy as np

import sweetspot as ss


def cubic(n_in: np.ndarray, n_out: np.ndarray, with_nin3: bool) -> np.ndarray:
    a, b = n_in, n_out
    cols = [np.ones_like(a), a, b, a * a, a * b, b * b, a * a * b, a * b * b, b**3]
    if with_nin3:
        cols.append(a**3)
    return np.column_stack(cols)


def cv_mape(X: np.ndarray, y: np.ndarray, k: int = 5, seed: int = 0) -> float:
    n = len(y)
    folds = np.array_split(np.random.default_rng(seed).permutation(n), k)
    pred = np.empty(n)
    for test in folds:
        train = np.setdiff1d(np.arange(n), test)
        w = 1.0 / y[train]
        Xs = X[train] * w[:, None]
        scale = np.linalg.norm(Xs, axis=0)
        coef, *_ = np.linalg.lstsq(Xs / scale, y[train] * w, rcond=None)
        pred[test] = X[test] @ (coef / scale)
    return float(np.mean(np.abs(pred - y) / y) * 100)


def main(path: str) -> None:
    data = ss.read_measurements(path, format="wilkins")
    print("1. 5-fold CV MAPE [%]; 'no 1st cell' leaves out the first (cold-start) cell")
    head = f"{'group':<26}{'cubic9':>8}{'cubic10':>9}{'best physical':>15}{'no 1st cell':>13}"
    print(head + f"{'quadratic':>11}")
    rows = []
    best = ss.ModelSpec(
        name="flops",
        kv_cache=False,
        logits="all",
        per_pass=True,
        eager_attention=True,
        split_phases=False,
    )
    for (model, gpus), g in data.groupby(["model", "n_gpus"]):
        a = g["n_in"].to_numpy(float)
        b = g["n_out"].to_numpy(float)
        y = g["energy_j"].to_numpy(float)
        c9 = cv_mape(cubic(a, b, False), y)
        c10 = cv_mape(cubic(a, b, True), y)
        phys = ss.cross_validate(g, best, architecture={model: model}).mape
        warm = g.sort_values("timestamp").iloc[1:]
        phys_warm = ss.cross_validate(warm, best, architecture={model: model}).mape
        quad = ss.cross_validate(g, "sweetspot").mape
        rows.append((c9, c10, phys, phys_warm, quad))
        print(
            f"{model + ' x' + str(gpus):<26}{c9:>8.2f}{c10:>9.2f}{phys:>15.2f}"
            f"{phys_warm:>13.2f}{quad:>11.2f}"
        )
    m = np.mean(rows, axis=0)
    print(f"{'mean':<26}{m[0]:>8.2f}{m[1]:>9.2f}{m[2]:>15.2f}{m[3]:>13.2f}{m[4]:>11.2f}")
    mx = np.max(rows, axis=0)
    print(
        f"{'worst group':<26}{mx[0]:>8.2f}{mx[1]:>9.2f}{mx[2]:>15.2f}{mx[3]:>13.2f}{mx[4]:>11.2f}"
    )

    print("\n3. 5-fold CV MAPE [%] of memory_flops + overhead, assuming a KV cache or not")
    for (model, gpus), g in data.groupby(["model", "n_gpus"]):
        # the rows say kv_cache=False; to price them as if the engine kept a cache, the
        # column that records it has to go (sweetspot refuses a spec that contradicts it)
        on, off = (
            ss.cross_validate(
                g.drop(columns="kv_cache") if kv else g,
                ss.ModelSpec(name="memory_flops", kv_cache=kv, per_pass=True),
                architecture={model: model},
            ).mape
            for kv in (True, False)
        )
        print(f"{model + ' x' + str(gpus):<26} cache on {on:6.2f}   cache off {off:6.2f}")

    print("\n4. context^2 cost: measured (FLOPs + score term) / attention FLOPs alone")
    for (model, gpus), g in data.groupby(["model", "n_gpus"]):
        arch = ss.get_architecture(model)
        res = ss.fit(g, best, architecture={model: model})
        e_f, e_s = res.params["j_per_flop"], res.params["j_per_score"]
        # per query-key pair and layer: 2 a d FLOPs (QK^T + AV per pair, causal halving
        # aside) against a score elements
        ratio = 1.0 + e_s * arch.n_heads / (e_f * 2.0 * arch.n_heads * arch.head_dim)
        shape = f"(heads {arch.n_heads}, d {arch.head_dim})"
        print(f"{model + ' x' + str(gpus):<26} {ratio:6.1f}x  {shape}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/wilkins-grid/all-stats-raw.csv")
