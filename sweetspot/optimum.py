"""Energy per token, efficiency, and the output length that maximises output tokens per joule.

For the canonical energy of one request (DESIGN.md section 2)

.. math::

    E(n_{in}, n_{out}) = t_1 n_{in}^2 + t_2 n_{in} n_{out} + t_3 n_{in} + t_4 n_{out}^2 + t_5
                         + t_6 n_{out}

the energy per output token :math:`e = E / n_{out} = A / n_{out} + t_2 n_{in} + t_6 + t_4 n_{out}`
with :math:`A = t_1 n_{in}^2 + t_3 n_{in} + t_5` is minimised, when :math:`t_4 > 0` and
:math:`A > 0`, at

.. math::

    n_{out}^* = \\sqrt{A / t_4}, \\qquad e_{min} = 2\\sqrt{t_4 A} + t_2 n_{in} + t_6 .

Otherwise the minimum lies on a boundary of the allowed n_out range: with ``t4 <= 0`` and
``A > 0``, e keeps falling as n_out grows; with ``A <= 0`` and ``t4 > 0`` it keeps rising
from n_out = 1. Such cases raise :class:`~sweetspot.exceptions.NoOptimumError` unless the
caller gives an upper bound ``n_out_max``, in which case the boundary answer is returned and
flagged in :attr:`SweetSpot.interior`. Nothing here returns a silent NaN or infinity.

Models without a quadratic form (an engine without a KV cache) and the per-*total*-token
efficiency ``(n_in + n_out) / E`` are optimised numerically (:func:`optimal_n_out_total`).

References
----------
.. [1] Pizzini Cavagna et al., "Determining Energy Efficiency Sweet Spots in Production LLM
   Inference", arXiv:2602.05695 (ICPE 2026).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeGuard

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_lengths
from .exceptions import ExtrapolationWarning, NoOptimumError, SpecError
from .models import THETA_NAMES

__all__ = [
    "DEFAULT_N_OUT_MAX",
    "N_IN_GRID",
    "FittedModel",
    "SweetSpot",
    "as_theta",
    "energy",
    "energy_per_token",
    "min_energy_per_token",
    "optimal_n_out",
    "optimal_n_out_total",
    "predictor",
    "sweet_spot",
    "tokens_per_joule",
]


class FittedModel(Protocol):
    """What the functions here need of a fitted model (:class:`sweetspot.FitResult` is one):
    its ``theta`` (None when it has no six-term form) and a ``predict`` of energy [J]."""

    @property
    def theta(self) -> NDArray[np.float64] | None: ...

    def predict(
        self, n_in: ArrayLike, n_out: ArrayLike, *, warn: bool = True
    ) -> NDArray[np.float64]: ...


ThetaLike = FittedModel | ArrayLike | Mapping[str, float]


def _is_model(params: Any) -> TypeGuard[FittedModel]:
    # looked up on the class: an instance check would evaluate ``theta`` (a computation)
    return hasattr(type(params), "theta") and hasattr(type(params), "predict")


#: Upper search bound for numerical optima when the caller gives none [tokens].
DEFAULT_N_OUT_MAX = 2.0**20

#: Input lengths at which sweet spots are tabulated by default (reports, tables, the CLI)
#: [tokens]: the powers of two from 64 to 4096, the grid of the SweetSpot paper (References).
N_IN_GRID: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048, 4096)


def as_theta(params: Any) -> NDArray[np.float64] | None:
    """Theta ``t1..t6`` of a FitResult, a length-6 sequence or a mapping with keys t1..t6.

    Returns None for a FitResult without a quadratic form (cache-off physical model);
    raises :class:`SpecError` for anything else that is not a theta.
    """
    if _is_model(params):
        return params.theta
    if isinstance(params, Mapping):
        missing = [k for k in THETA_NAMES if k not in params]
        if missing:
            raise SpecError(
                f"a theta mapping needs the keys t1..t6; missing {missing}. Pass a FitResult, "
                "a sequence of 6 numbers (t1..t6) or a mapping {'t1': ..., ..., 't6': ...}."
            )
        arr = np.array([params[k] for k in THETA_NAMES], dtype=float)
    else:
        try:
            arr = np.asarray(params, dtype=float)
        except (TypeError, ValueError) as exc:
            raise SpecError(
                f"theta must be a FitResult, 6 numbers t1..t6 or a mapping; got {params!r}."
            ) from exc
        if arr.shape != (6,):
            raise SpecError(
                f"theta must have exactly 6 numbers in the order t1..t6 "
                f"(n_in^2, n_in n_out, n_in, n_out^2, 1, n_out); got shape {arr.shape}."
            )
    if not np.all(np.isfinite(arr)):
        raise SpecError(f"theta must be finite numbers; got {arr.tolist()}.")
    return arr


def predictor(params: Any) -> Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray]:
    """A function ``(n_in, n_out) -> energy per request [J]`` of a fit or a theta.

    Vectorised over float arrays, with no validation and no range warnings: for numerical
    searches that evaluate a model many times (validate the lengths once, outside).

    Raises
    ------
    SpecError
        ``params`` is not a theta or a fitted model, or is a pooled fit (which needs an
        architecture: use ``res.theta_for(arch)``).
    """
    theta = as_theta(params)
    if theta is not None:
        t = theta

        def quad(ni: NDArray[np.float64], no: NDArray[np.float64]) -> NDArray[np.float64]:
            return t[0] * ni * ni + t[1] * ni * no + t[2] * ni + t[3] * no * no + t[4] + t[5] * no

        return quad
    assert _is_model(params)
    if getattr(params, "is_pooled", False):
        raise SpecError(
            "this fit is pooled over several models; pick one first: "
            "res.theta_for('llama-2-7b') gives its theta."
        )

    def pred(ni: NDArray[np.float64], no: NDArray[np.float64]) -> NDArray[np.float64]:
        return params.predict(ni, no, warn=False)

    return pred


def energy(params: ThetaLike, n_in: ArrayLike, n_out: ArrayLike) -> NDArray[np.float64]:
    """Energy of one request [J] for a FitResult or a theta, broadcast over the lengths."""
    ni = as_lengths(n_in, "n_in", integer=False)
    no = as_lengths(n_out, "n_out", integer=False)
    ni, no = np.broadcast_arrays(ni, no)
    return np.asarray(predictor(params)(ni, no), dtype=float)


def energy_per_token(params: ThetaLike, n_in: ArrayLike, n_out: ArrayLike) -> NDArray[np.float64]:
    """Energy per output token ``E / n_out`` [J/token].

    Examples
    --------
    >>> import sweetspot as ss
    >>> float(ss.energy_per_token([0, 0, 0, 1e-3, 4.0, 0.1], 512, 64))
    0.2265
    """
    ni = as_lengths(n_in, "n_in", integer=False)
    no = as_lengths(n_out, "n_out", integer=False)
    ni, no = np.broadcast_arrays(ni, no)
    return np.asarray(predictor(params)(ni, no) / no, dtype=float)


def tokens_per_joule(params: ThetaLike, n_in: ArrayLike, n_out: ArrayLike) -> NDArray[np.float64]:
    """Efficiency ``eta = n_out / E`` [output tokens/J]."""
    return 1.0 / energy_per_token(params, n_in, n_out)


@dataclass(frozen=True, slots=True, kw_only=True)
class SweetSpot:
    """The energy-optimal output length for each input length.

    Attributes
    ----------
    n_in : ndarray
        Input lengths [tokens].
    n_out : ndarray
        Optimal output length [tokens] (continuous; round with ``np.rint`` or use
        ``optimal_n_out(..., integer=True)`` for the best integer).
    energy_per_token_j : ndarray
        Minimum energy per output token [J/token].
    interior : ndarray of bool
        True where the optimum is interior (closed form); False where it is a boundary of
        ``[1, n_out_max]``: the answer is then an end of the range, not a sweet spot.
    extrapolated : ndarray of bool
        True where the answer rests on extrapolation: ``n_in`` or the optimal ``n_out`` lies
        outside the lengths the fit was made on (always False for a bare theta, which
        carries no fitted range).
    """

    n_in: NDArray[np.float64]
    n_out: NDArray[np.float64]
    energy_per_token_j: NDArray[np.float64]
    interior: NDArray[np.bool_]
    extrapolated: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        if self.extrapolated.shape != np.shape(self.n_out):
            object.__setattr__(self, "extrapolated", np.zeros(np.shape(self.n_out), dtype=bool))

    @property
    def tokens_per_joule(self) -> NDArray[np.float64]:
        """Maximum efficiency [output tokens/J]."""
        return 1.0 / self.energy_per_token_j


def sweet_spot(
    params: ThetaLike,
    n_in: ArrayLike,
    *,
    n_out_max: float | None = None,
    warn: bool = True,
) -> SweetSpot:
    """Optimal n_out, minimum energy per token, and whether the answer can be trusted.

    Parameters
    ----------
    params : FitResult, sequence of 6 floats or mapping
        The fitted model or its theta ``t1..t6``.
    n_in : array_like of int
        Input lengths [tokens].
    n_out_max : float, optional
        Largest admissible output length [tokens]. Without it a boundary optimum raises
        :class:`NoOptimumError`; with it the answer is the best n_out in ``[1, n_out_max]``.
    warn : bool
        Emit :class:`~sweetspot.exceptions.ExtrapolationWarning` when an answer lies outside
        the fitted lengths of a :class:`~sweetspot.FitResult` (see ``extrapolated``).

    Returns
    -------
    SweetSpot
        With ``interior`` (False: a boundary answer) and ``extrapolated`` (True: ``n_in`` or
        ``n_out*`` outside the fitted range) for every input length.

    Raises
    ------
    NoOptimumError
        No interior optimum for some n_in and no ``n_out_max`` given. Its ``boundary``
        attribute says which way energy per token keeps falling.
    """
    ni = as_lengths(n_in, "n_in", integer=False)
    hi = None
    if n_out_max is not None:
        hi = float(as_lengths(n_out_max, "n_out_max", integer=False))
    theta = as_theta(params)
    sp = _numeric_sweet_spot(params, ni, hi) if theta is None else _closed_form(theta, ni, hi)
    return _mark_extrapolation(params, sp, warn)


def fitted_box(params: Any) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The fitted (n_in, n_out) ranges of a fitted model, or None (a bare theta)."""
    n_in_range = getattr(params, "n_in_range", None)
    n_out_range = getattr(params, "n_out_range", None)
    if n_in_range is None or n_out_range is None:
        return None
    if not all(np.isfinite(v) for v in (*n_in_range, *n_out_range)):
        return None
    return (float(n_in_range[0]), float(n_in_range[1])), (
        float(n_out_range[0]),
        float(n_out_range[1]),
    )


