"""Fitting energy models to measurements: :func:`fit` and :func:`cross_validate`.

All models are linear in their coefficients, so a fit is a (weighted) linear least-squares
problem, a non-negative one for the physical models, or, for the ``mape`` loss, a linear
programme that minimises the mean absolute percentage error exactly.

Losses (``loss=``)
------------------
``relative`` (default)
    minimise ``sum(((y - X c) / y) ** 2)``: least squares weighted by 1/E, so a 5 % miss on a
    30 J request weighs as much as a 5 % miss on a 2 MJ one. This matches the percentage
    errors (MAPE) the literature reports.
``absolute``
    plain least squares on joules (dominated by the most energetic requests).
``mape``
    minimise ``mean(|y - X c| / y)`` exactly, as a linear programme solved with HiGHS.

The target ``y`` is the energy of one request, ``energy_j / n_requests``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ._validation import check_choice
from .architecture import Architecture
from .exceptions import (
    ArchitectureError,
    FitError,
    IllConditionedWarning,
    NegativeCoefficientWarning,
    SpecError,
)
from .models import ModelName, ModelSpec, as_spec
from .result import FitResult

__all__ = ["CVResult", "Loss", "cross_validate", "fit"]

Loss = Literal["relative", "absolute", "mape"]
LOSSES: tuple[str, ...] = ("relative", "absolute", "mape")

#: Condition number of the column-scaled design above which a fit warns.
ILL_CONDITIONED = 1e10

ArchitectureArg = Architecture | str | Mapping[str, Architecture | str] | None


# ---------------------------------------------------------------------------------------
# data preparation
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Prepared:
    frame: pd.DataFrame
    n_in: NDArray[np.float64]
    n_out: NDArray[np.float64]
    y: NDArray[np.float64]
    batch: NDArray[np.float64]
    labels: NDArray[np.object_] | None  # model name per row (None: no model column)


def _prepare(data: Any) -> _Prepared:
    from .io import read_measurements

    if isinstance(data, _Prepared):
        return data
    return _arrays(read_measurements(data))


def _arrays(df: pd.DataFrame) -> _Prepared:
    """The arrays a fit needs from an already validated measurement frame."""
    n_in = df["n_in"].to_numpy(dtype=float)
    n_out = df["n_out"].to_numpy(dtype=float)
    y = df["energy_j"].to_numpy(dtype=float) / df["n_requests"].to_numpy(dtype=float)
    batch = (
        df["batch_size"].to_numpy(dtype=float) if "batch_size" in df.columns else np.ones_like(n_in)
    )
    labels = df["model"].astype(str).to_numpy(dtype=object) if "model" in df.columns else None
    return _Prepared(df, n_in, n_out, y, batch, labels)


def _present(labels: NDArray[np.object_] | None) -> list[str]:
    """Sorted distinct model labels (hash-based: fast on millions of rows)."""
    if labels is None:
        return [""]
    return sorted(str(x) for x in pd.unique(np.asarray(labels, dtype=object)))


def _subset(p: _Prepared, idx: NDArray[np.intp]) -> _Prepared:
    return _Prepared(
        p.frame.iloc[idx],
        p.n_in[idx],
        p.n_out[idx],
        p.y[idx],
        p.batch[idx],
        None if p.labels is None else p.labels[idx],
    )


def _resolve_architectures(
    spec: ModelSpec, architecture: ArchitectureArg, labels: NDArray[np.object_] | None
) -> dict[str, Architecture]:
    """Map each model label in the data to an Architecture (physical models only)."""
    from .architecture import get_architecture

    present = _present(labels)
    if not spec.is_physical:
        if architecture is not None:
            raise SpecError(
                f"model {spec.name!r} is a free polynomial and takes no architecture; drop "
                "architecture=... or use model='flops' / 'memory_flops'."
            )
        if len(present) > 1:
            raise SpecError(
                f"the data holds {len(present)} models ({', '.join(present)}), but a free "
                f"{spec.name!r} model describes one model on one GPU. Fit each model "
                "separately (e.g. data[data.model == name]), or fit a physical model pooled: "
                "fit(data, model='flops', architecture={name: preset, ...})."
            )
        return {}
    if architecture is None:
        if present == [""]:
            raise SpecError(
                f"model {spec.name!r} needs the LLM's architecture and the data has no 'model' "
                "column; pass architecture='llama-2-7b' (see sweetspot.list_architectures()) "
                "or Architecture.from_hf_config(config_dict)."
            )
        try:
            return {name: get_architecture(name) for name in present}
        except ArchitectureError as exc:
            raise SpecError(
                f"cannot infer the architecture of the data's models from their names: {exc} "
                "Pass architecture={model name: preset or Architecture} explicitly."
            ) from exc
    if isinstance(architecture, Mapping):
        out: dict[str, Architecture] = {}
        missing = [name for name in present if name not in architecture]
        if missing:
            raise SpecError(
                f"architecture mapping has no entry for the data's model(s) {missing}; it has "
                f"{sorted(architecture)}. Add them, e.g. {{{missing[0]!r}: 'llama-2-7b'}}."
            )
        for name in present:
            out[name] = get_architecture(architecture[name])
        return out
    arch = get_architecture(architecture)
    if len(present) > 1:
        raise SpecError(
            f"one architecture ({arch.name}) was given but the data holds {len(present)} "
            f"models ({', '.join(present)}); pass a mapping {{model name: architecture}} for "
            "a pooled fit."
        )
    return {present[0]: arch}


def _rows_of(p: _Prepared, name: str) -> NDArray[np.intp] | slice:
    """Rows of one model (all rows when the data has no model column)."""
    return slice(None) if p.labels is None else np.flatnonzero(p.labels == name)


def _design(
    spec: ModelSpec, p: _Prepared, archs: Mapping[str, Architecture]
) -> NDArray[np.float64]:
    if not spec.is_physical:
        return spec.design(p.n_in, p.n_out)
    X = np.empty((p.n_in.size, len(spec.param_names)), order="F")
    for name, arch in archs.items():
        rows = _rows_of(p, name)
        X[rows] = spec.design(
            p.n_in[rows], p.n_out[rows], architecture=arch, batch_size=p.batch[rows]
        )
    return X


# ---------------------------------------------------------------------------------------
# solvers
# ---------------------------------------------------------------------------------------
def _solve(
    X: NDArray[np.float64], y: NDArray[np.float64], loss: str, nonneg: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64], float, int, NDArray[np.float64]]:
    """Return coefficients, standard errors, condition number, rank, scaled singular values.

    The weighted design ``Xw`` is reduced once by a Householder QR to its k x k triangle
    ``R`` (``Xw = Q R``), whose SVD carries the rank, conditioning and covariance of the
    column-scaled problem. Least squares are solved with the corrected semi-normal
    equations (one refinement step against the full data, Bjorck 1987), which is as
    accurate as a full QR solve and much cheaper for millions of rows.
    """
    n, k = X.shape
    # energies divided by a power of two (exact) near their median: sums of squares neither
    # overflow nor underflow whether energies are 1e-300 or 1e300 J
    unit = _unit(y)
    y = y / unit
    Xw = np.empty((n, k), order="F")
    if loss in ("relative", "mape"):
        w = 1.0 / y
        for j in range(k):
            np.multiply(X[:, j], w, out=Xw[:, j])
        yw = np.ones_like(y)
    else:
        Xw[...] = X
        yw = np.asarray(y, dtype=float)
    with _single_threaded_blas():  # faster for tall-skinny QR, and on a busy machine
        R = np.asarray(np.linalg.qr(Xw, mode="r"), dtype=float)[:k]
    scale = _column_norms(R)
    scale[scale == 0] = 1.0
    Rs = R / scale
    try:
        _, s, vt = np.linalg.svd(Rs)
    except np.linalg.LinAlgError as exc:
        raise FitError(
            f"the least-squares problem is numerically degenerate ({exc}): energies span "
            f"{unit * y.min():.3g} .. {unit * y.max():.3g} J. Check the units of energy_j "
            "(joules) and of the lengths (tokens)."
        ) from exc
    tol = s.max() * max(n, k) * np.finfo(float).eps
    rank = int(np.sum(s > tol))
    cond = float(s.max() / s.min()) if s.min() > 0 else float("inf")
    if rank < k:
        return np.full(k, np.nan), np.full(k, np.nan), cond, rank, s
    inv_gram = (vt.T / s**2) @ vt  # (Xs^T Xs)^-1 of the column-scaled design

    def xs_t(v: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray((Xw.T @ v) / scale, dtype=float)

    def xs(b: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(Xw @ (b / scale), dtype=float)

    if loss == "mape":
        b = _solve_l1(Xw / scale, yw, nonneg)
    else:
        b = inv_gram @ xs_t(yw)
        b = b + inv_gram @ xs_t(yw - xs(b))
        if nonneg and np.any(b < 0):
            from scipy.optimize import nnls

            # same objective reduced to k x k: ||Xs b - yw||^2 = ||Rs b - z||^2 + const
            z = np.linalg.solve(Rs.T, xs_t(yw))
            b, _ = nnls(Rs, z, maxiter=50 * k)
            free = b > 0
            if np.any(free):  # refine the unconstrained coordinates against the full data
                sub = np.linalg.inv(np.linalg.inv(inv_gram)[np.ix_(free, free)])
                b[free] = np.maximum(b[free] + sub @ xs_t(yw - xs(b))[free], 0.0)
    resid = yw - xs(b)
    dof = n - k
    if loss == "mape" or dof <= 0:
        se = np.full(k, np.nan)
    else:
        sigma2 = _rms(resid) ** 2 * n / dof
        se = np.sqrt(np.maximum(np.diag(inv_gram) * sigma2, 0.0))
        if nonneg:
            se[b <= 0] = np.nan  # held at the bound: no symmetric standard error
    coef = b / scale * unit
    if not np.all(np.isfinite(coef)):
        raise FitError(
            "the fit overflowed (non-finite coefficients): energies span "
            f"{unit * y.min():.3g} .. {unit * y.max():.3g} J, too wide for loss={loss!r}. "
            "Check the units of energy_j, or use loss='relative'."
        )
    return coef, se / scale * unit, cond, rank, s


def _unit(y: NDArray[np.float64]) -> float:
    """A power of two between the smallest and largest energy (geometric middle):
    ``y / unit`` is exact and as close to 1 as the spread allows."""
    lo = int(np.frexp(np.min(y))[1])
    hi = int(np.frexp(np.max(y))[1])
    return float(np.ldexp(1.0, (lo + hi) // 2))


def _column_norms(R: NDArray[np.float64]) -> NDArray[np.float64]:
    """Column 2-norms without the under/overflow of summing squares."""
    big = np.max(np.abs(R), axis=0)
    safe = np.where(big > 0, big, 1.0)
    return np.asarray(big * np.sqrt(np.einsum("ij,ij->j", R / safe, R / safe)), dtype=float)


def _rms(x: NDArray[np.float64]) -> float:
    """Root mean square without overflow (scaled by the largest magnitude)."""
    big = float(np.max(np.abs(x))) if x.size else 0.0
    if big == 0.0 or not np.isfinite(big):
        return big
    return big * float(np.sqrt(np.mean((x / big) ** 2)))


def _single_threaded_blas() -> Any:
    """Limit BLAS to one thread if threadpoolctl is available (it ships with scikit-learn)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, "blas")


