"""Streamed fits and cross-validation over Parquet datasets larger than memory.

The data are read by :class:`sweetspot.io.parquet.ParquetDataset` batch by batch, each batch
validated like :func:`sweetspot.read_measurements` validates a whole file (a bad cell names
the *file* and the *row within that file*). Memory holds about one batch.

Pass 1 feeds every batch to the reduction of :mod:`sweetspot.fitting._solver`, the same one
an in-memory fit runs over the blocks of one array, so both give the same coefficients (to
rounding). Pass 2 evaluates the fitted model on every row for the statistics. The ``mape``
loss is a linear programme whose constraints couple all rows at once; it has no streaming
form and raises :class:`~sweetspot.exceptions.SpecError`.

Cross-validation streams too: each row's fold is computed from its row number (its position
in the dataset, files in sorted order) by a keyed pseudo-random permutation of ``0..n-1``
(:func:`fold_of_rows`), so the folds are exactly balanced like ``numpy.array_split`` of a
shuffle, reproducible from the seed, and need no per-row state. The triangles of the folds
are accumulated separately; the training triangle of fold i combines the others exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..architecture import Architecture
from ..exceptions import FitError, MeasurementError, SpecError
from ..io.parquet import ParquetDataset
from ..models import ModelSpec
from ..result import FitResult
from . import _solver as solver
from ._core import CVResult, Stats, assemble
from ._data import (
    ArchitectureArg,
    FitData,
    Meta,
    check_k,
    check_seed,
    design,
    present,
    rank_message,
    resolve_architectures,
    spec_for,
    too_few_rows,
)

_F64 = NDArray[np.float64]

# Columns the fit itself uses (pass 2 reads only these, plus a grouping column).
_FIT_COLUMNS: frozenset[str] = frozenset(
    {
        "n_in",
        "n_out",
        "energy_j",
        "energy_mj",
        "energy_kj",
        "energy_wh",
        "energy_kwh",
        "n_requests",
        "batch_size",
        "model",
        "gpu",
        "engine",
        "n_gpus",
        "dtype",
    }
)


def _splitmix64(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _permute(x: NDArray[np.uint64], n: int, seed: int) -> NDArray[np.uint64]:
    """Keyed pseudo-random permutation of 0..n-1 (Feistel network with cycle walking)."""
    bits = max(2, int(n - 1).bit_length())
    bits += bits % 2
    half = np.uint64(bits // 2)
    mask = np.uint64((1 << (bits // 2)) - 1)
    keys = _splitmix64(np.arange(4, dtype=np.uint64) + np.uint64(seed) * np.uint64(4))

    def feistel(v: NDArray[np.uint64]) -> NDArray[np.uint64]:
        left, right = v >> half, v & mask
        for key in keys:
            left, right = right, left ^ (_splitmix64(right ^ key) & mask)
        return (left << half) | right

    out = feistel(x)
    todo = np.flatnonzero(out >= np.uint64(n))
    while todo.size:  # cycle walking: re-apply until inside 0..n-1 (a few rounds on average)
        out[todo] = feistel(out[todo])
        todo = todo[out[todo] >= np.uint64(n)]
    return out


def fold_of_rows(row_ids: ArrayLike, n_rows: int, k: int, seed: int = 0) -> NDArray[np.int64]:
    """Fold (0..k-1) of each row of a dataset of ``n_rows`` rows in streamed k-fold CV.

    Row ``r`` goes to the fold of position ``pi(r)`` of a keyed pseudo-random permutation
    ``pi`` of ``0..n_rows-1`` (seeded by ``seed``), with positions split into k contiguous
    chunks exactly as ``numpy.array_split`` splits them: the fold sizes are those of
    :func:`sweetspot.cross_validate` (they differ by at most one row), but the membership
    differs from its ``default_rng(seed).permutation``, which cannot be computed batch by
    batch without holding n row numbers.

    Parameters
    ----------
    row_ids : array_like of int
        Row numbers in ``0..n_rows-1`` (position in the dataset, files in sorted order).
    n_rows : int
        Rows in the dataset.
    k : int
        Number of folds, ``2 <= k <= n_rows``.
    seed : int
        Non-negative seed.

    Examples
    --------
    >>> import numpy as np
    >>> from sweetspot.fitting import fold_of_rows
    >>> f = fold_of_rows(np.arange(10), 10, 3, seed=0)
    >>> np.bincount(f).tolist()
    [4, 3, 3]
    """
    check_k(k, n_rows)
    check_seed(seed)
    rows = np.asarray(row_ids)
    if rows.size and (rows.dtype.kind not in "iu" or rows.min() < 0 or rows.max() >= n_rows):
        raise SpecError(f"row_ids must be integers in 0..{n_rows - 1}; got {rows!r}.")
    pos = _permute(rows.astype(np.uint64), n_rows, int(seed)).astype(np.int64)
    q, r = divmod(n_rows, k)
    edge = r * (q + 1)
    return np.where(pos < edge, pos // (q + 1), r + (pos - edge) // max(q, 1)).astype(np.int64)


class _Spec:
    """The model, resolved with the engine facts of the first batch; every later batch must
    state the same facts (one fit describes one engine configuration)."""

    def __init__(self, model: Any, kv_cache: bool | None, label: str) -> None:
        self.model, self.kv_cache, self.label = model, kv_cache, label
        self.facts: dict[str, Any] | None = None
        self.spec: ModelSpec | None = None

    def of(self, d: FitData) -> ModelSpec:
        if self.facts is None:
            self.facts = dict(d.facts)
            self.spec = spec_for(self.model, self.kv_cache, self.facts)
        elif dict(d.facts) != self.facts:
            col = next(
                c for c in set(self.facts) | set(d.facts) if self.facts.get(c) != d.facts.get(c)
            )
            raise SpecError(
                f"the data mixes {col} values ({self.facts.get(col)!r} and {d.facts.get(col)!r}) "
                f"in {self.label}; one fit describes one engine configuration. Fit each value "
                f"apart: filter the rows on {col!r}."
            )
        assert self.spec is not None
        return self.spec

    def final(self) -> ModelSpec:
        if self.spec is None:  # no rows: resolve without facts for the messages
            self.spec = spec_for(self.model, self.kv_cache, {})
        return self.spec


class _Labels:
    """Model labels seen so far and their resolved architectures."""

    def __init__(self, architecture: ArchitectureArg) -> None:
        self.architecture = architecture
        self.seen: set[str] = set()
        self.has_column = False
        self.archs: dict[str, Architecture] = {}
        self.resolved = False

    def add(self, d: FitData, spec: ModelSpec) -> dict[str, Architecture]:
        self.has_column = d.labels is not None
        new = set(present(d.labels)) - self.seen if d.labels is not None else set()
        if not self.resolved or new:
            self.seen |= new
            self.archs = resolve_architectures(spec, self.architecture, self.labels)
            self.resolved = True
        return self.archs

    @property
    def labels(self) -> NDArray[np.object_] | None:
        if not self.has_column:
            return None
        return np.array(sorted(self.seen), dtype=object)


def _no_rows(data: ParquetDataset) -> MeasurementError:
    return MeasurementError(
        f"{data.label} has no data rows (0 rows in {len(data.files)} Parquet file(s)); "
        "expected at least one measured window with n_in, n_out and energy_j."
    )


def _levels(
    data: ParquetDataset,
    batch_rows: int,
    column_map: Mapping[str, str] | None,
    columns: frozenset[str],
    keep: Callable[[pd.DataFrame, int, Path, int], NDArray[np.bool_]] | None = None,
) -> tuple[int, int]:
    """Distinct n_in and n_out levels (of the rows ``keep`` selects), for the rank message.

    An extra pass, run only on the error path; memory grows with the number of distinct
    lengths, not rows.
    """
    seen_in: set[float] = set()
    seen_out: set[float] = set()
    for file, first, start, df in data.batches(batch_rows, column_map=column_map, columns=columns):
        mask = slice(None) if keep is None else keep(df, start, file, first)
        seen_in.update(pd.unique(df["n_in"].to_numpy(dtype=float)[mask]).tolist())
        seen_out.update(pd.unique(df["n_out"].to_numpy(dtype=float)[mask]).tolist())
    return len(seen_in), len(seen_out)


def fit_dataset(
    data: ParquetDataset,
    model: Any,
    kv_cache: bool | None,
    architecture: ArchitectureArg,
    loss: str,
    batch_rows: int,
    column_map: Mapping[str, str] | None,
) -> tuple[FitResult, list[tuple[str, type[Warning]]]]:
    """Fit ``spec`` to a Parquet dataset in two passes; the result and its warnings."""
    specs = _Spec(model, kv_cache, data.label)
    labels = _Labels(architecture)
    meta = Meta()
    R: _F64 | None = None
    n = 0
    y_sum = 0.0
    unit = 1.0
    batch_lo, batch_hi = math.inf, -math.inf
    for _, _, _, df in data.batches(batch_rows, column_map=column_map):
        d = FitData.from_frame(df)
        spec = specs.of(d)
        archs = labels.add(d, spec)
        if R is None:
            unit = solver.unit_of(d.energy_j)
            R = solver.empty(len(spec.param_names))
        y = d.energy_j / unit
        R = solver.reduce(R, design(spec, d, archs), y, loss)
        n += y.size
        y_sum += float(y.sum())
        batch_lo = min(batch_lo, float(d.batch_size.min()))
        batch_hi = max(batch_hi, float(d.batch_size.max()))
        meta.add(df)
    if n == 0 or R is None:
        raise _no_rows(data)
    spec = specs.final()
    k = len(spec.param_names)
    if n < k:
        raise too_few_rows(spec, n)
    archs = labels.archs
    sol = solver.solve(R, n, spec.is_physical)
    if sol.rank < k:
        lv = _levels(data, batch_rows, column_map, _FIT_COLUMNS)
        raise FitError(rank_message(spec, *lv, sol.rank))
    stats = Stats()
    for _, _, _, df in data.batches(batch_rows, column_map=column_map, columns=_FIT_COLUMNS):
        d = FitData.from_frame(df)
        y = d.energy_j / unit
        stats.add(design(spec, d, archs) @ sol.coef, y, y_sum / n, loss, d.n_in, d.n_out)
    return assemble(
        spec=spec,
        loss=loss,
        sol=sol,
        stats=stats,
        unit=unit,
        archs=archs,
        batch_range=(batch_lo, batch_hi),
        models=present(labels.labels),
        meta=meta.result(data.label),
        facts=specs.facts or {},
    )


class _Folds:
    """Fold index of every row of a batch: k-fold by row number, or by a column's value."""

    def __init__(self, k: int, seed: int, n: int, groups: str | None) -> None:
        self.k, self.seed, self.n, self.groups = k, seed, n, groups
        self.index: dict[Any, int] = {}
        self.labels: list[str] = [f"fold {i}" for i in range(k)] if groups is None else []

    def of(self, df: pd.DataFrame, start: int, file: Path, first: int) -> NDArray[np.int64]:
        if self.groups is None:
            return fold_of_rows(np.arange(start, start + len(df)), self.n, self.k, self.seed)
        if self.groups not in df.columns:
            raise SpecError(
                f"groups={self.groups!r} is not a column of the data; columns are "
                f"{list(df.columns)}."
            )
        values = df[self.groups]
        missing = values.isna().to_numpy(dtype=bool)
        if missing.any():
            row = first + int(np.flatnonzero(missing)[0])
            raise SpecError(
                f"the groups column {self.groups!r} has a missing value in row {row} of {file}; "
                "every row needs a group label."
            )
        codes, uniques = pd.factorize(values)
        lookup = np.empty(len(uniques), dtype=np.int64)
        for i, u in enumerate(uniques):
            key = u.item() if isinstance(u, np.generic) else u
            if key not in self.index:
                self.index[key] = len(self.index)
                self.labels.append(str(key))
            lookup[i] = self.index[key]
        return lookup[codes]

    @property
    def count(self) -> int:
        return len(self.labels)


