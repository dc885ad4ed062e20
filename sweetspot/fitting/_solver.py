"""The one least-squares core of every fit: a row-block reduction to a triangle, solved once.

Every model is linear in its coefficients, so a fit minimises ``||Xw c - yw||`` with the
weighted design ``Xw`` (rows of ``X / E`` and ``yw = 1`` for the relative loss; ``X``, ``E``
for the absolute loss). The augmented matrix ``A = [Xw | yw]`` is reduced, block of rows by
block of rows, to its (k+1) x (k+1) upper triangle with Householder reflections (LAPACK
``dgeqrf``): the running triangle is stacked on each block and re-factored. The leading
k x k block is the ``R`` of ``Xw = Q R`` and the last column holds ``Q^T yw``, so
``R c = Q^T yw`` is the backward-stable least-squares solution (Golub & Van Loan, *Matrix
Computations*, 4th ed., section 5.3) with no refinement pass over the data. An in-memory fit
is the same reduction over the blocks of one array; a streamed fit feeds it the batches of a
Parquet dataset; cross-validation keeps one triangle per fold and combines the others
exactly.

``R`` is column-scaled and its SVD gives the rank, the 2-norm condition number and the
covariance ``(Xs^T Xs)^-1`` of the scaled problem. Physical models, whose coefficients are
non-negative, are solved by NNLS on the exact k x k reduction ``min ||Rs c - Q^T yw||``
(Lawson & Hanson 1974). The ``mape`` loss is a linear programme over all rows (HiGHS).

Energies are first divided by a power of two near their geometric middle (exact), so sums of
squares neither overflow nor underflow whether energies are 1e-300 or 1e300 J.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import FitError

_F64 = NDArray[np.float64]

#: Rows reduced at a time by an in-memory fit: large enough for LAPACK to run near its
#: peak, small enough that a block (and its weighted copy) stays in cache-sized memory.
BLOCK_ROWS = 1 << 15

#: Rows of one block of the Gram-based reduction (a weighted design block of a few hundred
#: kB: it stays in the CPU cache between being built and being multiplied).
GRAM_BLOCK_ROWS = 1 << 13

#: Largest condition number of the column-scaled augmented design for which the Gram-based
#: reduction (CholeskyQR2) is used; above it, Householder. CholeskyQR2 gives a triangle as
#: accurate as Householder QR when the condition number is well below u^-1/2 ~ 1e8
#: (Yamamoto, Nakatsukasa, Yanagisawa & Fukaya, ETNA 44, 2015).
GRAM_MAX_COND = 1e6

#: Below this condition number one Cholesky pass (CholeskyQR) is already as accurate as a
#: Householder triangle to about kappa^2 u < 1e-12 relative, and the second pass is skipped.
#: Six-term fits on real grids have kappa of 5-20 after column scaling.
GRAM_ONE_PASS_COND = 1e2


def unit_of(y: _F64) -> float:
    """A power of two between the smallest and largest energy (geometric middle):
    ``y / unit`` is exact and as close to 1 as the spread allows."""
    lo = int(np.frexp(np.min(y))[1])
    hi = int(np.frexp(np.max(y))[1])
    return float(np.ldexp(1.0, (lo + hi) // 2))


def column_norms(R: _F64) -> _F64:
    """Column 2-norms without the under/overflow of summing squares."""
    big = np.max(np.abs(R), axis=0)
    safe = np.where(big > 0, big, 1.0)
    return np.asarray(big * np.sqrt(np.einsum("ij,ij->j", R / safe, R / safe)), dtype=float)


def one_blas_thread() -> Any:
    """Limit BLAS to one thread (faster for tall-skinny QR, and on a busy machine).

    threadpoolctl ships with scikit-learn, a dependency; the controller is built once.
    """
    global _CONTROLLER
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        return contextlib.nullcontext()
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


_CONTROLLER: Any = None


def triangle(A: _F64) -> _F64:
    """Upper triangle R of ``A = Q R`` (at most min(m, n) rows), Householder, in place."""
    from scipy.linalg.lapack import dgeqrf

    m, n = A.shape
    qr, _, _, info = dgeqrf(A, overwrite_a=1)
    if info != 0:  # pragma: no cover - only for invalid arguments
        raise FitError(f"QR factorisation failed (LAPACK dgeqrf info = {info}).")
    return np.triu(qr[: min(m, n)])


def empty(k: int) -> _F64:
    """The triangle of no rows, for ``k`` coefficients."""
    return np.zeros((0, k + 1))


def weighted(X: _F64, y: _F64, loss: str, top: _F64 | None = None, out: _F64 | None = None) -> _F64:
    """``[top; Xw yw]`` as a Fortran-ordered array (``top``: a triangle to stack on; ``out``:
    a buffer of at least as many rows to fill instead of a new array)."""
    n, k = X.shape
    t = 0 if top is None else top.shape[0]
    A = np.empty((t + n, k + 1), order="F") if out is None else out[: t + n]
    if top is not None:
        A[:t] = top
    if loss in ("relative", "mape"):
        w = 1.0 / y
        for j in range(k):
            np.multiply(X[:, j], w, out=A[t:, j])
        A[t:, k] = 1.0
    else:
        A[t:, :k] = X
        A[t:, k] = y
    return A


def reduce(R: _F64, X: _F64, y: _F64, loss: str, *, block_rows: int = BLOCK_ROWS) -> _F64:
    """Triangle of ``[R; Xw yw]``: the running reduction updated with rows ``X``, ``y``."""
    for start in range(0, y.size, block_rows):
        stop = start + block_rows
        R = triangle(weighted(X[start:stop], y[start:stop], loss, top=R))
    return R


def gram_triangle(
    blocks: Callable[[], Iterator[tuple[_F64, _F64]]], k: int, loss: str
) -> _F64 | None:
    """Triangle of ``[Xw yw]`` over all blocks by CholeskyQR2, or None when it would not be
    accurate (the caller then reduces by Householder, :func:`reduce`).

    ``blocks()`` yields ``(X, y)`` blocks of the rows and is called twice. Pass 1 sums the
    Gram matrix ``A^T A`` block by block; its Cholesky factor ``R1`` of the column-scaled
    matrix (``A D^-1 = Q1 R1``) is the triangle when the scaled condition number is at most
    :data:`GRAM_ONE_PASS_COND`. Otherwise pass 2 sums ``Q1^T Q1`` with ``Q1 = A D^-1 R1^-1``,
    and its Cholesky factor ``R2`` gives ``A = Q2 (R2 R1 D)``: the triangle, as accurate as
    Householder's while the scaled condition number stays below :data:`GRAM_MAX_COND`.
    """
    width = k + 1
    buf = np.empty((GRAM_BLOCK_ROWS, width), order="F")
    G = np.zeros((width, width))
    for X, y in blocks():
        A = weighted(X, y, loss, out=buf)
        G += A.T @ A
    d = np.sqrt(np.diag(G))
    if not np.all(np.isfinite(d)) or np.any(d == 0):
        return None
    try:
        R1 = np.linalg.cholesky(G / np.outer(d, d)).T
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(R1)):
        return None
    cond = np.linalg.cond(R1)
    if cond > GRAM_MAX_COND:
        return None
    if cond <= GRAM_ONE_PASS_COND:
        return np.asarray(R1 * d, dtype=float)
    M = np.linalg.solve(R1.T, np.diag(1.0 / d)).T  # D^-1 R1^-1
    G2 = np.zeros((width, width))
    for X, y in blocks():
        Q = weighted(X, y, loss, out=buf) @ M
        G2 += Q.T @ Q
    try:
        R2 = np.linalg.cholesky(G2).T
    except np.linalg.LinAlgError:
        return None
    return np.asarray((R2 @ R1) * d, dtype=float)


def combine(triangles: Sequence[_F64], width: int) -> _F64:
    """One triangle of the rows of several (exact: the union's R up to signs)."""
    blocks = [t for t in triangles if t.shape[0]]
    if not blocks:
        return np.zeros((0, width))
    if len(blocks) == 1:
        return blocks[0]
    return triangle(np.asfortranarray(np.vstack(blocks)))


def leave_one_out(triangles: Sequence[_F64], width: int) -> list[_F64]:
    """Triangle of all blocks but i, for every i (prefix and suffix reductions, exact)."""
    m = len(triangles)
    prefix = [np.zeros((0, width))]
    for t in triangles[:-1]:
        prefix.append(combine([prefix[-1], t], width))
    suffix = [np.zeros((0, width))] * m
    for i in range(m - 2, -1, -1):
        suffix[i] = combine([triangles[i + 1], suffix[i + 1]], width)
    return [combine([prefix[i], suffix[i]], width) for i in range(m)]


@dataclass(frozen=True, slots=True)
class Solution:
    """Least-squares solution of a reduced problem (energies in units of ``unit_of``)."""

    coef: _F64  # coefficients
    scaled: _F64  # coefficients of the column-scaled problem
    scale: _F64  # column scale of R
    inv_gram: _F64  # (Xs^T Xs)^-1 of the column-scaled problem
    cond: float  # 2-norm condition number of the column-scaled design
    rank: int
    stderr: _F64 | None = None  # standard errors of coef (set once the residuals are known)


def solve(Raug: _F64, n: int, nonneg: bool) -> Solution:
    """Least squares from the augmented triangle of ``n`` rows (see the module notes)."""
    k = Raug.shape[1] - 1
    full = np.zeros((k + 1, k + 1))
    full[: Raug.shape[0]] = Raug[: k + 1]
    R = full[:k, :k]
    z = full[:k, k]
    scale = column_norms(R)
    scale[scale == 0] = 1.0
    Rs = R / scale
    try:
        u, s, vt = np.linalg.svd(Rs)
    except np.linalg.LinAlgError as exc:
        raise FitError(
            f"the least-squares problem is numerically degenerate ({exc}). Check the units of "
            "energy_j (joules) and of the lengths (tokens)."
        ) from exc
    tol = s.max() * max(n, k) * np.finfo(float).eps
    rank = int(np.sum(s > tol))
    cond = float(s.max() / s.min()) if s.min() > 0 else float("inf")
    if rank < k:
        nan = np.full(k, np.nan)
        return Solution(nan, nan, scale, np.full((k, k), np.nan), cond, rank)
    inv_gram = (vt.T / s**2) @ vt
    b = vt.T @ ((u.T @ z) / s)
    if nonneg and np.any(b < 0):
        from scipy.optimize import nnls

        # ||Xs b - yw||^2 = ||Rs b - Q^T yw||^2 + const, exactly: no refinement needed
        b, _ = nnls(Rs, z, maxiter=50 * k)
    return Solution(b / scale, b, scale, inv_gram, cond, rank)


def solve_l1(X: _F64, y: _F64, sol: Solution, nonneg: bool) -> Solution:
    """The ``mape`` loss: ``min sum |1 - Xs b / y|`` as a linear programme (HiGHS).

    Variables ``(b, u)`` with ``u >= |yw - Xs b|``, on the column scaling of ``sol``.
    """
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, eye, hstack, vstack

    A = weighted(X, y, "mape")
    Xs, yw = A[:, :-1] / sol.scale, A[:, -1]
    n, k = Xs.shape
    c = np.concatenate([np.zeros(k), np.ones(n)])
    M = csr_matrix(Xs)
    In = eye(n, format="csr")
    A_ub = vstack([hstack([M, -In]), hstack([-M, -In])], format="csr")
    b_ub = np.concatenate([yw, -yw])
    bounds = [(0, None) if nonneg else (None, None)] * k + [(0, None)] * n
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if not res.success:
        raise FitError(f"the MAPE linear programme failed: {res.message}. Try loss='relative'.")
    b = np.asarray(res.x[:k], dtype=float)
    return Solution(b / sol.scale, b, sol.scale, sol.inv_gram, sol.cond, sol.rank)