def _mark_extrapolation(params: Any, sp: SweetSpot, warn: bool) -> SweetSpot:
    box = fitted_box(params)
    if box is None:
        return sp
    (i0, i1), (o0, o1) = box
    rel = 1e-9  # a sweet spot on the edge of the fitted range is inside it
    out_in = (sp.n_in < i0 * (1 - rel)) | (sp.n_in > i1 * (1 + rel))
    out_out = (sp.n_out < o0 * (1 - rel)) | (sp.n_out > o1 * (1 + rel))
    extrap = np.asarray(out_in | out_out, dtype=bool)
    if warn and np.any(extrap):
        parts = []
        if np.any(out_in):
            parts.append(f"n_in {_span(sp.n_in[out_in])} outside the fitted {i0:g}..{i1:g}")
        if np.any(out_out):
            parts.append(f"n_out* {_span(sp.n_out[out_out])} outside the fitted {o0:g}..{o1:g}")
        warnings.warn(
            "sweet spot extrapolated: " + "; ".join(parts) + ". The model was not fitted "
            "there; measure those lengths before relying on it (SweetSpot.extrapolated "
            "marks each answer).",
            ExtrapolationWarning,
            stacklevel=3,
        )
    return replace(sp, extrapolated=extrap)


def _span(values: NDArray[np.float64]) -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    return f"{lo:.0f}" if round(lo) == round(hi) else f"{lo:.0f}..{hi:.0f}"