def _grouped(f: NDArray[np.int64]) -> Iterator[tuple[int, NDArray[np.intp]]]:
    order = np.argsort(f, kind="stable")
    cuts = np.flatnonzero(np.diff(f[order])) + 1
    for rows in np.split(order, cuts):
        yield int(f[rows[0]]), rows


def cross_validate_dataset(
    data: ParquetDataset,
    model: Any,
    kv_cache: bool | None,
    architecture: ArchitectureArg,
    loss: str,
    batch_rows: int,
    column_map: Mapping[str, str] | None,
    k: int,
    seed: int,
    groups: str | None,
) -> CVResult:
    """Cross-validate ``spec`` on a Parquet dataset in two passes."""
    specs = _Spec(model, kv_cache, data.label)
    folds = _Folds(k, seed, data.n_rows, groups)
    labels = _Labels(architecture)
    tris: list[_F64] = []
    counts: list[int] = []
    y_rows = 0
    unit = 1.0
    for file, first, start, df in data.batches(batch_rows, column_map=column_map):
        d = FitData.from_frame(df)
        spec = specs.of(d)
        kp = len(spec.param_names)
        archs = labels.add(d, spec)
        f = folds.of(df, start, file, first)
        X = design(spec, d, archs)
        if y_rows == 0:
            unit = solver.unit_of(d.energy_j)
        while len(tris) < folds.count:
            tris.append(solver.empty(kp))
            counts.append(0)
        for g, rows in _grouped(f):
            tris[g] = solver.reduce(tris[g], X[rows], d.energy_j[rows] / unit, loss)
            counts[g] += rows.size
        y_rows += d.n_rows
    if y_rows == 0:
        raise _no_rows(data)
    spec = specs.final()
    kp = len(spec.param_names)
    width = kp + 1
    if groups is not None and folds.count < 2:
        raise SpecError(f"grouped cross-validation needs >= 2 groups; got {folds.count}.")
    archs = labels.archs
    columns = _FIT_COLUMNS | ({groups} if groups is not None else set())
    coefs = np.empty((folds.count, kp))
    for i, train in enumerate(solver.leave_one_out(tris, width)):
        n_train = y_rows - counts[i]
        where = f"fold {folds.labels[i]!r} (training on {n_train} rows)"
        if n_train < kp:
            raise FitError(f"{where}: {too_few_rows(spec, n_train)}")
        sol = solver.solve(train, n_train, spec.is_physical)
        if sol.rank < kp:

            def training(df: pd.DataFrame, start: int, file: Path, first: int, i: int = i) -> Any:
                return folds.of(df, start, file, first) != i

            lv = _levels(data, batch_rows, column_map, columns, training)
            raise FitError(f"{where}: {rank_message(spec, *lv, sol.rank)}")
        coefs[i] = sol.coef * unit

    ape_fold = np.zeros(folds.count)
    ape_max = 0.0
    for file, first, start, df in data.batches(batch_rows, column_map=column_map, columns=columns):
        d = FitData.from_frame(df)
        f = folds.of(df, start, file, first)
        pred = np.einsum("ij,ij->i", design(spec, d, archs), coefs[f])
        ape = np.abs(pred - d.energy_j) / d.energy_j * 100.0
        ape_fold += np.bincount(f, weights=ape, minlength=folds.count)
        ape_max = max(ape_max, float(ape.max()))
    rows = np.asarray(counts, dtype=np.int64)
    if groups is None:
        scheme = f"streamed k-fold (k={k}, seed={seed})"
    elif spec.is_physical and groups == "model":
        scheme = "leave-one-model-out"
    else:
        scheme = f"grouped by {groups}"
    return CVResult(
        mape=float(ape_fold.sum() / y_rows),
        max_ape=ape_max,
        fold_mape=ape_fold / np.maximum(rows, 1),
        fold_rows=rows,
        fold_labels=tuple(folds.labels),
        scheme=scheme,
        model=spec.label,
        n_rows=int(y_rows),
    )