def _solve_l1(Xs: NDArray[np.float64], yw: NDArray[np.float64], nonneg: bool) -> NDArray:
    """min sum |yw - Xs b| as an LP: variables (b, u), u >= |yw - Xs b|."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, eye, hstack, vstack

    n, k = Xs.shape
    c = np.concatenate([np.zeros(k), np.ones(n)])
    A = csr_matrix(Xs)
    In = eye(n, format="csr")
    A_ub = vstack([hstack([A, -In]), hstack([-A, -In])], format="csr")
    b_ub = np.concatenate([yw, -yw])
    bounds = [(0, None) if nonneg else (None, None)] * k + [(0, None)] * n
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if not res.success:
        raise FitError(f"the MAPE linear programme failed: {res.message}. Try loss='relative'.")
    return np.asarray(res.x[:k], dtype=float)


def _rank_message(spec: ModelSpec, p: _Prepared, rank: int, k: int) -> str:
    n_in_levels = np.unique(p.n_in).size
    n_out_levels = np.unique(p.n_out).size
    hint = ""
    if spec.name == "sweetspot":
        hint = (
            " The six-term model needs at least 3 distinct n_in and 3 distinct n_out levels "
            "(quadratic in each) and both varying together."
        )
    elif spec.name in ("linear", "wilkins"):
        hint = " It needs at least 2 distinct n_in and 2 distinct n_out levels."
    else:
        hint = (
            " Physical features can coincide when few lengths are measured; measure more "
            "(n_in, n_out) combinations or use split_phases=False."
        )
    return (
        f"the design of model {spec.label!r} is rank deficient (rank {rank} < {k} coefficients "
        f"{list(spec.param_names)}): the data has {n_in_levels} distinct n_in and "
        f"{n_out_levels} distinct n_out levels.{hint}"
    )


def _fit_messages(
    spec: ModelSpec, coef: NDArray[np.float64], cond: float
) -> list[tuple[str, type[Warning]]]:
    """Warnings a fit deserves: ill-conditioning, negative free coefficients."""
    msgs: list[tuple[str, type[Warning]]] = []
    if cond > ILL_CONDITIONED:
        msgs.append(
            (
                f"ill-conditioned design (condition number {cond:.2g} after column scaling): "
                "coefficients are poorly determined; measure a wider (n_in, n_out) grid.",
                IllConditionedWarning,
            )
        )
    if not spec.is_physical:
        neg = [f"{nm} = {v:.3g}" for nm, v in zip(spec.param_names, coef, strict=True) if v < 0]
        if neg:
            msgs.append(
                (
                    f"negative free coefficient(s) {', '.join(neg)}: the model may predict "
                    "implausible (even negative) energy outside the fitted range.",
                    NegativeCoefficientWarning,
                )
            )
    return msgs


def _fit_prepared(
    p: _Prepared,
    spec: ModelSpec,
    archs: Mapping[str, Architecture],
    loss: str,
    *,
    emit_warnings: bool = True,
) -> FitResult:
    k = len(spec.param_names)
    n = p.y.size
    if n < k:
        raise FitError(
            f"model {spec.label!r} has {k} coefficients but the data has only {n} row(s); "
            f"measure at least {k} (n_in, n_out) points (more than {k} to estimate errors)."
        )
    X = _design(spec, p, archs)
    coef, se, cond, rank, _ = _solve(X, p.y, loss, nonneg=spec.is_physical)
    if rank < k:
        raise FitError(_rank_message(spec, p, rank, k))
    pred = X @ coef
    ape = np.abs(pred - p.y) / p.y * 100.0
    resid = pred - p.y
    rmse = _rms(resid)
    spread = _rms(p.y - p.y.mean())
    r2 = 1.0 - (rmse / spread) ** 2 if spread > 0 else float("nan")
    msgs = _fit_messages(spec, coef, cond)
    if emit_warnings:
        for text, cat in msgs:
            warnings.warn(text, cat, stacklevel=3)
    batches = np.unique(p.batch)
    meta: dict[str, Any] = {}
    for col in ("gpu", "engine", "n_gpus", "dtype"):
        if col in p.frame.columns:
            vals = sorted({str(v) for v in p.frame[col].dropna()})
            if len(vals) == 1:
                meta[col] = vals[0]
    if "source" in p.frame.attrs:
        meta["source"] = str(p.frame.attrs["source"])
    return FitResult(
        spec=spec,
        loss=loss,
        param_names=spec.param_names,
        values=tuple(float(v) for v in coef),
        stderrs=tuple(float(v) for v in se),
        units=spec.param_units,
        architectures=tuple(sorted(archs.items())),
        batch_size=float(batches[0]) if batches.size == 1 else 1.0,
        n_rows=int(n),
        mape=float(ape.mean()),
        max_ape=float(ape.max()),
        rmse=rmse,
        r2=r2,
        condition_number=cond,
        n_in_range=(float(p.n_in.min()), float(p.n_in.max())),
        n_out_range=(float(p.n_out.min()), float(p.n_out.max())),
        models=tuple(m for m in _present(p.labels) if m),
        fit_warnings=tuple(t for t, _ in msgs),
        meta=meta,
    )


# ---------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------
def fit(
    data: Any,
    model: ModelName | ModelSpec = "sweetspot",
    *,
    architecture: ArchitectureArg = None,
    loss: Loss = "relative",
    kv_cache: bool = True,
) -> FitResult:
    """Fit an energy model to measurements.

    Parameters
    ----------
    data : DataFrame, path or anything :func:`sweetspot.read_measurements` reads
        Measurements in the schema of DESIGN.md section 5 (``n_in``, ``n_out``,
        ``energy_j``, optional ``n_requests``, ``batch_size``, ``model``...). A directory
        of Parquet files, or a Parquet file of at least a million rows, is fitted streaming
        (:func:`sweetspot.stream.fit_parquet`: same coefficients, bounded memory).
    model : {"sweetspot", "linear", "wilkins", "flops", "memory_flops"} or ModelSpec
        Model family; a :class:`~sweetspot.models.ModelSpec` carries the physical options
        (``logits``, ``split_phases``, ``per_pass``, ``eager_attention``).
    architecture : str, Architecture or mapping, optional
        Physical models: the measured LLM (a preset name, a Hugging Face id or an
        :class:`Architecture`); a mapping ``{model name: architecture}`` fits the rows of
        several LLMs *pooled*, so the coefficients become hardware constants. When omitted
        the architectures are looked up from the data's ``model`` column.
    loss : {"relative", "absolute", "mape"}
        See the module docstring. Physical coefficients are constrained non-negative.
    kv_cache : bool
        Physical models: whether the engine keeps a KV cache (False for Hugging Face
        ``use_cache=False`` data such as Wilkins et al.).

    Returns
    -------
    FitResult

    Raises
    ------
    MeasurementError
        The data violates the schema (names the column and row).
    FitError
        Fewer rows than coefficients, or a rank-deficient design.
    SpecError
        Unknown model or loss, or an architecture problem.

    Warns
    -----
    IllConditionedWarning, NegativeCoefficientWarning

    Examples
    --------
    >>> import numpy as np, pandas as pd, sweetspot as ss
    >>> ni, no = np.meshgrid([64, 256, 1024, 4096], [64, 256, 1024, 4096])
    >>> theta = [1e-6, 2e-5, 3e-3, 4e-5, 5.0, 0.2]
    >>> E = ss.energy(theta, ni.ravel(), no.ravel())
    >>> res = ss.fit(pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel(), "energy_j": E}))
    >>> np.allclose(res.theta, theta)
    True
    """
    check_choice(loss, "loss", LOSSES)
    spec = as_spec(model, kv_cache=kv_cache)
    if loss != "mape":
        from . import stream

        if stream.should_stream(data):  # Parquet directory, or a file of >= 1e6 rows
            return stream.fit_parquet(data, spec, architecture=architecture, loss=loss)
    p = _prepare(data)
    archs = _resolve_architectures(spec, architecture, p.labels)
    return _fit_prepared(p, spec, archs, loss)


@dataclass(frozen=True, slots=True, kw_only=True)
class CVResult:
    """Cross-validated prediction error.

    Attributes
    ----------
    mape : float
        MAPE over all held-out predictions [%] (each row predicted once, by the fold that
        left it out).
    fold_mape : ndarray
        MAPE of each fold [%].
    fold_labels : tuple of str
        What each fold held out (``"fold 0"`` ... or the group value).
    predicted_j : ndarray
        Held-out prediction for every row, aligned with the data [J].
    ape : ndarray
        Absolute percentage error of every row [%].
    scheme : str
        ``"k-fold (k=5, seed=0)"`` or ``"grouped by <column>"``.
    """

    mape: float
    fold_mape: NDArray[np.float64]
    fold_labels: tuple[str, ...]
    predicted_j: NDArray[np.float64]
    ape: NDArray[np.float64]
    scheme: str
    model: str

    @property
    def max_ape(self) -> float:
        """Largest held-out absolute percentage error [%]."""
        return float(self.ape.max())

    def __repr__(self) -> str:
        return (
            f"CVResult({self.model}, {self.scheme}: MAPE {self.mape:.3f} % over "
            f"{len(self.fold_labels)} folds)"
        )


def cross_validate(
    data: Any,
    model: ModelName | ModelSpec = "sweetspot",
    *,
    k: int = 5,
    seed: int = 0,
    groups: str | Sequence[Any] | NDArray[Any] | None = None,
    architecture: ArchitectureArg = None,
    loss: Loss = "relative",
    kv_cache: bool = True,
) -> CVResult:
    """Cross-validated MAPE of a model: random k-fold, grouped, or leave-one-model-out.

    Parameters
    ----------
    data, model, architecture, loss, kv_cache
        As in :func:`fit`.
    k : int
        Number of random folds (ignored when ``groups`` is given). Rows are shuffled with
        ``numpy.random.default_rng(seed).permutation`` and split with ``numpy.array_split``.
    seed : int
        Seed of the shuffle.
    groups : str or array_like, optional
        Leave one group out at a time: a column name of the data (``"prompt"``, ``"n_out"``,
        ``"n_in"``; ``"model"`` gives leave-one-model-out for a pooled physical fit, the
        held-out model predicted from the others' hardware constants and its architecture)
        or one label per row.

    Returns
    -------
    CVResult
        ``.mape`` is in percent.
    """
    check_choice(loss, "loss", LOSSES)
    spec = as_spec(model, kv_cache=kv_cache)
    p = _prepare(data)
    archs = _resolve_architectures(spec, architecture, p.labels)
    n = p.y.size
    if groups is None:
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 2:
            raise SpecError(f"k must be an integer >= 2; got {k!r}.")
        if k > n:
            raise SpecError(f"k = {k} folds need at least {k} rows; the data has {n}.")
        perm = np.random.default_rng(seed).permutation(n)
        folds = [np.sort(f) for f in np.array_split(perm, k)]
        labels = tuple(f"fold {i}" for i in range(k))
        scheme = f"k-fold (k={k}, seed={seed})"
    else:
        if isinstance(groups, str):
            if groups not in p.frame.columns:
                raise SpecError(
                    f"groups={groups!r} is not a column of the data; columns are "
                    f"{list(p.frame.columns)}."
                )
            g = p.frame[groups].to_numpy()
            scheme = f"grouped by {groups}"
        else:
            g = np.asarray(groups)
            if g.shape != (n,):
                raise SpecError(f"groups must hold one label per row ({n}); got shape {g.shape}.")
            scheme = "grouped"
        uniq = pd.unique(pd.Series(g))
        if len(uniq) < 2:
            raise SpecError(f"grouped cross-validation needs >= 2 groups; got {len(uniq)}.")
        folds = [np.flatnonzero(g == u) for u in uniq]
        labels = tuple(str(u) for u in uniq)
        if spec.is_physical and isinstance(groups, str) and groups == "model":
            scheme = "leave-one-model-out"
    pred = np.empty(n)
    fold_mape = np.empty(len(folds))
    for i, test in enumerate(folds):
        train = np.setdiff1d(np.arange(n), test, assume_unique=True)
        pt = _subset(p, train)
        present = set(_present(pt.labels))
        train_archs = {m: a for m, a in archs.items() if m in present}
        try:
            res = _fit_prepared(pt, spec, train_archs, loss, emit_warnings=False)
        except FitError as exc:
            raise FitError(f"fold {labels[i]!r} (training on {train.size} rows): {exc}") from exc
        pred[test] = _predict_rows(res, _subset(p, test), archs)
        fold_mape[i] = float(np.mean(np.abs(pred[test] - p.y[test]) / p.y[test]) * 100.0)
    ape = np.abs(pred - p.y) / p.y * 100.0
    return CVResult(
        mape=float(ape.mean()),
        fold_mape=fold_mape,
        fold_labels=labels,
        predicted_j=pred,
        ape=ape,
        scheme=scheme,
        model=spec.label,
    )


def _predict_rows(res: FitResult, p: _Prepared, archs: Mapping[str, Architecture]) -> NDArray:
    if not res.spec.is_physical:
        return res.predict(p.n_in, p.n_out, warn=False)
    out = np.empty(p.y.size)
    for name, arch in archs.items():
        rows = _rows_of(p, name)
        if not np.any(np.ones(p.y.size, bool)[rows]):
            continue
        X = res.spec.design(
            p.n_in[rows], p.n_out[rows], architecture=arch, batch_size=p.batch[rows]
        )
        out[rows] = X @ res.coef
    return out
