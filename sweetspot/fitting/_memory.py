"""Fits and cross-validation of data held in memory: the one-block case of the reduction."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from ..architecture import Architecture
from ..exceptions import FitError
from ..models import ModelSpec
from ..result import FitResult
from . import _solver as solver
from ._core import CVResult, Stats, assemble
from ._data import FitData, Meta, design, levels, rank_message, too_few_rows

_F64 = NDArray[np.float64]


def _solve(X: _F64, y: _F64, R: _F64, n: int, spec: ModelSpec, loss: str) -> solver.Solution | None:
    """Coefficients from the triangle ``R`` of rows ``X``, ``y`` (None: rank deficient)."""
    sol = solver.solve(R, n, nonneg=spec.is_physical)
    if sol.rank < len(spec.param_names):
        return None
    if loss == "mape":
        sol = solver.solve_l1(X, y, sol, nonneg=spec.is_physical)
    return sol


def fit_data(
    d: FitData,
    spec: ModelSpec,
    archs: Mapping[str, Architecture],
    loss: str,
    *,
    data_warnings: tuple[tuple[str, type[Warning]], ...] = (),
) -> FitResult:
    """Fit ``spec`` to the rows of ``d`` (validated) and assemble the FitResult."""
    k = len(spec.param_names)
    n = d.n_rows
    if n < k:
        raise too_few_rows(spec, n)
    unit = solver.unit_of(d.energy_j)

    def blocks(rows: int = solver.GRAM_BLOCK_ROWS) -> Iterator[tuple[_F64, _F64]]:
        """The rows block by block: design and target (energies in solver units)."""
        for start in range(0, n, rows):
            part = slice(start, start + rows)
            labels = None if d.labels is None else d.labels[part]
            X = spec.design_rows(
                d.n_in[part],
                d.n_out[part],
                architectures=archs,
                labels=labels,
                batch_size=d.batch_size[part],
            )
            yield X, d.energy_j[part] / unit

    with solver.one_blas_thread():
        if loss == "mape":  # the LP couples all rows: it needs the whole design
            X = design(spec, d, archs)
            y = d.energy_j / unit
            R = solver.reduce(solver.empty(k), X, y, loss)
            sol = _solve(X, y, R, n, spec, loss)
        else:
            gram = solver.gram_triangle(blocks, k, loss)
            if gram is None:  # ill-conditioned, rank deficient or exact: Householder
                R = solver.empty(k)
                for X, y in blocks(solver.BLOCK_ROWS):
                    R = solver.reduce(R, X, y, loss)
            else:
                R = gram
            sol = _solve(np.empty((0, k)), np.empty(0), R, n, spec, loss)
    if sol is None:
        rank = solver.solve(R, n, nonneg=spec.is_physical).rank
        raise FitError(rank_message(spec, *levels(d), rank))
    stats = Stats()
    mean = float(d.energy_j.mean()) / unit
    for start, (X, y) in zip(
        range(0, n, solver.BLOCK_ROWS), blocks(solver.BLOCK_ROWS), strict=True
    ):
        part = slice(start, start + solver.BLOCK_ROWS)
        stats.add(X @ sol.coef, y, mean, loss, d.n_in[part], d.n_out[part])
    meta = Meta()
    meta.add(d.frame)
    source = None if d.frame is None else d.frame.attrs.get("source")
    res, msgs = assemble(
        spec=spec,
        loss=loss,
        sol=sol,
        stats=stats,
        unit=unit,
        archs=archs,
        batch_range=(float(d.batch_size.min()), float(d.batch_size.max())),
        models=d.models,
        meta=meta.result(source),
        facts=d.facts,
        data_warnings=data_warnings,
    )
    for text, cat in msgs[len(data_warnings) :]:  # the data's were raised when read
        warnings.warn(text, cat, stacklevel=3)
    return res


def cross_validate_data(
    d: FitData,
    spec: ModelSpec,
    archs: Mapping[str, Architecture],
    loss: str,
    folds: Sequence[NDArray[np.intp]],
    labels: tuple[str, ...],
    scheme: str,
) -> CVResult:
    """Held-out predictions of every fold: one triangle per fold, the others combined."""
    k = len(spec.param_names)
    n = d.n_rows
    X = design(spec, d, archs)  # every row with its own model's architecture
    unit = solver.unit_of(d.energy_j)
    y = d.energy_j / unit
    pred = np.empty(n)
    with solver.one_blas_thread():
        tris = [solver.reduce(solver.empty(k), X[f], y[f], loss) for f in folds]
        for i, (test, R) in enumerate(zip(folds, solver.leave_one_out(tris, k + 1), strict=True)):
            train = np.setdiff1d(np.arange(n), test, assume_unique=True)
            where = f"fold {labels[i]!r} (training on {train.size} rows)"
            if train.size < k:
                raise FitError(f"{where}: {too_few_rows(spec, int(train.size))}")
            sol = _solve(X[train], y[train], R, train.size, spec, loss)
            if sol is None:
                rank = solver.solve(R, train.size, nonneg=spec.is_physical).rank
                msg = rank_message(spec, *levels(d.subset(train)), rank)
                raise FitError(f"{where}: {msg}")
            pred[test] = (X[test] @ sol.coef) * unit
    ape = np.abs(pred - d.energy_j) / d.energy_j * 100.0
    fold_mape = np.array([float(ape[f].mean()) for f in folds])
    return CVResult(
        mape=float(ape.mean()),
        max_ape=float(ape.max()),
        fold_mape=fold_mape,
        fold_rows=np.array([f.size for f in folds], dtype=np.int64),
        fold_labels=labels,
        scheme=scheme,
        model=spec.label,
        n_rows=n,
        predicted_j=pred,
        ape=ape,
    )
