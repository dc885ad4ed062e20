"""Streaming fits over Parquet datasets larger than memory.

:func:`fit_parquet` and :func:`cross_validate_parquet` read a Parquet file, or a directory of
Parquet files, batch by batch with pyarrow and never hold more than one batch of rows, so
their memory does not grow with the number of rows. They give the same coefficients as the
in-memory :func:`sweetspot.fit` (to about 1e-12 relative on well-conditioned designs) and the
same statistics (MAPE, max APE, RMSE, R^2, standard errors, condition number, ranges).

Every batch is validated like :func:`sweetspot.read_measurements` validates a whole file, so
a bad cell raises :class:`~sweetspot.exceptions.MeasurementError` naming the *file* and the
*row within that file* (0-based, header excluded). Nothing is dropped silently.

A directory is read recursively in sorted path order. Names starting with ``.`` or ``_`` are
writers' bookkeeping (``_SUCCESS``, ``_metadata``, ``.crc``) and are skipped; any other file
that is not ``*.parquet`` / ``*.pq`` is an error (it is not silently ignored). Hive-style
directory names (``model=llama-2-7b/part-0.parquet``) become columns, so a pooled physical
fit can read one directory per model.

Notes
-----
Pass 1 reduces the weighted design augmented with the target, ``A = [Xw | yw]`` (``Xw = X / E``,
``yw = 1`` for the relative loss; ``X``, ``E`` for the absolute loss), to its upper triangle by
a tall-skinny QR: the running (k+1) x (k+1) triangle is stacked on each batch and re-factored
with Householder reflections (LAPACK ``dgeqrf``). The leading k x k block is the ``R`` of the
in-memory fit (``Xw = Q R``) and the last column holds ``Q^T yw``, so ``R b = Q^T yw`` is the
backward-stable least-squares solution without a refinement pass over the data. As in
:mod:`sweetspot.fit`, ``R`` is column-scaled and its SVD gives the rank, the condition number
and the covariance; physical models with a negative unconstrained solution are solved by NNLS
on the exact k x k reduction ``min ||Rs b - Q^T yw||``. Pass 2 evaluates the fitted model on
every row for the statistics. Peak memory is a few times one batch (``batch_rows`` rows, but
at least one Parquet row group, which pyarrow decodes whole).

The ``mape`` loss is a linear programme whose constraints couple all rows at once; it has no
streaming form here and raises :class:`~sweetspot.exceptions.SpecError`.

Cross-validation streams too: each row's fold is computed from its row number (its position
in the dataset, files in sorted order) by a keyed pseudo-random permutation of ``0..n-1``
(:func:`fold_of_rows`), so the folds are exactly balanced like ``numpy.array_split`` of a
shuffle, reproducible from the seed, and need no per-row state. The triangles of the k folds
are accumulated separately; the training triangle of fold i combines the others exactly.

Examples
--------
>>> import numpy as np, pandas as pd, sweetspot as ss, tempfile, os
>>> from sweetspot.stream import fit_parquet
>>> ni, no = np.meshgrid([64, 256, 1024, 4096], [64, 256, 1024, 4096])
>>> df = pd.DataFrame({"n_in": ni.ravel(), "n_out": no.ravel()})
>>> df["energy_j"] = ss.energy([1e-6, 2e-5, 3e-3, 4e-5, 5.0, 0.2], df.n_in, df.n_out)
>>> path = os.path.join(tempfile.mkdtemp(), "grid.parquet")
>>> df.to_parquet(path)
>>> res = fit_parquet(path, batch_rows=5)
>>> bool(np.allclose(res.theta, ss.fit(df).theta, rtol=1e-9))
True
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ._validation import check_choice
from .architecture import Architecture
from .exceptions import (
    DependencyError,
    FitError,
    MeasurementError,
    SpecError,
)
from .fit import (
    LOSSES,
    ArchitectureArg,
    Loss,
    _arrays,
    _column_norms,
    _design,
    _fit_messages,
    _Prepared,
    _present,
    _rank_message,
    _resolve_architectures,
    _unit,
)
from .fit import _single_threaded_blas as _one_blas_thread
from .models import ModelName, ModelSpec, as_spec
from .result import FitResult

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "STREAM_MIN_ROWS",
    "StreamCVResult",
    "cross_validate_parquet",
    "fit_parquet",
    "fold_of_rows",
    "parquet_rows",
    "should_stream",
]

#: Rows read, validated and reduced at a time by default.
DEFAULT_BATCH_ROWS = 1_000_000

#: Proposed rule for :func:`sweetspot.fit`: stream Parquet files of at least this many rows
#: (the result is the same; from 10^6 rows streaming is as fast as reading the file whole
#: and fitting in memory, and it needs ~0.5 GB instead of ~330 B per row; see
#: docs/performance.md).
STREAM_MIN_ROWS = 1_000_000

PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")

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
    }
)
_META_COLUMNS: tuple[str, ...] = ("gpu", "engine", "n_gpus", "dtype")


# ---------------------------------------------------------------------------------------
# the dataset
# ---------------------------------------------------------------------------------------
def _arrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow is a test dependency
        raise DependencyError(
            "streaming fits read Parquet with pyarrow, an optional dependency; install it "
            'with: pip install "sweetspot[parquet]"'
        ) from exc
    return pa, pq


@dataclass(frozen=True, slots=True)
class _Dataset:
    label: str
    files: tuple[Path, ...]
    rows: tuple[int, ...]  # rows per file, from the Parquet footers
    stamps: tuple[tuple[int, int], ...]  # (size, mtime_ns) per file, to detect changes
    file_columns: tuple[tuple[str, ...], ...]  # columns stored in each file
    partitions: tuple[Mapping[str, Any], ...]  # hive key=value directories of each file
    columns: tuple[str, ...]  # union over the files, in first-seen order, then partition keys

    @property
    def n_rows(self) -> int:
        return int(sum(self.rows))


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns)


def _list_parquet(root: Path, label: str) -> list[Path]:
    files: list[Path] = []
    foreign: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in filenames:
            if name.startswith((".", "_")):
                continue  # writers' bookkeeping: _SUCCESS, _metadata, .part.crc
            path = Path(dirpath) / name
            if path.suffix.lower() in PARQUET_SUFFIXES:
                files.append(path)
            else:
                foreign.append(str(path.relative_to(root)))
    if foreign:
        shown = ", ".join(repr(f) for f in sorted(foreign)[:10])
        more = f" and {len(foreign) - 10} more" if len(foreign) > 10 else ""
        raise MeasurementError(
            f"{label} holds files that are not Parquet: {shown}{more}. A streamed dataset is a "
            "directory of *.parquet / *.pq files (names starting with '.' or '_' are skipped); "
            "move the other files out, or pass a single Parquet file."
        )
    if not files:
        raise MeasurementError(
            f"{label} holds no Parquet files (*.parquet, *.pq); expected a Parquet file or a "
            "directory of them."
        )
    return sorted(files)


def _partition_keys(file: Path, root: Path) -> dict[str, Any]:
    """Hive-style ``key=value`` directory names between root and file (values as text)."""
    keys: dict[str, Any] = {}
    for part in file.relative_to(root).parent.parts:
        if "=" in part:
            key, _, value = part.partition("=")
            keys[unquote(key)] = None if value == "__HIVE_DEFAULT_PARTITION__" else unquote(value)
    return keys


def _open(path: Any) -> _Dataset:
    from .io import _missing_file

    if not isinstance(path, (str, os.PathLike)):
        raise MeasurementError(
            f"a streamed fit reads a Parquet file or directory given as a path (str or "
            f"os.PathLike); got {type(path).__name__}. Use sweetspot.fit for a DataFrame."
        )
    root = Path(path)
    label = str(root)
    if not root.exists():
        raise _missing_file(label)
    if root.is_dir():
        if (root / "points.jsonl").is_file():
            raise MeasurementError(
                f"{label} is a sweetspot measurement store (it has points.jsonl), not a Parquet "
                "dataset; read it with sweetspot.fit(path) or sweetspot.read_measurements(path)."
            )
        files = _list_parquet(root, label)
    else:
        if root.suffix.lower() not in PARQUET_SUFFIXES:
            raise MeasurementError(
                f"{label} is not a Parquet file (suffix {root.suffix or 'none'}; expected "
                ".parquet or .pq); streamed fits read Parquet. Use sweetspot.fit for CSV files."
            )
        files = [root]
    pa, pq = _arrow()
    rows: list[int] = []
    file_columns: list[tuple[str, ...]] = []
    for file in files:
        try:
            meta = pq.read_metadata(file)
            names = tuple(meta.schema.to_arrow_schema().names)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise MeasurementError(
                f"{file} cannot be read as Parquet ({exc}). The file may be truncated or not "
                "Parquet at all: re-write it, or move it out of the dataset."
            ) from exc
        rows.append(int(meta.num_rows))
        file_columns.append(names)
    partitions = [_partition_keys(f, root) for f in files] if root.is_dir() else [{}]
    columns: dict[str, None] = {}
    for names, keys in zip(file_columns, partitions, strict=True):
        clash = set(names) & set(keys)
        if clash:
            name = sorted(clash)[0]
            raise MeasurementError(
                f"{name!r} is both a column of the Parquet files and a directory partition "
                f"({name}=...) in {label}; rename the directory or drop the column."
            )
        columns.update(dict.fromkeys(names))
    for keys in partitions:
        columns.update(dict.fromkeys(keys))
    return _Dataset(
        label=label,
        files=tuple(files),
        rows=tuple(rows),
        stamps=tuple(_stamp(f) for f in files),
        file_columns=tuple(file_columns),
        partitions=tuple(partitions),
        columns=tuple(columns),
    )


def parquet_rows(path: str | os.PathLike[str]) -> int:
    """Number of rows of a Parquet file or directory, from the file footers (no data read).

    Raises
    ------
    MeasurementError
        Missing path, a file that is not Parquet, or a directory with foreign files.
    """
    return _open(path).n_rows


def should_stream(data: Any, *, min_rows: int = STREAM_MIN_ROWS) -> bool:
    """Whether :func:`sweetspot.fit` should hand ``data`` to :func:`fit_parquet`.

    True for a path to a directory of Parquet files (which the in-memory readers do not
    read), and for a Parquet file of at least ``min_rows`` rows (counted from its footer).
    False for everything else (DataFrames, CSV, measurement stores, missing paths), and
    whenever the answer cannot be had cheaply: the in-memory path then raises its own error.
    """
    if not isinstance(data, (str, os.PathLike)):
        return False
    path = Path(data)
    try:
        if path.is_dir():
            if (path / "points.jsonl").is_file():
                return False
            return any(
                p.suffix.lower() in PARQUET_SUFFIXES and not p.name.startswith((".", "_"))
                for p in path.rglob("*")
            )
        if not path.is_file() or path.suffix.lower() not in PARQUET_SUFFIXES:
            return False
        return parquet_rows(path) >= min_rows
    except (OSError, MeasurementError, DependencyError):
        return False


def _frames(
    data: _Dataset, columns: list[str] | None, batch_rows: int
) -> Iterator[tuple[Path, int, int, pd.DataFrame]]:
    """Yield ``(file, first row in the file, first row in the dataset, raw frame)``.

    Files are read one at a time, one row group at a time (``ParquetFile.iter_batches``,
    no pre-buffering), so memory holds about one batch; small row groups are coalesced
    into batches of about ``batch_rows`` rows.
    """
    pa, pq = _arrow()
    wanted = list(data.columns) if columns is None else columns
    start = 0
    for file, rows, stamp, stored, keys in zip(
        data.files, data.rows, data.stamps, data.file_columns, data.partitions, strict=True
    ):
        if _stamp(file) != stamp:
            raise MeasurementError(
                f"{file} changed while it was being read (size or modification time differ "
                "between passes); a streamed fit reads the data twice. Fit a stable copy."
            )
        read = [c for c in stored if c in set(wanted)]
        pending: list[Any] = []
        count = 0
        first = 0
        try:
            reader = pq.ParquetFile(file, pre_buffer=False)
            for batch in reader.iter_batches(batch_size=batch_rows, columns=read):
                if batch.num_rows == 0:
                    continue
                pending.append(batch)
                count += batch.num_rows
                if count >= batch_rows:
                    yield file, first, start + first, _to_frame(pa, pending, wanted, keys)
                    first += count
                    pending, count = [], 0
            if pending:
                yield file, first, start + first, _to_frame(pa, pending, wanted, keys)
                first += count
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise MeasurementError(
                f"{file} cannot be read as Parquet ({exc}); the file may be truncated or "
                "corrupt: re-write it, or move it out of the dataset."
            ) from exc
        if first != rows:
            raise MeasurementError(
                f"{file} yielded {first} rows but its footer says {rows}; the file is corrupt "
                "or changed while being read."
            )
        start += rows


def _to_frame(
    pa: Any, batches: list[Any], wanted: list[str], keys: Mapping[str, Any]
) -> pd.DataFrame:
    frame = pa.Table.from_batches(batches).to_pandas(split_blocks=True)
    for name in wanted:
        if name not in frame.columns:
            # a partition value, or a column other files have: missing here (validation
            # then names the row, as for any missing value)
            frame[name] = keys.get(name, None)
    return frame[wanted] if list(frame.columns) != wanted else frame


def _validate_batch(
    frame: pd.DataFrame, file: Path, first: int, column_map: Mapping[str, str] | None
) -> pd.DataFrame:
    # Same checks as read_measurements, with rows numbered within the file.
    from .io import _apply_column_map, _validate

    notes: list[str] = []
    mapped, origins = _apply_column_map(frame, column_map, str(file), notes)
    rows = np.arange(first, first + len(frame), dtype=np.intp)
    return _validate(mapped, source=str(file), notes=notes, rows=rows, origins=origins)


def _column_plan(
    data: _Dataset, column_map: Mapping[str, str] | None, extra: tuple[str, ...]
) -> tuple[list[str], dict[str, str] | None]:
    """Columns the fit needs (for pass 2), and the column map restricted to them."""
    cmap = dict(column_map or {})
    folded = {str(k).strip().casefold(): v for k, v in cmap.items()}
    wanted = _FIT_COLUMNS | set(_META_COLUMNS) | set(extra)
    keep: list[str] = []
    for col in data.columns:
        target = cmap.get(col, folded.get(col.strip().casefold(), col.strip().casefold()))
        if target in wanted or col in extra:
            keep.append(col)
    kept = set(keep)
    sub = {}
    for src, target in cmap.items():
        match = (
            src
            if src in kept
            else next(
                (c for c in keep if c.strip().casefold() == str(src).strip().casefold()), None
            )
        )
        if match is not None:
            sub[src] = target
    return keep, (sub if column_map is not None else None)


# ---------------------------------------------------------------------------------------
# numerics
# ---------------------------------------------------------------------------------------
def _triangle(A: NDArray[np.float64]) -> NDArray[np.float64]:
    """Upper triangle R of ``A = Q R`` (at most min(m, n) rows), Householder, in place."""
    from scipy.linalg.lapack import dgeqrf

    m, n = A.shape
    qr, _, _, info = dgeqrf(A, overwrite_a=1)
    if info != 0:  # pragma: no cover - only for invalid arguments
        raise FitError(f"QR factorisation failed (LAPACK dgeqrf info = {info}).")
    return np.triu(qr[: min(m, n)])


def _augmented(
    R: NDArray[np.float64], X: NDArray[np.float64], y: NDArray[np.float64], loss: str
) -> NDArray[np.float64]:
    """Triangle of ``[R; Xw yw]``: the running reduction updated with one block of rows."""
    n, k = X.shape
    top = R.shape[0]
    A = np.empty((top + n, k + 1), order="F")
    A[:top] = R
    if loss == "relative":
        w = 1.0 / y
        for j in range(k):
            np.multiply(X[:, j], w, out=A[top:, j])
        A[top:, k] = 1.0
    else:
        A[top:, :k] = X
        A[top:, k] = y
    return _triangle(A)


def _combine(triangles: list[NDArray[np.float64]], width: int) -> NDArray[np.float64]:
    blocks = [t for t in triangles if t.shape[0]]
    if not blocks:
        return np.zeros((0, width))
    if len(blocks) == 1:
        return blocks[0]
    return _triangle(np.asfortranarray(np.vstack(blocks)))


@dataclass(frozen=True, slots=True)
class _Solution:
    coef: NDArray[np.float64]  # unscaled coefficients
    scaled: NDArray[np.float64]  # coefficients of the column-scaled problem
    scale: NDArray[np.float64]
    inv_gram: NDArray[np.float64]
    cond: float
    rank: int


def _solve_triangle(Raug: NDArray[np.float64], n: int, nonneg: bool) -> _Solution:
    """Least squares from the augmented triangle, as sweetspot.fit._solve does from X."""
    k = Raug.shape[1] - 1
    full = np.zeros((k + 1, k + 1))
    full[: Raug.shape[0]] = Raug[: k + 1]
    R = full[:k, :k]
    z = full[:k, k]
    scale = _column_norms(R)
    scale[scale == 0] = 1.0
    Rs = R / scale
    u, s, vt = np.linalg.svd(Rs)
    tol = s.max() * max(n, k) * np.finfo(float).eps
    rank = int(np.sum(s > tol))
    cond = float(s.max() / s.min()) if s.min() > 0 else float("inf")
    if rank < k:
        nan = np.full(k, np.nan)
        return _Solution(nan, nan, scale, np.full((k, k), np.nan), cond, rank)
    inv_gram = (vt.T / s**2) @ vt
    b = vt.T @ ((u.T @ z) / s)
    if nonneg and np.any(b < 0):
        from scipy.optimize import nnls

        # ||Xs b - yw||^2 = ||Rs b - Q^T yw||^2 + const, exactly: no refinement needed
        b, _ = nnls(Rs, z, maxiter=50 * k)
    return _Solution(b / scale, b, scale, inv_gram, cond, rank)


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
    >>> f = fold_of_rows(np.arange(10), 10, 3, seed=0)
    >>> np.bincount(f).tolist()
    [4, 3, 3]
    """
    _check_k(k, n_rows)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise SpecError(f"seed must be a non-negative integer; got {seed!r}.")
    rows = np.asarray(row_ids)
    if rows.size and (rows.dtype.kind not in "iu" or rows.min() < 0 or rows.max() >= n_rows):
        raise SpecError(f"row_ids must be integers in 0..{n_rows - 1}; got {rows!r}.")
    pos = _permute(rows.astype(np.uint64), n_rows, int(seed)).astype(np.int64)
    q, r = divmod(n_rows, k)
    edge = r * (q + 1)
    return np.where(pos < edge, pos // (q + 1), r + (pos - edge) // max(q, 1)).astype(np.int64)


def _check_k(k: Any, n: int) -> None:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 2:
        raise SpecError(f"k must be an integer >= 2; got {k!r}.")
    if k > n:
        raise SpecError(f"k = {k} folds need at least {k} rows; the data has {n}.")


# ---------------------------------------------------------------------------------------
# accumulators
# ---------------------------------------------------------------------------------------
class _Labels:
    """Model labels seen so far and their resolved architectures."""

    def __init__(self, spec: ModelSpec, architecture: ArchitectureArg) -> None:
        self.spec = spec
        self.architecture = architecture
        self.seen: set[str] = set()
        self.has_column: bool | None = None
        self.archs: dict[str, Architecture] = {}
        self.resolved = False

    def add(self, p: _Prepared) -> dict[str, Architecture]:
        self.has_column = p.labels is not None
        new = set(_present(p.labels)) - self.seen if p.labels is not None else set()
        if not self.resolved or new:
            self.seen |= new
            self.archs = _resolve_architectures(self.spec, self.architecture, self.labels)
            self.resolved = True
        return self.archs

    @property
    def labels(self) -> NDArray[np.object_] | None:
        if not self.has_column:
            return None
        return np.array(sorted(self.seen), dtype=object)


class _Meta:
    """Single-valued provenance columns (gpu, engine, ...) as sweetspot.fit records them."""

    def __init__(self) -> None:
        self.values: dict[str, set[str]] = {}

    def add(self, frame: pd.DataFrame) -> None:
        for col in _META_COLUMNS:
            if col in frame.columns:
                seen = self.values.setdefault(col, set())
                if len(seen) <= 1:
                    seen.update(str(v) for v in pd.unique(frame[col].dropna()))

    def result(self, source: str) -> dict[str, Any]:
        meta: dict[str, Any] = {c: next(iter(v)) for c, v in self.values.items() if len(v) == 1}
        meta["source"] = source
        return meta


@dataclass
class _Stats:
    """Pass-2 sums over all rows."""

    ape_sum: float = 0.0
    ape_max: float = 0.0
    sq_sum: float = 0.0  # sum of squared residuals [J^2]
    sq_w: float = 0.0  # sum of squared weighted residuals (the loss)
    ss_tot: float = 0.0

    def add(
        self, pred: NDArray[np.float64], y: NDArray[np.float64], mean: float, loss: str
    ) -> None:
        resid = pred - y
        ape = np.abs(resid) / y * 100.0
        self.ape_sum += float(ape.sum())
        self.ape_max = max(self.ape_max, float(ape.max()))
        self.sq_sum += float(resid @ resid)
        rw = resid / y if loss == "relative" else resid
        self.sq_w += float(rw @ rw)
        dy = y - mean
        self.ss_tot += float(dy @ dy)


def _check_common(loss: Any, batch_rows: Any) -> None:
    check_choice(loss, "loss", LOSSES)
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


# ---------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------
def fit_parquet(
    path: str | os.PathLike[str],
    model: ModelName | ModelSpec = "sweetspot",
    *,
    architecture: ArchitectureArg = None,
    loss: Loss = "relative",
    kv_cache: bool = True,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    column_map: Mapping[str, str] | None = None,
) -> FitResult:
    """Fit an energy model to a Parquet file or directory, batch by batch, in bounded memory.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.parquet`` / ``.pq`` file, or a directory of them (read recursively in sorted
        order; hive-style ``key=value`` directories become columns).
    model, architecture, kv_cache
        As in :func:`sweetspot.fit`.
    loss : {"relative", "absolute"}
        As in :func:`sweetspot.fit`; ``"mape"`` raises :class:`SpecError` (see the module
        notes).
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
    """
    _check_common(loss, batch_rows)
    spec = as_spec(model, kv_cache=kv_cache)
    data = _open(path)
    with _one_blas_thread():
        res, msgs = _fit_stream(data, spec, architecture, loss, int(batch_rows), column_map)
    for text, cat in msgs:
        warnings.warn(text, cat, stacklevel=2)
    return res


def _fit_stream(
    data: _Dataset,
    spec: ModelSpec,
    architecture: ArchitectureArg,
    loss: str,
    batch_rows: int,
    column_map: Mapping[str, str] | None,
) -> tuple[FitResult, list[tuple[str, type[Warning]]]]:
    k = len(spec.param_names)
    labels = _Labels(spec, architecture)
    meta = _Meta()
    tri = np.zeros((0, k + 1))
    n = 0
    y_sum = 0.0
    unit = 1.0
    lo_in = lo_out = math.inf
    hi_in = hi_out = -math.inf
    batch_sizes: set[float] = set()
    for file, first, _, raw in _frames(data, None, batch_rows):
        df = _validate_batch(raw, file, first, column_map)
        p = _arrays(df)
        archs = labels.add(p)
        if n == 0:
            unit = _unit(p.y)
        y = p.y / unit
        tri = _augmented(tri, _design(spec, p, archs), y, loss)
        n += y.size
        y_sum += float(y.sum())
        lo_in, hi_in = min(lo_in, float(p.n_in.min())), max(hi_in, float(p.n_in.max()))
        lo_out, hi_out = min(lo_out, float(p.n_out.min())), max(hi_out, float(p.n_out.max()))
        if len(batch_sizes) <= 1:
            batch_sizes.update(float(b) for b in np.unique(p.batch))
        meta.add(df)
    if n == 0:
        raise MeasurementError(
            f"{data.label} has no data rows (0 rows in {len(data.files)} Parquet file(s)); "
            "expected at least one measured window with n_in, n_out and energy_j."
        )
    if n < k:
        raise FitError(
            f"model {spec.label!r} has {k} coefficients but the data has only {n} row(s); "
            f"measure at least {k} (n_in, n_out) points (more than {k} to estimate errors)."
        )
    archs = labels.archs
    sol = _solve_triangle(tri, n, spec.is_physical)
    columns, cmap = _column_plan(data, column_map, ())
    if sol.rank < k:
        view = _levels(data, columns, cmap, batch_rows, None)
        raise FitError(_rank_message(spec, view, sol.rank, k))

    mean = y_sum / n
    stats = _Stats()
    for file, first, _, raw in _frames(data, columns, batch_rows):
        p = _arrays(_validate_batch(raw, file, first, cmap))
        stats.add(_design(spec, p, archs) @ sol.coef, p.y / unit, mean, loss)

    dof = n - k
    if dof > 0:
        sigma2 = stats.sq_w / dof
        se_s = np.sqrt(np.maximum(np.diag(sol.inv_gram) * sigma2, 0.0))
        if spec.is_physical:
            se_s[sol.scaled <= 0] = np.nan
    else:
        se_s = np.full(k, np.nan)
    se = se_s / sol.scale * unit
    coef = sol.coef * unit
    msgs = _fit_messages(spec, coef, sol.cond)
    res = FitResult(
        spec=spec,
        loss=loss,
        param_names=spec.param_names,
        values=tuple(float(v) for v in coef),
        stderrs=tuple(float(v) for v in se),
        units=spec.param_units,
        architectures=tuple(sorted(archs.items())),
        batch_size=next(iter(batch_sizes)) if len(batch_sizes) == 1 else 1.0,
        n_rows=int(n),
        mape=stats.ape_sum / n,
        max_ape=stats.ape_max,
        rmse=math.sqrt(stats.sq_sum / n) * unit,
        r2=1.0 - stats.sq_sum / stats.ss_tot if stats.ss_tot > 0 else float("nan"),
        condition_number=sol.cond,
        n_in_range=(lo_in, hi_in),
        n_out_range=(lo_out, hi_out),
        models=tuple(m for m in _present(labels.labels) if m),
        fit_warnings=tuple(t for t, _ in msgs),
        meta=meta.result(data.label),
    )
    return res, msgs


def _levels(
    data: _Dataset,
    columns: list[str],
    cmap: Mapping[str, str] | None,
    batch_rows: int,
    keep: Callable[[pd.DataFrame, int, Path, int], NDArray[np.bool_]] | None,
) -> _Prepared:
    """Distinct n_in and n_out levels (of the rows ``keep`` selects), for _rank_message.

    An extra pass, run only on the error path; memory grows with the number of distinct
    lengths, not rows. The stand-in _Prepared carries the levels as its n_in / n_out.
    """
    seen_in: set[float] = set()
    seen_out: set[float] = set()
    for file, first, start, raw in _frames(data, columns, batch_rows):
        df = _validate_batch(raw, file, first, cmap)
        p = _arrays(df)
        mask = slice(None) if keep is None else keep(df, start, file, first)
        seen_in.update(pd.unique(p.n_in[mask]).tolist())
        seen_out.update(pd.unique(p.n_out[mask]).tolist())
    empty = np.empty(0)
    return _Prepared(
        pd.DataFrame(),
        np.array(sorted(seen_in)),
        np.array(sorted(seen_out)),
        empty,
        empty,
        None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamCVResult:
    """Cross-validated prediction error of a streamed fit.

    Like :class:`sweetspot.CVResult` without the per-row arrays (``predicted_j``, ``ape``),
    which would grow with the data.

    Attributes
    ----------
    mape : float
        MAPE over all held-out predictions [%] (each row predicted once, by the fold that
        left it out).
    max_ape : float
        Largest held-out absolute percentage error [%].
    fold_mape : ndarray
        MAPE of each fold [%].
    fold_rows : ndarray
        Rows held out by each fold.
    fold_labels : tuple of str
        What each fold held out (``"fold 0"`` ... or the group value).
    scheme : str
        ``"streamed k-fold (k=5, seed=0)"``, ``"grouped by <column>"`` or
        ``"leave-one-model-out"``.
    model : str
        Label of the model spec.
    n_rows : int
        Rows in the dataset.
    """

    mape: float
    max_ape: float
    fold_mape: NDArray[np.float64]
    fold_rows: NDArray[np.int64]
    fold_labels: tuple[str, ...]
    scheme: str
    model: str
    n_rows: int

    def __repr__(self) -> str:
        return (
            f"StreamCVResult({self.model}, {self.scheme}: MAPE {self.mape:.3f} % over "
            f"{len(self.fold_labels)} folds, {self.n_rows} rows)"
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
    sf = f[order]
    cuts = np.flatnonzero(np.diff(sf)) + 1
    for rows in np.split(order, cuts):
        yield int(f[rows[0]]), rows


def _leave_one_out(triangles: list[NDArray[np.float64]], width: int) -> list[NDArray]:
    """Triangle of all blocks but i, for every i (prefix and suffix reductions, exact)."""
    m = len(triangles)
    prefix = [np.zeros((0, width))]
    for t in triangles[:-1]:
        prefix.append(_combine([prefix[-1], t], width))
    suffix = [np.zeros((0, width))] * m
    for i in range(m - 2, -1, -1):
        suffix[i] = _combine([triangles[i + 1], suffix[i + 1]], width)
    return [_combine([prefix[i], suffix[i]], width) for i in range(m)]


def cross_validate_parquet(
    path: str | os.PathLike[str],
    model: ModelName | ModelSpec = "sweetspot",
    *,
    k: int = 5,
    seed: int = 0,
    groups: str | None = None,
    architecture: ArchitectureArg = None,
    loss: Loss = "relative",
    kv_cache: bool = True,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    column_map: Mapping[str, str] | None = None,
) -> StreamCVResult:
    """Cross-validated MAPE of a model on a Parquet file or directory, in bounded memory.

    Parameters
    ----------
    path, model, architecture, loss, kv_cache, batch_rows, column_map
        As in :func:`fit_parquet`.
    k : int
        Number of random folds (ignored when ``groups`` is given). Row r goes to fold
        :func:`fold_of_rows` ``(r, n, k, seed)``: the fold sizes equal those of
        :func:`sweetspot.cross_validate`, but not the membership (see :func:`fold_of_rows`).
    seed : int
        Non-negative seed of the fold assignment.
    groups : str, optional
        Leave one group out at a time: a column of the (validated) data, e.g. ``"prompt"``,
        ``"n_out"``, or ``"model"`` (leave-one-model-out for a pooled physical fit). Groups
        are ordered by first appearance, as in :func:`sweetspot.cross_validate`.

    Returns
    -------
    StreamCVResult
        ``.mape`` is in percent. With the same folds (pass ``groups=`` the fold labels to
        :func:`sweetspot.cross_validate`) it equals the in-memory result up to rounding.

    Raises
    ------
    MeasurementError, FitError, SpecError
        As in :func:`fit_parquet`; a FitError names the fold whose training set fails.
    """
    _check_common(loss, batch_rows)
    if groups is not None and not isinstance(groups, str):
        raise SpecError(
            "groups must be a column name for a streamed cross-validation (per-row labels "
            f"would have to be held in memory); got {type(groups).__name__}."
        )
    spec = as_spec(model, kv_cache=kv_cache)
    data = _open(path)
    n_total = data.n_rows
    if groups is None:
        _check_k(k, n_total)
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise SpecError(f"seed must be a non-negative integer; got {seed!r}.")
    with _one_blas_thread():
        return _cross_validate_stream(
            data,
            spec,
            architecture,
            loss,
            int(batch_rows),
            column_map,
            int(k),
            int(seed) if groups is None else 0,
            groups,
        )


def _cross_validate_stream(
    data: _Dataset,
    spec: ModelSpec,
    architecture: ArchitectureArg,
    loss: str,
    batch_rows: int,
    column_map: Mapping[str, str] | None,
    k: int,
    seed: int,
    groups: str | None,
) -> StreamCVResult:
    width = len(spec.param_names) + 1
    folds = _Folds(k, seed, data.n_rows, groups)
    labels = _Labels(spec, architecture)
    tris: list[NDArray[np.float64]] = []
    counts: list[int] = []
    y_rows = 0
    unit = 1.0
    for file, first, start, raw in _frames(data, None, batch_rows):
        df = _validate_batch(raw, file, first, column_map)
        p = _arrays(df)
        archs = labels.add(p)
        f = folds.of(df, start, file, first)
        X = _design(spec, p, archs)
        if y_rows == 0:
            unit = _unit(p.y)
        while len(tris) < folds.count:
            tris.append(np.zeros((0, width)))
            counts.append(0)
        for g, rows in _grouped(f):
            tris[g] = _augmented(tris[g], X[rows], p.y[rows] / unit, loss)
            counts[g] += rows.size
        y_rows += p.y.size
    if y_rows == 0:
        raise MeasurementError(
            f"{data.label} has no data rows (0 rows in {len(data.files)} Parquet file(s)); "
            "expected at least one measured window with n_in, n_out and energy_j."
        )
    if groups is not None and folds.count < 2:
        raise SpecError(f"grouped cross-validation needs >= 2 groups; got {folds.count}.")
    archs = labels.archs
    kp = width - 1
    extra = (groups,) if groups is not None else ()
    columns, cmap = _column_plan(data, column_map, extra)
    coefs = np.empty((folds.count, kp))
    for i, train in enumerate(_leave_one_out(tris, width)):
        n_train = y_rows - counts[i]
        where = f"fold {folds.labels[i]!r} (training on {n_train} rows)"
        if n_train < kp:
            raise FitError(
                f"{where}: model {spec.label!r} has {kp} coefficients but the data has only "
                f"{n_train} row(s); measure at least {kp} (n_in, n_out) points (more than {kp} "
                "to estimate errors)."
            )
        sol = _solve_triangle(train, n_train, spec.is_physical)
        if sol.rank < kp:

            def training(df: pd.DataFrame, start: int, file: Path, first: int, i: int = i) -> Any:
                return folds.of(df, start, file, first) != i

            view = _levels(data, columns, cmap, batch_rows, training)
            raise FitError(f"{where}: {_rank_message(spec, view, sol.rank, kp)}")
        coefs[i] = sol.coef * unit

    ape_fold = np.zeros(folds.count)
    ape_max = 0.0
    for file, first, start, raw in _frames(data, columns, batch_rows):
        df = _validate_batch(raw, file, first, cmap)
        p = _arrays(df)
        f = folds.of(df, start, file, first)
        X = _design(spec, p, archs)
        pred = np.einsum("ij,ij->i", X, coefs[f])
        ape = np.abs(pred - p.y) / p.y * 100.0
        ape_fold += np.bincount(f, weights=ape, minlength=folds.count)
        ape_max = max(ape_max, float(ape.max()))
    rows = np.asarray(counts, dtype=np.int64)
    if groups is None:
        scheme = f"streamed k-fold (k={k}, seed={seed})"
    elif spec.is_physical and groups == "model":
        scheme = "leave-one-model-out"
    else:
        scheme = f"grouped by {groups}"
    return StreamCVResult(
        mape=float(ape_fold.sum() / y_rows),
        max_ape=ape_max,
        fold_mape=ape_fold / np.maximum(rows, 1),
        fold_rows=rows,
        fold_labels=tuple(folds.labels),
        scheme=scheme,
        model=spec.label,
        n_rows=int(y_rows),
    )
