"""Fitting energy models to measurements: :func:`fit` and :func:`cross_validate`.

All models are linear in their coefficients, so a fit is a (weighted) linear least-squares
problem, a non-negative one for the physical models, or, for the ``mape`` loss, a linear
programme that minimises the mean absolute percentage error exactly. Data in memory and
Parquet datasets larger than memory go through the same reduction and the same solver
(:mod:`sweetspot.fitting._solver`); :func:`fit` and :func:`cross_validate` pick the streamed
path for a Parquet directory or a Parquet file of at least :data:`STREAM_MIN_ROWS` rows, and
:func:`fit_parquet` / :func:`cross_validate_parquet` take it explicitly, with the batch size
and a column map.

Losses (``loss=``)
------------------
``relative`` (default)
    minimise ``sum(((y - X c) / y) ** 2)``: least squares weighted by 1/E, so a 5 % miss on a
    30 J request weighs as much as a 5 % miss on a 2 MJ one. This matches the percentage
    errors (MAPE) the literature reports.
``absolute``
    plain least squares on joules (dominated by the most energetic requests).
``mape``
    minimise ``mean(|y - X c| / y)`` exactly, as a linear programme solved with HiGHS (in
    memory only: its constraints couple all rows at once).

The target ``y`` is the energy of one request, ``energy_j / n_requests``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._validation import check_choice
from ..exceptions import SpecError, SweetspotWarning
from ..io import read_measurements
from ..io.parquet import DEFAULT_BATCH_ROWS, STREAM_MIN_ROWS, ParquetDataset, should_stream
from ..models import ModelName, ModelSpec, as_spec
from ..result import LOSSES, FitResult
from . import _memory, _stream
from ._core import ILL_CONDITIONED, CVResult
from ._data import (
    ArchitectureArg,
    FitData,
    check_k,
    check_seed,
    engine_facts,
    resolve_architectures,
    spec_for,
)
from ._solver import one_blas_thread
from ._stream import fold_of_rows

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "ILL_CONDITIONED",
    "LOSSES",
    "STREAM_MIN_ROWS",
    "ArchitectureArg",
    "CVResult",
    "FitData",
    "Loss",
    "cross_validate",
    "cross_validate_parquet",
    "engine_facts",
    "fit",
    "fit_parquet",
    "fold_of_rows",
    "spec_for",
]

Loss = Literal["relative", "absolute", "mape"]


def _as_data(data: Any) -> tuple[FitData, tuple[tuple[str, type[Warning]], ...]]:
    """The fit's arrays, and the warnings reading the data raised (re-raised here and
    recorded in the fit's report)."""
    if isinstance(data, FitData):
        return data, ()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SweetspotWarning)
        frame = read_measurements(data)
    raised = []
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if issubclass(w.category, SweetspotWarning):
            raised.append((str(w.message), w.category))
    return FitData.from_frame(frame), tuple(raised)


def _check_stream(loss: Any, batch_rows: Any) -> None:
    if loss == "mape":
        raise SpecError(
            "loss='mape' is not supported for streamed fits: the exact MAPE fit is a linear "
            "programme over all rows at once, which has no batch-by-batch form. Use "
            "loss='relative' (least squares on relative errors, the default and close to the "
            "MAPE fit), or read the data into memory and use sweetspot.fit(..., loss='mape')."
        )
    if (
        not isinstance(batch_rows, (int, np.integer))
        or isinstance(batch_rows, bool)
        or (batch_rows < 1)
    ):
        raise SpecError(f"batch_rows must be a positive integer; got {batch_rows!r}.")