def _closed_form(
    theta: NDArray[np.float64], ni: NDArray[np.float64], hi: float | None
) -> SweetSpot:
    t1, t2, t3, t4, t5, t6 = theta
    a = t1 * ni * ni + t3 * ni + t5
    interior = (t4 > 0) & (a > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        n_star = np.where(
            interior, np.sqrt(np.where(interior, a, 1.0) / (t4 if t4 > 0 else 1.0)), 0.0
        )
    if hi is None:
        if not np.all(interior):
            bad = ni[~interior] if ni.ndim else ni
            boundary = "n_out -> inf" if t4 <= 0 else "n_out -> 0"
            raise NoOptimumError(_no_optimum_message(t4, np.atleast_1d(bad)), boundary=boundary)
        n_opt = n_star
    else:
        # e(n) = a/n + b + t4 n on [1, hi]: convex when a > 0, so clamp; otherwise compare ends.
        e_lo = a / 1.0 + t4 * 1.0
        e_hi = a / hi + t4 * hi
        ends = np.where(e_hi < e_lo, hi, 1.0)
        n_opt = np.where(interior, np.clip(n_star, 1.0, hi), ends)
        interior = interior & (n_star >= 1.0) & (n_star <= hi)
    e_min = (t1 * ni * ni + t3 * ni + t5) / n_opt + t2 * ni + t6 + t4 * n_opt
    return SweetSpot(
        n_in=ni,
        n_out=np.asarray(n_opt, float),
        energy_per_token_j=np.asarray(e_min, float),
        interior=np.asarray(interior, bool),
    )


def _no_optimum_message(t4: float, bad: NDArray[np.float64]) -> str:
    shown = ", ".join(f"{v:g}" for v in bad[:5]) + (" ..." if bad.size > 5 else "")
    if t4 <= 0:
        why = (
            f"t4 = {t4:.3g} <= 0, so energy per output token keeps falling as n_out grows "
            "(the optimum is the longest output allowed)"
        )
    else:
        why = (
            "t1 n_in^2 + t3 n_in + t5 <= 0, so energy per output token keeps rising with n_out "
            "(the optimum is the shortest output)"
        )
    return (
        f"no interior energy-per-token optimum at n_in = {shown}: {why}. Pass n_out_max=... to "
        "get the boundary answer, or refit with more n_out levels."
    )


def _golden_minimise(
    f: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    *,
    grid: int = 256,
    iters: int = 60,
    rtol: float = 1e-10,
) -> NDArray[np.float64]:
    """Vectorised minimiser on [lo, hi]: a log-spaced grid scan, then golden-section search
    between the neighbours of the best grid point (robust to a few local wiggles).

    Each golden step evaluates ``f`` once (at the one new point of every bracket), and the
    search stops when every bracket is narrower than ``rtol`` relative.
    """
    lo = np.asarray(lo, float)
    hi = np.asarray(hi, float)
    u = np.linspace(0.0, 1.0, grid)
    pts = np.exp(np.log(lo)[..., None] + u * (np.log(hi) - np.log(lo))[..., None])
    vals = f(pts)
    k = np.argmin(vals, axis=-1)
    a = np.take_along_axis(pts, np.clip(k - 1, 0, grid - 1)[..., None], -1)[..., 0]
    b = np.take_along_axis(pts, np.clip(k + 1, 0, grid - 1)[..., None], -1)[..., 0]
    g = (np.sqrt(5.0) - 1.0) / 2.0
    c = b - g * (b - a)
    d = a + g * (b - a)
    both = f(np.stack([c, d], axis=-1))
    fc, fd = both[..., 0], both[..., 1]
    for _ in range(iters):
        if np.all(b - a <= rtol * b):
            break
        left = fc < fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        new = np.where(left, b - g * (b - a), a + g * (b - a))  # the one new point
        f_new = f(new[..., None])[..., 0]
        c, d = np.where(left, new, d), np.where(left, c, new)
        fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
    x = (a + b) / 2.0
    # the interval ends themselves are candidates too (boundary optima)
    cand = np.stack([lo, x, hi], axis=-1)
    best = np.argmin(f(cand), axis=-1)
    return np.take_along_axis(cand, best[..., None], -1)[..., 0]


def _numeric_sweet_spot(params: Any, ni: NDArray[np.float64], hi: float | None) -> SweetSpot:
    pred = predictor(params)
    top = DEFAULT_N_OUT_MAX if hi is None else hi
    flat = np.atleast_1d(ni).ravel()

    def e_tok(n: NDArray[np.float64]) -> NDArray[np.float64]:
        nin = np.broadcast_to(flat[:, None], n.shape)
        return np.asarray(pred(nin, n) / n, dtype=float)

    n_opt = _golden_minimise(e_tok, np.ones_like(flat), np.full_like(flat, top))
    e_min = e_tok(n_opt[:, None])[:, 0]
    # interior unless the optimum sits on an end of [1, top] (relative tolerance)
    interior = (n_opt > 1.0 + 1e-6) & (n_opt < top * (1 - 1e-6))
    if hi is None and not np.all(interior):
        bad = flat[~interior]
        at_low_end = bool(np.any(n_opt[~interior] <= 1.0 + 1e-6))
        trend = (
            "energy per token rises from n_out = 1 (the optimum is the shortest output)"
            if at_low_end
            else f"energy per token keeps falling up to n_out = {top:g}"
        )
        raise NoOptimumError(
            f"no interior energy-per-token optimum at n_in = "
            f"{', '.join(f'{v:g}' for v in bad[:5])}: {trend}. Pass n_out_max=... to get the "
            "boundary answer.",
            boundary="n_out -> 0" if at_low_end else "n_out -> inf",
        )
    shape = np.shape(ni)
    return SweetSpot(
        n_in=ni,
        n_out=n_opt.reshape(shape),
        energy_per_token_j=e_min.reshape(shape),
        interior=interior.reshape(shape),
    )


def optimal_n_out(
    params: ThetaLike,
    n_in: ArrayLike,
    *,
    n_out_max: float | None = None,
    integer: bool = False,
    warn: bool = True,
) -> NDArray[np.float64]:
    """Output length that maximises output tokens per joule, for each input length.

    Closed form ``sqrt((t1 n_in^2 + t3 n_in + t5) / t4)`` for quadratic models; a numerical
    search for models without a quadratic form (engine without KV cache).

    Parameters
    ----------
    params : FitResult, sequence of 6 floats (t1..t6) or mapping
        Fitted model or theta.
    n_in : array_like of int
        Input lengths [tokens].
    n_out_max : float, optional
        Largest admissible output [tokens]; enables boundary answers instead of an error.
    integer : bool
        Return the best integer n_out (the better of floor and ceil) instead of the
        continuous optimum.
    warn : bool
        Emit :class:`~sweetspot.exceptions.ExtrapolationWarning` for answers outside the
        fitted lengths of a FitResult (:func:`sweet_spot` returns which ones).

    Returns
    -------
    ndarray
        Optimal n_out [tokens], same shape as ``n_in``.

    Raises
    ------
    NoOptimumError
        No interior optimum (``t4 <= 0`` or ``t1 n_in^2 + t3 n_in + t5 <= 0``) and no
        ``n_out_max``.

    Examples
    --------
    >>> import sweetspot as ss
    >>> ss.optimal_n_out([0, 0, 0, 1e-3, 4.0, 0.1], [64, 512]).tolist()
    [63.245553203367585, 63.245553203367585]
    """
    sp = sweet_spot(params, n_in, n_out_max=n_out_max, warn=warn)
    if not integer:
        return sp.n_out
    lo = np.maximum(np.floor(sp.n_out), 1.0)
    hi_ = np.ceil(sp.n_out)
    if n_out_max is not None:
        hi_ = np.minimum(hi_, np.floor(n_out_max))
    ni = np.broadcast_to(sp.n_in, lo.shape)
    e_lo = energy_per_token(params, ni, lo)
    e_hi = energy_per_token(params, ni, np.maximum(hi_, 1.0))
    return np.where(e_hi < e_lo, np.maximum(hi_, 1.0), lo)


def min_energy_per_token(
    params: ThetaLike, n_in: ArrayLike, *, n_out_max: float | None = None
) -> NDArray[np.float64]:
    """Minimum over n_out of the energy per output token [J/token]:
    ``2 sqrt(t4 (t1 n_in^2 + t3 n_in + t5)) + t2 n_in + t6`` for an interior optimum."""
    return sweet_spot(params, n_in, n_out_max=n_out_max, warn=False).energy_per_token_j


def optimal_n_out_total(
    params: ThetaLike, n_in: ArrayLike, *, n_out_max: float = 4096.0
) -> NDArray[np.float64]:
    """Output length that maximises *total* tokens per joule ``(n_in + n_out) / E``.

    There is no closed form in the design; this searches ``[1, n_out_max]`` numerically (a
    log-grid scan refined by golden section), so a boundary answer ``n_out_max`` means
    efficiency per total token still rises there.

    Parameters
    ----------
    params : FitResult or theta
    n_in : array_like of int
        Input lengths [tokens].
    n_out_max : float
        Upper bound of the search [tokens].
    """
    ni = as_lengths(n_in, "n_in", integer=False)
    top = float(as_lengths(n_out_max, "n_out_max", integer=False))
    pred = predictor(params)
    flat = np.atleast_1d(ni).ravel()

    def neg_eff(n: NDArray[np.float64]) -> NDArray[np.float64]:
        nin = np.broadcast_to(flat[:, None], n.shape)
        return np.asarray(-(nin + n) / pred(nin, n), dtype=float)

    n_opt = _golden_minimise(neg_eff, np.ones_like(flat), np.full_like(flat, top))
    return n_opt.reshape(np.shape(ni))