def fit(
    data: Any,
    model: ModelName | ModelSpec = "sweetspot",
    *,
    architecture: ArchitectureArg = None,
    loss: Loss = "relative",
    kv_cache: bool | None = None,
) -> FitResult:
    """Fit an energy model to measurements.

    Parameters
    ----------
    data : DataFrame, path, FitData or anything :func:`sweetspot.read_measurements` reads
        Measurements in the schema of DESIGN.md section 5 (``n_in``, ``n_out``,
        ``energy_j``, optional ``n_requests``, ``batch_size``, ``model``...). A directory
        of Parquet files, or a Parquet file of at least a million rows, is fitted streaming
        (as :func:`fit_parquet`: same coefficients, bounded memory).
    model : str or ModelSpec
        Model family (:data:`sweetspot.models.MODEL_NAMES`: ``"sweetspot"``, ``"linear"``,
        ``"wilkins"``, the paper's baselines ``"per_token"``, ``"per_token_fixed"``,
        ``"per_token_context"``, its ``"sweetspot_flops"``, ``"flops"``,
        ``"memory_flops"``); a :class:`~sweetspot.models.ModelSpec` carries the physical
        options (``logits``, ``split_phases``, ``per_pass``, ``eager_attention``).
    architecture : str, Architecture or mapping, optional
        Physical models: the measured LLM (a preset name, a Hugging Face id or an
        :class:`Architecture`); a mapping ``{model name: architecture}`` fits the rows of
        several LLMs *pooled*, so the coefficients become hardware constants. When omitted
        the architectures are looked up from the data's ``model`` column.
    loss : {"relative", "absolute", "mape"}
        See the module docstring. Physical coefficients are constrained non-negative.
    kv_cache : bool, optional
        Physical models: whether the engine keeps a KV cache (False for Hugging Face
        ``use_cache=False`` data such as Wilkins et al.). Default: what the data's
        ``kv_cache`` column says, else True. The engine facts of the rows (``kv_cache``,
        ``engine``, ``n_gpus``) must be single-valued, and a spec that contradicts the
        ``kv_cache`` column is an error (see :func:`sweetspot.fitting.spec_for`).

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
    _check_model(model, kv_cache)
    if loss != "mape" and should_stream(data):  # Parquet directory, or a file of >= 1e6 rows
        return _fit_parquet(data, model, kv_cache, architecture, loss, DEFAULT_BATCH_ROWS, None)
    d, raised = _as_data(data)
    spec = spec_for(model, kv_cache, d.facts)
    archs = resolve_architectures(spec, architecture, d.labels)
    return _memory.fit_data(d, spec, archs, loss, data_warnings=raised)


def fit_parquet(
    path: str | os.PathLike[str],
    model: ModelName | ModelSpec = "sweetspot",
    *,
    architecture: ArchitectureArg = None,
    loss: Loss = "relative",
    kv_cache: bool | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    column_map: Mapping[str, str] | None = None,
) -> FitResult:
    """Fit an energy model to a Parquet file or directory, batch by batch, in bounded memory.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.parquet`` / ``.pq`` file, or a directory of them (read recursively in sorted
        order; hive-style ``key=value`` directories become columns; see
        :class:`sweetspot.io.parquet.ParquetDataset`).
    model, architecture, kv_cache
        As in :func:`fit`.
    loss : {"relative", "absolute"}
        As in :func:`fit`; ``"mape"`` raises :class:`SpecError` (no streaming form).
    batch_rows : int
        Rows read and reduced at a time (memory grows with it, not with the data).
    column_map : mapping of str to str, optional
        Source column name -> schema name, as in :func:`sweetspot.read_measurements`.

    Returns
    -------
    FitResult
        Equal to ``sweetspot.fit(pandas.read_parquet(path), ...)`` up to rounding
        (coefficients to about 1e-12 relative on well-conditioned designs);
        ``meta["source"]`` is ``path``.

    Raises
    ------
    MeasurementError
        A bad cell (names the file and the row within it), a file that is not Parquet or is
        truncated, foreign files in the directory, files that disagree on their columns, a
        file that changes between the two passes, or no rows at all.
    FitError
        Fewer rows than coefficients, or a rank-deficient design.
    SpecError
        Unknown model or loss, ``loss="mape"``, or an architecture problem.

    Warns
    -----
    IllConditionedWarning, NegativeCoefficientWarning

    Examples
    --------
    >>> import numpy as np, pandas as pd, sweetspot as ss, tempfile, os
    >>> ni, no = np.meshgrid([64, 256, 1024, 4096], [64, 256, 1024, 4096])
    >>> df = pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel()})
    >>> df["energy_j"] = ss.energy([1e-6, 2e-5, 3e-3, 4e-5, 5.0, 0.2], df.n_in, df.n_out)
    >>> path = os.path.join(tempfile.mkdtemp(), "grid.parquet")
    >>> df.to_parquet(path)
    >>> res = ss.fit_parquet(path, batch_rows=5)
    >>> bool(np.allclose(res.theta, ss.fit(df).theta, rtol=1e-9))
    True
    """
    check_choice(loss, "loss", LOSSES)
    _check_stream(loss, batch_rows)
    _check_model(model, kv_cache)
    return _fit_parquet(path, model, kv_cache, architecture, loss, int(batch_rows), column_map)


def _check_model(model: Any, kv_cache: bool | None) -> None:
    """Refuse a bad model or option before any data is read."""
    as_spec(model, kv_cache=True if kv_cache is None else kv_cache)


def _fit_parquet(
    path: Any,
    model: Any,
    kv_cache: bool | None,
    architecture: ArchitectureArg,
    loss: str,
    batch_rows: int,
    column_map: Mapping[str, str] | None,
) -> FitResult:
    data = ParquetDataset.open(path)
    with one_blas_thread():
        res, msgs = _stream.fit_dataset(
            data, model, kv_cache, architecture, loss, batch_rows, column_map
        )
    for text, cat in msgs:
        warnings.warn(text, cat, stacklevel=3)
    return res


def cross_validate(
    data: Any,
    model: ModelName | ModelSpec = "sweetspot",
    *,
    k: int = 5,
    seed: int = 0,
    groups: str | Sequence[Any] | NDArray[Any] | None = None,
    architecture: ArchitectureArg = None,
    loss: Loss = "relative",
    kv_cache: bool | None = None,
) -> CVResult:
    """Cross-validated MAPE of a model: random k-fold, grouped, or leave-one-model-out.

    Parameters
    ----------
    data, model, architecture, loss, kv_cache
        As in :func:`fit` (a Parquet directory or a big Parquet file is cross-validated
        streaming, as :func:`cross_validate_parquet`).
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
        ``.mape`` is in percent; ``.predicted_j`` holds every row's held-out prediction.
    """
    check_choice(loss, "loss", LOSSES)
    _check_model(model, kv_cache)
    if loss != "mape" and should_stream(data) and (groups is None or isinstance(groups, str)):
        return _cross_validate_parquet(
            data, model, kv_cache, architecture, loss, DEFAULT_BATCH_ROWS, None, k, seed, groups
        )
    d, _ = _as_data(data)
    spec = spec_for(model, kv_cache, d.facts)
    archs = resolve_architectures(spec, architecture, d.labels)
    n = d.n_rows
    if groups is None:
        check_k(k, n)
        perm = np.random.default_rng(seed).permutation(n)
        folds = [np.sort(f) for f in np.array_split(perm, k)]
        labels = tuple(f"fold {i}" for i in range(k))
        scheme = f"k-fold (k={k}, seed={seed})"
    else:
        if isinstance(groups, str):
            if d.frame is None or groups not in d.frame.columns:
                columns = [] if d.frame is None else list(d.frame.columns)
                raise SpecError(
                    f"groups={groups!r} is not a column of the data; columns are {columns}."
                )
            g = d.frame[groups].to_numpy()
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
    return _memory.cross_validate_data(d, spec, archs, loss, folds, labels, scheme)


def cross_validate_parquet(
    path: str | os.PathLike[str],
    model: ModelName | ModelSpec = "sweetspot",
    *,
    k: int = 5,
    seed: int = 0,
    groups: str | None = None,
    architecture: ArchitectureArg = None,
    loss: Loss = "relative",
    kv_cache: bool | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    column_map: Mapping[str, str] | None = None,
) -> CVResult:
    """Cross-validated MAPE of a model on a Parquet file or directory, in bounded memory.

    Parameters
    ----------
    path, model, architecture, loss, kv_cache, batch_rows, column_map
        As in :func:`fit_parquet`.
    k : int
        Number of random folds (ignored when ``groups`` is given). Row r goes to fold
        :func:`fold_of_rows` ``(r, n, k, seed)``: the fold sizes equal those of
        :func:`cross_validate`, but not the membership (see :func:`fold_of_rows`).
    seed : int
        Non-negative seed of the fold assignment.
    groups : str, optional
        Leave one group out at a time: a column of the (validated) data, e.g. ``"prompt"``,
        ``"n_out"``, or ``"model"`` (leave-one-model-out for a pooled physical fit). Groups
        are ordered by first appearance, as in :func:`cross_validate`.

    Returns
    -------
    CVResult
        ``.mape`` is in percent; ``.predicted_j`` and ``.ape`` are None (they would grow
        with the data). With the same folds (pass ``groups=`` the fold labels to
        :func:`cross_validate`) it equals the in-memory result up to rounding.

    Raises
    ------
    MeasurementError, FitError, SpecError
        As in :func:`fit_parquet`; a FitError names the fold whose training set fails.
    """
    check_choice(loss, "loss", LOSSES)
    _check_stream(loss, batch_rows)
    if groups is not None and not isinstance(groups, str):
        raise SpecError(
            "groups must be a column name for a streamed cross-validation (per-row labels "
            f"would have to be held in memory); got {type(groups).__name__}."
        )
    _check_model(model, kv_cache)
    return _cross_validate_parquet(
        path, model, kv_cache, architecture, loss, int(batch_rows), column_map, k, seed, groups
    )


def _cross_validate_parquet(
    path: Any,
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
    data = ParquetDataset.open(path)
    if groups is None:
        check_k(k, data.n_rows)
        check_seed(seed)
    with one_blas_thread():
        return _stream.cross_validate_dataset(
            data,
            model,
            kv_cache,
            architecture,
            loss,
            batch_rows,
            column_map,
            int(k),
            int(seed) if groups is None else 0,
            groups,
        )
