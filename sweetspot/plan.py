"""Application helpers: choose ``max_tokens``, truncate prompts to an energy budget, and price a
request mix.

Every function takes a fitted model: a :class:`~sweetspot.result.FitResult` (a fit of your own,
a saved fit or a published table) or its theta ``t1..t6``. Models with the six-term quadratic
form (every model of an engine with a KV cache)

.. math::

    E(n_{in}, n_{out}) = t_1 n_{in}^2 + t_2 n_{in} n_{out} + t_3 n_{in} + t_4 n_{out}^2 + t_5
                         + t_6 n_{out}

are solved in closed form and the answer is then checked on the integers, so it is exactly the
integer the definition asks for. Models without that form (a physical model of an engine
*without* KV cache, whose energy is cubic) are solved by bisection on the integers, which
assumes energy grows with the prompt length and, around the sweet spot, is unimodal in the
output length (true for physical models, whose coefficients are non-negative).

- :func:`recommend_max_tokens`: the energy-per-token sweet spot as an integer ``max_tokens``,
  clamped to the caller's bounds, or with ``slack`` the shortest output within that fraction of
  the best energy per token;
- :func:`max_input_tokens`: the longest prompt that keeps a request inside an energy budget per
  request or per output token;
- :func:`truncate_prompt`: cut a prompt (token ids, or text with a tokenizer) to that length,
  keeping its head, its tail or its middle;
- :func:`workload_energy` and :func:`policy_savings`: the energy of a request mix (e.g. an Azure
  trace) and what a policy (cap ``max_tokens`` at the sweet spot, truncate prompts to a budget)
  would save on it, with the fraction of requests it changes;
- :func:`plot_savings`: the energy-per-request distribution before and after a policy.

A policy that caps ``max_tokens`` shortens the answers users receive: a saving in joules is
also a change in what the service delivers. :class:`PolicySavings` reports the output tokens
removed beside the joules saved.

References
----------
.. [1] Pizzini Cavagna et al., "Determining Energy Efficiency Sweet Spots in Production LLM
   Inference", arXiv:2602.05695 (ICPE 2026).
.. [2] P. Patel et al., "Splitwise: Efficient generative LLM inference using phase splitting",
   ISCA 2024 (the Azure LLM inference traces).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_lengths, check_choice
from .exceptions import (
    DependencyError,
    ExtrapolationWarning,
    NegativeCoefficientWarning,
    NoOptimumError,
    SpecError,
)
from .optimum import ThetaLike, as_theta, fitted_box, predictor, sweet_spot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "PolicySavings",
    "Truncation",
    "WorkloadEnergy",
    "energy_budget",
    "format_joules",
    "max_input_tokens",
    "plot_savings",
    "policy_savings",
    "recommend_max_tokens",
    "truncate_prompt",
    "workload_energy",
]

Keep = Literal["tail", "head", "middle"]
Policy = Literal["cap", "truncate", "both"]
KEEPS: tuple[str, ...] = ("tail", "head", "middle")
POLICIES: tuple[str, ...] = ("cap", "truncate", "both")

_Pred = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]

#: Longest prompt or output the integer searches consider when the caller gives no bound
#: [tokens]; beyond it a model is treated as unbounded (2**40, far past any context window).
_SEARCH_MAX = float(2**40)


# ------------------------------------------------------------------------------ helpers ---
class _Model:
    """Energy of one request [J] for a fit or a theta, plus theta when the form is quadratic."""

    __slots__ = ("pred", "theta")

    def __init__(self, params: Any) -> None:
        self.theta = as_theta(params)
        self.pred: _Pred = predictor(params)

    def energy(self, n_in: ArrayLike, n_out: ArrayLike) -> NDArray[np.float64]:
        ni, no = np.broadcast_arrays(np.asarray(n_in, float), np.asarray(n_out, float))
        return np.asarray(self.pred(ni, no), dtype=float)


def _positive_int(value: Any, name: str) -> int:
    """A positive whole number (int, or a float with an integral value) as int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise SpecError(f"{name} must be a positive whole number of tokens; got {value!r}.")
    if not math.isfinite(float(value)) or float(value) != round(float(value)) or value < 1:
        raise SpecError(
            f"{name} must be a positive whole number of tokens (>= 1); got {value!r}. "
            f"Pass e.g. {name}=64."
        )
    return int(value)


def _positive_amount(value: Any, name: str, unit: str) -> NDArray[np.float64]:
    """A positive finite amount (scalar or array) as float64."""
    arr = np.asarray(value)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise SpecError(f"{name} must be a positive number [{unit}]; got {value!r}.")
    out = arr.astype(float)
    bad = ~np.isfinite(out) | (out <= 0)
    if np.any(bad):
        first = out[bad].ravel()[0] if out.ndim else out
        raise SpecError(
            f"{name} must be a positive, finite energy [{unit}]; got {float(first)!r}. "
            "A budget of zero or less admits no request."
        )
    return out


def _as_output(values: NDArray[np.float64], like: Any) -> Any:
    """Python int for a scalar input, int64 array of the input's shape otherwise."""
    if np.ndim(like) == 0:
        return int(np.asarray(values).reshape(()))
    return np.asarray(values).astype(np.int64)


def _budget(n_out: NDArray[np.float64], budget_j: Any, max_j_per_token: Any) -> NDArray[np.float64]:
    """Per-request budget [J]: the tighter of ``budget_j`` and ``max_j_per_token * n_out``."""
    if budget_j is None and max_j_per_token is None:
        raise SpecError(
            "give an energy budget: budget_j=... [J per request] or max_j_per_token=... "
            "[J per output token] (or both; the tighter one applies)."
        )
    limits = []
    if budget_j is not None:
        limits.append(_positive_amount(budget_j, "budget_j", "J"))
    if max_j_per_token is not None:
        limits.append(_positive_amount(max_j_per_token, "max_j_per_token", "J/token") * n_out)
    out = limits[0] if len(limits) == 1 else np.minimum(limits[0], limits[1])
    return np.asarray(out, dtype=float)


def energy_budget(
    n_out: ArrayLike,
    *,
    budget_j: ArrayLike | None = None,
    max_j_per_token: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Energy budget per request [J] at output lengths ``n_out``: the tighter of the two budgets.

    This is the budget :func:`max_input_tokens`, :func:`truncate_prompt` and
    :func:`policy_savings` hold a request to.

    Parameters
    ----------
    n_out : int or array_like of int
        Output lengths (``max_tokens``) [tokens].
    budget_j : float or array_like, optional
        Energy budget per request [J].
    max_j_per_token : float or array_like, optional
        Energy budget per output token [J/token], i.e. ``max_j_per_token * n_out`` per request.

    Returns
    -------
    ndarray of float64
        ``min(budget_j, max_j_per_token * n_out)`` of the budgets given, broadcast over
        ``n_out`` and the budgets (0-d for scalar inputs).

    Raises
    ------
    SpecError
        Neither budget given, a budget that is not a positive finite number, or a length that
        is not a positive whole number.

    Examples
    --------
    >>> from sweetspot import plan
    >>> plan.energy_budget([100, 1000], budget_j=300.0, max_j_per_token=0.5).tolist()
    [50.0, 300.0]
    """
    no = as_lengths(n_out, "n_out")
    budget = _budget(no, budget_j, max_j_per_token)
    return np.broadcast_to(budget, np.broadcast_shapes(no.shape, budget.shape)).copy()


def _bisect_last(
    ok: Callable[[NDArray[np.float64], NDArray[np.bool_]], NDArray[np.bool_]],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Largest integer ``n`` in ``[lo, hi]`` with ``ok(n)``, given ``ok(lo)`` true, ``ok(hi)``
    false and one switch from true to false in between (vectorised, exact on integers).

    ``ok(n, mask)`` evaluates the predicate for the elements selected by ``mask``.
    """
    lo = lo.copy()
    hi = hi.copy()
    active = hi - lo > 1
    while np.any(active):
        mid = np.floor((lo + hi) / 2.0)
        good = np.zeros(lo.shape, dtype=bool)
        good[active] = ok(mid[active], active)
        lo = np.where(active & good, mid, lo)
        hi = np.where(active & ~good, mid, hi)
        active = hi - lo > 1
    return lo


# -------------------------------------------------------------------- max_tokens -----
def recommend_max_tokens(
    params: ThetaLike,
    n_in: ArrayLike,
    *,
    n_min: int = 1,
    n_max: int | None = None,
    slack: float = 0.0,
) -> Any:
    """Generation length ``max_tokens`` at (or near) the energy-per-token sweet spot.

    Parameters
    ----------
    params : FitResult, sequence of 6 floats (t1..t6) or mapping
        The fitted model or its theta.
    n_in : int or array_like of int
        Prompt lengths [tokens].
    n_min, n_max : int, optional
        Bounds on the answer [tokens]. Without ``n_max`` a model with no interior optimum raises
        :class:`NoOptimumError`; with it the boundary answer is returned.
    slack : float
        0 (default): the best integer output length, i.e. the one of ``floor(n_out*)`` and
        ``ceil(n_out*)`` with the lower energy per token (the smaller on a tie), clamped to
        ``[n_min, n_max]``. ``slack > 0``: the *shortest* output in ``[n_min, that length]``
        whose energy per output token is within ``(1 + slack)`` of the energy per token at
        that length, e.g. ``slack=0.05`` for within 5 %. Shorter outputs cost less per request.

    Returns
    -------
    int or ndarray of int64
        ``max_tokens`` [tokens]; an int for a scalar ``n_in``, else an array of its shape.

    Raises
    ------
    NoOptimumError
        No interior optimum (``t4 <= 0`` or ``t1 n_in^2 + t3 n_in + t5 <= 0`` for some n_in)
        and no ``n_max``.
    SpecError
        Non-positive or fractional lengths, ``n_max < n_min``, negative or non-finite
        ``slack``, or a model predicting non-positive energy per token at the optimum.

    Notes
    -----
    With ``A = t1 n_in^2 + t3 n_in + t5`` the energy per token ``e(n) = A/n + t2 n_in + t6 +
    t4 n`` is minimised at ``n_out* = sqrt(A / t4)``. With slack the answer is the smaller root
    of ``t4 n^2 + (t2 n_in + t6 - T) n + A = 0`` with ``T = (1 + slack) e(k)``, rounded up and
    checked on the integers.

    Examples
    --------
    >>> from sweetspot import plan
    >>> theta = [0, 0, 0, 1e-3, 4.0, 0.1]      # n_out* = sqrt(4 / 1e-3) = 63.2
    >>> plan.recommend_max_tokens(theta, 512)
    63
    >>> plan.recommend_max_tokens(theta, [512, 1024], n_max=32).tolist()
    [32, 32]
    >>> plan.recommend_max_tokens(theta, 512, slack=0.10)  # within 10 % of the best
    36
    """
    ni = as_lengths(n_in, "n_in")
    lo = float(_positive_int(n_min, "n_min"))
    hi = None if n_max is None else float(_positive_int(n_max, "n_max"))
    if hi is not None and hi < lo:
        raise SpecError(
            f"n_max must be at least n_min; got n_min={int(lo)}, n_max={int(hi)}. "
            "Swap them or widen the range."
        )
    if (
        isinstance(slack, (bool, np.bool_))
        or not isinstance(slack, (int, float, np.integer, np.floating))
        or not math.isfinite(float(slack))
        or slack < 0
    ):
        raise SpecError(
            f"slack must be a non-negative fraction such as 0.05 (within 5 % of the best "
            f"energy per token); got {slack!r}."
        )
    model = _Model(params)
    if ni.size == 0:
        return np.zeros(ni.shape, dtype=np.int64)
    uniq, inverse = np.unique(ni.ravel(), return_inverse=True)
    k = _best_integer(params, model, uniq, lo, hi)
    if slack > 0:
        k = _shortest_within_slack(model, uniq, k, lo, float(slack))
    return _as_output(k[inverse].reshape(ni.shape), n_in)


def _best_integer(
    params: Any, model: _Model, ni: NDArray[np.float64], lo: float, hi: float | None
) -> NDArray[np.float64]:
    try:
        sp = sweet_spot(params, ni, n_out_max=hi)
    except NoOptimumError as exc:
        raise NoOptimumError(
            str(exc).replace("Pass n_out_max=...", "Pass n_max=... (the longest output you allow)"),
            boundary=exc.boundary,
        ) from None
    n_star = sp.n_out
    down = np.maximum(np.floor(n_star), 1.0)
    up = np.maximum(np.ceil(n_star), 1.0)
    if hi is not None:
        down = np.minimum(down, hi)
        up = np.minimum(up, hi)
    e_down = model.energy(ni, down) / down
    e_up = model.energy(ni, up) / up
    k = np.where(e_up < e_down, up, down)
    return np.clip(k, lo, np.inf if hi is None else hi)


def _shortest_within_slack(
    model: _Model, ni: NDArray[np.float64], k: NDArray[np.float64], lo: float, slack: float
) -> NDArray[np.float64]:
    e_k = model.energy(ni, k) / k
    if np.any(e_k <= 0):
        bad = ni[e_k <= 0][0]
        raise SpecError(
            f"the model predicts non-positive energy per token ({e_k[e_k <= 0][0]:.4g} J/token) "
            f"at n_in = {bad:g}, so a slack relative to it is meaningless; check the fit "
            "(negative coefficients?) or use slack=0."
        )
    target = (1.0 + slack) * e_k

    def ok(n: NDArray[np.float64], mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
        return np.asarray(model.energy(ni[mask], n) / n <= target[mask])

    m = np.full_like(k, np.nan)
    t = model.theta
    if t is not None:
        a = t[0] * ni * ni + t[2] * ni + t[4]
        b = t[1] * ni + t[5]
        t4 = t[3]
        if t4 > 0:
            q = target - b
            disc = q * q - 4.0 * t4 * a
            with np.errstate(invalid="ignore"):
                root = (q - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * t4)
            m = np.where((a > 0) & (disc >= 0), np.clip(np.ceil(root), lo, k), np.nan)
    # check the closed form on the integers; anything it did not settle goes to bisection
    cand = np.where(np.isnan(m), k, m)
    all_mask = np.ones(ni.shape, dtype=bool)
    good = ~np.isnan(m) & ok(cand, all_mask)
    prev = np.maximum(cand - 1.0, lo)
    good &= (cand <= lo) | ~ok(prev, all_mask)
    out = np.where(good, cand, k)
    todo = ~good
    if np.any(todo):
        lo_arr = np.full(ni.shape, lo)
        start_ok = ok(lo_arr, all_mask)
        out = np.where(todo & start_ok, lo, out)
        need = todo & ~start_ok & (k > lo)
        if np.any(need):
            # last n in [lo, k) that is over the slack, then one step up
            def over(n: NDArray[np.float64], mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
                return ~ok(n, mask)

            out[need] = _bisect_last(_restrict(over, need), lo_arr[need], k[need]) + 1.0
    return out


# -------------------------------------------------------------- max_input_tokens -----
def max_input_tokens(
    params: ThetaLike,
    n_out: ArrayLike,
    *,
    budget_j: ArrayLike | None = None,
    max_j_per_token: ArrayLike | None = None,
    n_in_max: ArrayLike | None = None,
) -> Any:
    """Longest prompt [tokens] that keeps a request inside an energy budget.

    Parameters
    ----------
    params : FitResult, sequence of 6 floats (t1..t6) or mapping
        The fitted model or its theta.
    n_out : int or array_like of int
        Output lengths (``max_tokens``) [tokens].
    budget_j : float or array_like, optional
        Energy budget per request [J].
    max_j_per_token : float or array_like, optional
        Energy budget per output token [J/token], i.e. ``max_j_per_token * n_out`` per request.
        With both budgets the tighter applies.
    n_in_max : int or array_like of int, optional
        Longest prompt to consider [tokens], e.g. the context window or the prompt you have.
        Needed when the model's energy stops growing with the prompt length (``t1 < 0``, or
        ``t1 = 0`` with ``t2 n_out + t3 <= 0``), where arbitrarily long prompts would fit.

    Returns
    -------
    int or ndarray of int64
        The largest ``n_in`` in ``[1, n_in_max]`` with ``E(n_in, n_out) <= budget``; the next
        integer is over budget (or beyond ``n_in_max``). An int for scalar inputs.

    Raises
    ------
    SpecError
        No budget, a non-positive budget or length, a budget below the smallest energy any prompt
        length achieves at that ``n_out`` (the message gives that energy), or an unbounded
        answer without ``n_in_max``.

    Notes
    -----
    For the quadratic the condition is ``t1 n^2 + (t2 n_out + t3) n + (t4 n_out^2 + t5 + t6
    n_out - budget) <= 0``: with ``t1 > 0`` the answer is the floor of the larger root, with
    ``t1 = 0`` the floor of the linear root; with ``t1 < 0`` (energy eventually falling with the
    prompt, an extrapolation artefact) it is ``n_in_max`` when that fits, else the floor of the
    smaller root. Every closed-form answer is checked on the integers.

    Examples
    --------
    >>> import sweetspot as ss
    >>> from sweetspot import plan
    >>> theta = [1e-6, 2e-5, 3e-3, 4e-5, 5.0, 0.2]
    >>> n = plan.max_input_tokens(theta, 256, budget_j=100.0)
    >>> n
    3533
    >>> bool(ss.energy(theta, n, 256) <= 100.0 < ss.energy(theta, n + 1, 256))
    True
    """
    no = as_lengths(n_out, "n_out")
    budget = _budget(no, budget_j, max_j_per_token)
    hi = None if n_in_max is None else as_lengths(n_in_max, "n_in_max")
    model = _Model(params)
    shape = np.broadcast_shapes(no.shape, budget.shape, () if hi is None else hi.shape)
    no_b = np.broadcast_to(no, shape).ravel()
    b_b = np.broadcast_to(budget, shape).ravel()
    h_b = np.full(no_b.shape, np.inf) if hi is None else np.broadcast_to(hi, shape).ravel()
    k, unbounded = _largest_within(model, no_b, b_b, h_b)
    if np.any(unbounded):
        i = int(np.argmax(unbounded))
        raise SpecError(
            f"the model's energy stops growing with the prompt length at n_out = {no_b[i]:g} "
            "(t1 < 0, or t1 = 0 with t2 n_out + t3 <= 0: an extrapolation artefact of the fit) "
            "or grows so slowly that prompts of 2**40 tokens fit the budget. Pass n_in_max=... "
            "(the context window, or the prompt you have)."
        )
    if np.any(k < 1):
        i = int(np.argmax(k < 1))
        e_min, at = _min_energy(model, no_b[i], h_b[i])
        what = f"a budget of {b_b[i]:.6g} J" + (
            ""
            if max_j_per_token is None
            else " (the tighter of budget_j and max_j_per_token x n_out)"
        )
        raise SpecError(
            f"no prompt length keeps a request with n_out = {no_b[i]:g} inside {what}: the "
            f"smallest predicted energy is {e_min:.6g} J (at n_in = {at:g}). Raise the budget "
            "to at least that, or generate fewer tokens."
        )
    _warn_outside(params, "max_input_tokens", n_in=k, n_out=no_b)
    return _as_output(k.reshape(shape), np.empty(shape) if shape else 0)


def _warn_outside(
    params: Any,
    what: str,
    *,
    n_in: NDArray[np.float64] | None = None,
    n_out: NDArray[np.float64] | None = None,
) -> None:
    """ExtrapolationWarning when lengths an answer rests on lie outside the fitted range."""
    box = fitted_box(params)
    if box is None:
        return
    parts = []
    for name, values, (lo, hi) in (("n_in", n_in, box[0]), ("n_out", n_out, box[1])):
        if values is None or values.size == 0:
            continue
        out = values[(values < lo) | (values > hi)]
        if out.size:
            span = f"{out.min():g}" if out.min() == out.max() else f"{out.min():g}..{out.max():g}"
            parts.append(f"{name} {span} outside the fitted {lo:g}..{hi:g}")
    if parts:
        warnings.warn(
            f"{what}: the answer is extrapolated ({'; '.join(parts)}); the model was not "
            "fitted there.",
            ExtrapolationWarning,
            stacklevel=3,
        )


def _min_energy(model: _Model, n_out: float, n_hi: float) -> tuple[float, float]:
    """Smallest predicted energy over integer prompt lengths in [1, n_hi], and where."""
    cands = [1.0]
    t = model.theta
    if t is not None and t[0] > 0:
        v = -(t[1] * n_out + t[2]) / (2.0 * t[0])
        cands += [min(max(np.floor(v), 1.0), n_hi), min(max(np.ceil(v), 1.0), n_hi)]
    if math.isfinite(n_hi):
        cands.append(n_hi)
    c = np.asarray(cands)
    e = model.energy(c, np.full_like(c, n_out))
    i = int(np.argmin(e))
    return float(e[i]), float(c[i])


def _largest_within(
    model: _Model, no: NDArray[np.float64], budget: NDArray[np.float64], hi: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Largest integer n_in in [1, hi] with E(n_in, n_out) <= budget (0 where none), and where
    the answer is unbounded (hi = inf and arbitrarily long prompts fit). 1-D inputs."""

    def ok(n: NDArray[np.float64], mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
        return np.asarray(model.energy(n, no[mask]) <= budget[mask])

    every = np.ones(no.shape, dtype=bool)
    finite = np.isfinite(hi)
    t = model.theta
    if t is None:
        return _largest_numeric(ok, no, hi)
    a = t[0]
    b = t[1] * no + t[2]
    c = t[3] * no * no + t[4] + t[5] * no - budget
    # closed form candidate; NaN where it has none
    with np.errstate(invalid="ignore", divide="ignore"):
        if a > 0:
            disc = b * b - 4.0 * a * c
            sq = np.sqrt(np.maximum(disc, 0.0))
            r_hi = (-b + sq) / (2.0 * a)
            cand = np.where(disc >= 0, np.floor(np.minimum(r_hi, hi)), 0.0)
            unbounded = np.zeros(no.shape, dtype=bool)
        elif a == 0:
            r = np.where(b > 0, -c / np.where(b > 0, b, 1.0), np.nan)
            cand = np.where(b > 0, np.floor(np.minimum(r, hi)), np.nan)
            unbounded = ~finite & ((b < 0) | ((b == 0) & (c <= 0)))
        else:
            disc = b * b - 4.0 * a * c
            sq = np.sqrt(np.maximum(disc, 0.0))
            r_lo = (-b + sq) / (2.0 * a)  # a < 0: the smaller root
            cand = np.where(disc > 0, np.floor(np.minimum(r_lo, hi)), np.nan)
            unbounded = ~finite
    cand = np.where(unbounded, np.nan, cand)
    cand = np.where(np.isfinite(cand) & (cand < 1.0), 0.0, cand)
    # with a finite bound the bound itself wins whenever it fits
    at_hi = np.zeros(no.shape, dtype=bool)
    if np.any(finite):
        at_hi[finite] = ok(hi[finite], finite)
    cand = np.where(at_hi, hi, cand)
    # check every closed-form answer on the integers
    probe = np.where(np.isfinite(cand) & (cand >= 1.0), cand, 1.0)
    nxt = np.minimum(probe + 1.0, np.where(finite, hi, np.inf))
    settled = np.isfinite(cand) & (cand >= 1.0) & ok(probe, every)
    settled &= (probe >= hi) | ~ok(nxt, every)
    settled |= at_hi | unbounded
    out = np.where(settled, cand, np.nan)
    todo = ~settled
    if np.any(todo):
        out[todo] = _largest_exact(t, ok, no, hi, todo)
    # past 2**40 tokens the answer is beyond any context window: treat it as unbounded
    unbounded = unbounded | (~finite & (out >= _SEARCH_MAX))
    return np.where(unbounded, 0.0, out), unbounded


def _largest_exact(
    t: NDArray[np.float64],
    ok: Callable[[NDArray[np.float64], NDArray[np.bool_]], NDArray[np.bool_]],
    no: NDArray[np.float64],
    hi: NDArray[np.float64],
    todo: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Exact integer answer along the branch where the quadratic in n_in increases (bisection);
    used for cases the closed form did not settle (ties at roots, rounding, no feasible n)."""
    a = t[0]
    b = t[1] * no + t[2]
    if a > 0:
        v = -b / (2.0 * a)
        start = np.maximum(np.ceil(v), 1.0)
        # the integer minimiser is floor(v) or ceil(v) (both clipped to >= 1)
        alt = np.maximum(np.floor(v), 1.0)
    elif a < 0:
        start = np.ones_like(no)
        alt = start
    else:
        start = np.ones_like(no)
        alt = start
    start = np.minimum(start, hi)
    alt = np.minimum(alt, hi)
    res = np.zeros(no.shape)
    ok_start = np.zeros(no.shape, dtype=bool)
    ok_alt = np.zeros(no.shape, dtype=bool)
    ok_start[todo] = ok(start[todo], todo)
    ok_alt[todo] = ok(alt[todo], todo)
    base = np.where(ok_start, start, np.where(ok_alt, alt, np.nan))
    go = todo & np.isfinite(base)
    if not np.any(go):
        return res[todo]
    # the branch ends at hi, or (a < 0) at the vertex; beyond the vertex energy falls
    top = hi.copy()
    if a < 0:
        top = np.minimum(top, np.maximum(np.floor(-b / (2.0 * a)), 1.0))
    top = np.where(np.isfinite(top), top, _grow_until_over(ok, base, go))
    ok_top = np.zeros(no.shape, dtype=bool)
    ok_top[go] = ok(top[go], go)
    fin = go & ok_top
    res[fin] = top[fin]
    bis = go & ~ok_top
    if np.any(bis):
        res[bis] = _bisect_last(_restrict(ok, bis), base[bis], top[bis])
    return res[todo]


def _restrict(
    ok: Callable[[NDArray[np.float64], NDArray[np.bool_]], NDArray[np.bool_]],
    sel: NDArray[np.bool_],
) -> Callable[[NDArray[np.float64], NDArray[np.bool_]], NDArray[np.bool_]]:
    """``ok`` for the sub-array selected by ``sel`` (mask indices are relative to it)."""
    idx = np.flatnonzero(sel)

    def sub(n: NDArray[np.float64], mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
        full = np.zeros(sel.shape, dtype=bool)
        full[idx[mask]] = True
        return ok(n, full)

    return sub


def _grow_until_over(
    ok: Callable[[NDArray[np.float64], NDArray[np.bool_]], NDArray[np.bool_]],
    base: NDArray[np.float64],
    sel: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """First of base*2, base*4, ... that is over budget (capped at ``_SEARCH_MAX``)."""
    top = np.where(sel, np.maximum(base, 1.0), 1.0)
    live = sel.copy()
    while np.any(live):
        top = np.where(live, np.minimum(top * 2.0, _SEARCH_MAX), top)
        still = np.zeros(sel.shape, dtype=bool)
        still[live] = ok(top[live], live)
        live = still & (top < _SEARCH_MAX)
    return top


def _largest_numeric(
    ok: Callable[[NDArray[np.float64], NDArray[np.bool_]], NDArray[np.bool_]],
    no: NDArray[np.float64],
    hi: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Bisection for models without the quadratic form (energy assumed to grow with n_in)."""
    every = np.ones(no.shape, dtype=bool)
    ones = np.ones_like(no)
    ok_one = ok(ones, every)
    top = np.where(np.isfinite(hi), hi, _grow_until_over(ok, ones, ok_one & ~np.isfinite(hi)))
    ok_top = ok(top, every)
    unbounded = ok_one & ok_top & ~np.isfinite(hi)
    res = np.where(ok_one & ok_top, top, 0.0)
    bis = ok_one & ~ok_top
    if np.any(bis):
        res[bis] = _bisect_last(_restrict(ok, bis), ones[bis], top[bis])
    return res, unbounded


# ---------------------------------------------------------------- truncate_prompt -----
@dataclass(frozen=True, slots=True, kw_only=True)
class Truncation:
    """A prompt cut to an energy budget by :func:`truncate_prompt`.

    Attributes
    ----------
    prompt : sequence of int or str
        The kept prompt: ``tokens[start:stop]`` (same type as the input ids), or for text
        ``text[start:stop]``. The input itself when nothing was cut.
    start, stop : int
        The kept slice, in token ids (id input) or characters (text input).
    n_in_before, n_in_after : int
        Prompt length before and after [tokens].
    n_out : int
        Output length the budget was evaluated at [tokens].
    budget_j : float
        Energy budget of the request [J] (the tighter of the per-request and per-token budgets).
    energy_before_j, energy_after_j : float
        Predicted energy of the request before and after [J].
    """

    prompt: Any
    start: int
    stop: int
    n_in_before: int
    n_in_after: int
    n_out: int
    budget_j: float
    energy_before_j: float
    energy_after_j: float

    @property
    def cut(self) -> bool:
        """True when the prompt was shortened."""
        return self.n_in_after < self.n_in_before

    @property
    def saving_j(self) -> float:
        """Predicted energy saved [J]."""
        return self.energy_before_j - self.energy_after_j


def _token_ids(tokens: Any, name: str = "tokens") -> Sequence[int] | NDArray[np.integer]:
    """Validate a sequence of non-negative integer token ids."""
    if isinstance(tokens, np.ndarray):
        if tokens.ndim != 1 or tokens.dtype.kind not in "iu":
            raise SpecError(
                f"{name} must be a 1-D sequence of integer token ids; got an array of shape "
                f"{tokens.shape} and dtype {tokens.dtype}."
            )
        if tokens.size and tokens.min() < 0:
            raise SpecError(f"{name} must be non-negative token ids; got {int(tokens.min())}.")
        return tokens
    if isinstance(tokens, (bytes, bytearray, Mapping)) or not isinstance(tokens, Sequence):
        raise SpecError(
            f"{name} must be a sequence of integer token ids (list, tuple or 1-D integer array), "
            f"or text with tokenizer=...; got {type(tokens).__name__}."
        )
    for i, tok in enumerate(tokens):
        if isinstance(tok, (bool, np.bool_)) or not isinstance(tok, (int, np.integer)):
            raise SpecError(
                f"{name} must contain integer token ids only; element {i} is {tok!r} "
                f"({type(tok).__name__}). Tokenize text first, or pass the text with "
                "tokenizer=..."
            )
        if tok < 0:
            raise SpecError(f"{name} must be non-negative token ids; element {i} is {tok}.")
    return tokens


def _encoder(tokenizer: Any) -> Callable[[str], Sequence[int] | NDArray[np.integer]]:
    """A function text -> token ids from a callable, an object with ``encode`` (Hugging Face
    tokenizers, tiktoken encodings) or a Hugging Face model name (needs ``transformers``)."""
    if tokenizer is None:
        raise SpecError(
            "the prompt is text, so truncate_prompt needs tokenizer=...: a callable text -> "
            "token ids, an object with .encode (a Hugging Face tokenizer), or a Hugging Face "
            "model name. Or pass token ids instead of text."
        )
    if isinstance(tokenizer, str):
        try:
            from transformers import AutoTokenizer
        except ImportError as exc:
            raise DependencyError(
                f"tokenizer={tokenizer!r} names a Hugging Face tokenizer, which needs the "
                "'transformers' package: pip install transformers. Or pass a tokenizer object."
            ) from exc
        tokenizer = AutoTokenizer.from_pretrained(tokenizer)
    fn = getattr(tokenizer, "encode", None)
    if not callable(fn):
        fn = tokenizer if callable(tokenizer) else None
    if fn is None:
        raise SpecError(
            f"tokenizer must be callable (text -> token ids) or have an .encode method; got "
            f"{type(tokenizer).__name__}."
        )
    call = fn

    def encode(text: str) -> Sequence[int] | NDArray[np.integer]:
        ids = call(text)
        if isinstance(ids, Mapping) and "input_ids" in ids:
            ids = ids["input_ids"]
        elif hasattr(ids, "ids") and not isinstance(ids, Sequence):
            ids = ids.ids  # a `tokenizers.Encoding`
        return _token_ids(ids, "the tokenizer's output")

    return encode


def _window(length: int, keep: str, width: int) -> tuple[int, int]:
    """Slice [start, stop) of ``width`` elements of ``length`` kept by ``keep``."""
    if keep == "head":
        return 0, width
    if keep == "tail":
        return length - width, length
    start = (length - width) // 2
    return start, start + width


def truncate_prompt(
    tokens: Sequence[int] | NDArray[np.integer] | str,
    params: ThetaLike,
    n_out: int,
    *,
    budget_j: float | None = None,
    max_j_per_token: float | None = None,
    keep: Keep = "tail",
    tokenizer: Any = None,
) -> Truncation:
    """Cut a prompt to the longest contiguous slice that keeps the request inside a budget.

    Parameters
    ----------
    tokens : sequence of int, 1-D integer array, or str
        The prompt as token ids, or as text (then ``tokenizer`` is required).
    params : FitResult, sequence of 6 floats (t1..t6) or mapping
        The fitted model or its theta.
    n_out : int
        Output length (``max_tokens``) of the request [tokens].
    budget_j : float, optional
        Energy budget of the request [J].
    max_j_per_token : float, optional
        Energy budget per output token [J/token]. With both, the tighter applies.
    keep : {"tail", "head", "middle"}
        Which contiguous part to keep: the end (default; the most recent turns of a chat), the
        beginning, or a window centred on the middle (cutting both ends equally).
    tokenizer : callable, object with ``encode``, or str, optional
        For text prompts: a callable text -> token ids, an object with ``.encode`` (a Hugging
        Face tokenizer, a tiktoken encoding), or a Hugging Face model name (loaded with
        ``transformers.AutoTokenizer`` when installed). Ignored for token ids.

    Returns
    -------
    Truncation
        The kept prompt and the predicted energy before and after. A prompt already within
        budget is returned unchanged (never cut).

    Raises
    ------
    SpecError
        ``tokens`` is not a sequence of non-negative ints (or text without tokenizer), an
        empty prompt, a bad ``keep``, no budget or a non-positive one, or a budget that no
        prompt length meets at this ``n_out`` (generate fewer tokens or raise the budget).

    Notes
    -----
    Text is cut on characters: the kept text is the longest contiguous substring (at the head,
    tail or centre) whose token count is within the limit, found by bisection on its length
    with the tokenizer (about ``log2(len(text))`` calls). Token counts of a substring can
    differ by a token or two from the count inside the full text; the returned
    ``n_in_after`` is the count of the returned text itself.

    Examples
    --------
    >>> from sweetspot import plan
    >>> theta = [1e-6, 2e-5, 3e-3, 4e-5, 5.0, 0.2]
    >>> cut = plan.truncate_prompt(list(range(8000)), theta, 256, budget_j=100.0)
    >>> cut.n_in_after, cut.prompt[0], cut.prompt[-1]
    (3533, 4467, 7999)
    >>> round(cut.energy_before_j, 1), round(cut.energy_after_j, 1)
    (187.8, 100.0)
    """
    check_choice(keep, "keep", KEEPS)
    n_out_i = _positive_int(n_out, "n_out")
    if isinstance(tokens, str):
        encode = _encoder(tokenizer)
        text = tokens
        ids = encode(text)
        length = len(ids)
    else:
        ids = _token_ids(tokens)
        text = None
        length = len(ids)
    if length == 0:
        raise SpecError(
            "the prompt is empty (0 tokens); a request needs at least one prompt token."
        )
    model = _Model(params)
    budget = float(_budget(np.asarray(float(n_out_i)), budget_j, max_j_per_token))
    e_before = float(model.energy(float(length), float(n_out_i)))
    if e_before <= budget:
        stop = len(text) if text is not None else length
        return Truncation(
            prompt=tokens,
            start=0,
            stop=stop,
            n_in_before=length,
            n_in_after=length,
            n_out=n_out_i,
            budget_j=budget,
            energy_before_j=e_before,
            energy_after_j=e_before,
        )
    limit = int(max_input_tokens(params, n_out_i, budget_j=budget, n_in_max=length))
    if text is None:
        start, stop = _window(length, keep, limit)
        kept: Any = tokens[start:stop]
        n_after = stop - start
    else:
        start, stop = _text_window(text, keep, limit, encode)
        kept = text[start:stop]
        n_after = len(encode(kept))
    e_after = float(model.energy(float(n_after), float(n_out_i)))
    if e_after > budget:
        raise SpecError(
            f"cutting the text to {n_after} tokens gives {e_after:.6g} J, still over the budget "
            f"of {budget:.6g} J: the model's energy does not grow with the prompt length here. "
            "Pass token ids instead of text, or check the fit."
        )
    return Truncation(
        prompt=kept,
        start=start,
        stop=stop,
        n_in_before=length,
        n_in_after=n_after,
        n_out=n_out_i,
        budget_j=budget,
        energy_before_j=e_before,
        energy_after_j=e_after,
    )


def _text_window(
    text: str, keep: str, limit: int, encode: Callable[[str], Sequence[int] | NDArray[np.integer]]
) -> tuple[int, int]:
    """Longest window of ``text`` (by ``keep``) whose token count is at most ``limit``."""
    lo, hi = 0, len(text)  # widths: lo fits (empty text), hi does not (the full text)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        s, e = _window(len(text), keep, mid)
        if len(encode(text[s:e])) <= limit:
            lo = mid
        else:
            hi = mid
    return _window(len(text), keep, lo)


# ------------------------------------------------------------------------- workloads -----
@dataclass(frozen=True, slots=True, kw_only=True)
class WorkloadEnergy:
    """Predicted energy of a request mix.

    Attributes
    ----------
    energy_j : ndarray
        Energy of each request [J].
    n_requests : int
    total_j, mean_j, p50_j, p90_j, p99_j : float
        Total, mean and percentiles of the energy per request [J].
    n_in_total, n_out_total : int
        Prompt and output tokens of all requests [tokens].
    """

    energy_j: NDArray[np.float64]
    n_requests: int
    total_j: float
    mean_j: float
    p50_j: float
    p90_j: float
    p99_j: float
    n_in_total: int
    n_out_total: int

    @property
    def j_per_output_token(self) -> float:
        """Energy per generated token over the whole mix [J/token]."""
        return self.total_j / self.n_out_total

    def to_dict(self) -> dict[str, float | int]:
        """The summary numbers (without the per-request array), JSON-safe."""
        return {
            "n_requests": self.n_requests,
            "total_j": self.total_j,
            "mean_j": self.mean_j,
            "p50_j": self.p50_j,
            "p90_j": self.p90_j,
            "p99_j": self.p99_j,
            "n_in_total": self.n_in_total,
            "n_out_total": self.n_out_total,
            "j_per_output_token": self.j_per_output_token,
        }


def _mix(n_in: ArrayLike, n_out: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    ni = as_lengths(n_in, "n_in")
    no = as_lengths(n_out, "n_out")
    try:
        ni, no = np.broadcast_arrays(ni, no)
    except ValueError:
        raise SpecError(
            f"n_in and n_out must have the same length (one pair per request); got "
            f"{ni.shape} and {no.shape}."
        ) from None
    ni, no = ni.ravel(), no.ravel()
    if ni.size == 0:
        raise SpecError("the request mix is empty; pass at least one (n_in, n_out) pair.")
    return ni, no


def _summarise(e: NDArray[np.float64], ni: NDArray[np.float64], no: NDArray[np.float64]) -> Any:
    p50, p90, p99 = np.percentile(e, [50, 90, 99])
    return WorkloadEnergy(
        energy_j=e,
        n_requests=int(e.size),
        total_j=float(e.sum()),
        mean_j=float(e.mean()),
        p50_j=float(p50),
        p90_j=float(p90),
        p99_j=float(p99),
        n_in_total=int(ni.sum()),
        n_out_total=int(no.sum()),
    )


def _warn_mix(params: Any, ni: NDArray[np.float64], no: NDArray[np.float64], e: NDArray) -> None:
    box = fitted_box(params)  # a FitResult or a BoundFit; None for a bare theta
    if box is not None:
        (lo_i, hi_i), (lo_o, hi_o) = box
        out = (ni < lo_i) | (ni > hi_i) | (no < lo_o) | (no > hi_o)
        if np.any(out):
            warnings.warn(
                f"{int(out.sum())} of {out.size} requests ({100 * out.mean():.1f} %) lie "
                f"outside the fitted range (n_in {lo_i:g}..{hi_i:g}, n_out {lo_o:g}.."
                f"{hi_o:g}); their energies are extrapolated.",
                ExtrapolationWarning,
                stacklevel=3,
            )
    if np.any(e <= 0):
        warnings.warn(
            f"the model predicts non-positive energy for {int((e <= 0).sum())} requests "
            "(a fit with negative coefficients, used outside its range); totals include them.",
            NegativeCoefficientWarning,
            stacklevel=3,
        )


def workload_energy(params: ThetaLike, n_in: ArrayLike, n_out: ArrayLike) -> WorkloadEnergy:
    """Predicted energy of a request mix, one ``(n_in, n_out)`` pair per request.

    Parameters
    ----------
    params : FitResult, sequence of 6 floats (t1..t6) or mapping
    n_in, n_out : array_like of int
        Prompt and output lengths of the requests [tokens], e.g. the ``n_in`` and ``n_out``
        columns of :func:`sweetspot.io.read_azure_trace`.

    Returns
    -------
    WorkloadEnergy

    Warns
    -----
    ExtrapolationWarning
        Requests outside the fitted range of a FitResult (says how many).
    NegativeCoefficientWarning
        The model predicts non-positive energy for some requests.

    Examples
    --------
    >>> from sweetspot import plan
    >>> w = plan.workload_energy([0, 0, 0, 1e-3, 4.0, 0.1], [100, 200], [50, 100])
    >>> round(w.total_j, 3), round(w.j_per_output_token, 4)
    (35.5, 0.2367)
    """
    ni, no = _mix(n_in, n_out)
    model = _Model(params)
    e = model.energy(ni, no)
    _warn_mix(params, ni, no, e)
    return _summarise(e, ni, no)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySavings:
    """What a generation policy changes and saves on a request mix.

    Attributes
    ----------
    policy : str
        ``"cap"``, ``"truncate"`` or ``"both"``.
    before, after : WorkloadEnergy
        The mix as given and under the policy.
    n_in_after, n_out_after : ndarray of int64
        Prompt and output lengths under the policy [tokens].
    capped : ndarray of bool
        Requests whose output the policy shortens (generated more than the cap).
    truncated : ndarray of bool
        Requests whose prompt the policy shortens.
    over_budget : ndarray of bool
        Requests still over the budget after the policy: no prompt length fits at their
        output length (left unchanged by truncation). All False for ``"cap"``.
    """

    policy: str
    before: WorkloadEnergy
    after: WorkloadEnergy
    n_in_after: NDArray[np.int64]
    n_out_after: NDArray[np.int64]
    capped: NDArray[np.bool_]
    truncated: NDArray[np.bool_]
    over_budget: NDArray[np.bool_]

    @property
    def changed(self) -> NDArray[np.bool_]:
        """Requests the policy changes (output capped or prompt truncated)."""
        return self.capped | self.truncated

    @property
    def fraction_changed(self) -> float:
        """Fraction of requests the policy changes."""
        return float(self.changed.mean())

    @property
    def saving_j(self) -> float:
        """Total energy saved [J]."""
        return self.before.total_j - self.after.total_j

    @property
    def saving_fraction(self) -> float:
        """Total energy saved as a fraction of the energy before."""
        return self.saving_j / self.before.total_j

    @property
    def output_tokens_removed_fraction(self) -> float:
        """Fraction of the generated tokens the policy removes (what users no longer get)."""
        return 1.0 - self.after.n_out_total / self.before.n_out_total

    def to_dict(self) -> dict[str, Any]:
        """The summary numbers, JSON-safe."""
        return {
            "policy": self.policy,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "saving_j": self.saving_j,
            "saving_fraction": self.saving_fraction,
            "n_changed": int(self.changed.sum()),
            "fraction_changed": self.fraction_changed,
            "n_capped": int(self.capped.sum()),
            "n_truncated": int(self.truncated.sum()),
            "n_over_budget": int(self.over_budget.sum()),
            "output_tokens_removed_fraction": self.output_tokens_removed_fraction,
        }


def policy_savings(
    params: ThetaLike,
    n_in: ArrayLike,
    n_out: ArrayLike,
    *,
    policy: Policy = "cap",
    budget_j: float | None = None,
    max_j_per_token: float | None = None,
    n_min: int = 1,
    n_max: int | None = None,
    slack: float = 0.0,
) -> PolicySavings:
    """Energy a generation policy would save on a request mix, and how many requests it changes.

    Parameters
    ----------
    params : FitResult, sequence of 6 floats (t1..t6) or mapping
    n_in, n_out : array_like of int
        Prompt and generated lengths of the requests [tokens] (e.g. an Azure trace).
    policy : {"cap", "truncate", "both"}
        ``"cap"``: send ``max_tokens = recommend_max_tokens(n_in, n_min=, n_max=, slack=)``, so a
        request that generated more is cut to the cap and one that generated less is unchanged.
        ``"truncate"``: cut each prompt to the longest length within the budget at its output
        length (:func:`max_input_tokens` with ``n_in_max = n_in``), assuming the output length
        does not depend on the prompt. ``"both"``: cap first, then truncate at the capped
        length.
    budget_j, max_j_per_token : float, optional
        The budget of ``"truncate"`` and ``"both"`` [J per request, J per output token].
    n_min, n_max, slack
        Passed to :func:`recommend_max_tokens` by ``"cap"`` and ``"both"``.

    Returns
    -------
    PolicySavings

    Raises
    ------
    SpecError
        Unknown policy, a truncating policy without a budget, a budget with ``"cap"`` (it would
        be ignored), bad lengths.
    NoOptimumError
        ``"cap"`` on a model without an interior optimum for some prompt length and no
        ``n_max``.

    Notes
    -----
    The energies are model predictions for the lengths of the trace. A capped answer is a
    *different* answer: the saving comes partly from generating fewer tokens, which
    :attr:`PolicySavings.output_tokens_removed_fraction` reports.
    """
    check_choice(policy, "policy", POLICIES)
    has_budget = budget_j is not None or max_j_per_token is not None
    if policy == "cap" and has_budget:
        raise SpecError(
            "policy='cap' caps max_tokens at the sweet spot and uses no energy budget; pass "
            "policy='truncate' or 'both' to apply budget_j / max_j_per_token."
        )
    if policy != "cap" and not has_budget:
        raise SpecError(
            f"policy={policy!r} truncates prompts to a budget; give budget_j=... [J per "
            "request] or max_j_per_token=... [J per output token]."
        )
    ni, no = _mix(n_in, n_out)
    model = _Model(params)
    e_before = model.energy(ni, no)
    _warn_mix(params, ni, no, e_before)
    no_after = no
    if policy in ("cap", "both"):
        cap = np.asarray(
            recommend_max_tokens(params, ni, n_min=n_min, n_max=n_max, slack=slack), float
        )
        no_after = np.minimum(no, cap)
    ni_after = ni
    over = np.zeros(ni.shape, dtype=bool)
    if policy in ("truncate", "both"):
        budget = _budget(no_after, budget_j, max_j_per_token)
        budget = np.broadcast_to(budget, ni.shape).astype(float)
        k, _ = _largest_within(model, no_after, budget, ni)
        over = k < 1
        ni_after = np.where(over, ni, k)
    e_after = model.energy(ni_after, no_after)
    return PolicySavings(
        policy=policy,
        before=_summarise(e_before, ni, no),
        after=_summarise(e_after, ni_after, no_after),
        n_in_after=ni_after.astype(np.int64),
        n_out_after=no_after.astype(np.int64),
        capped=no_after < no,
        truncated=ni_after < ni,
        over_budget=over,
    )


# ---------------------------------------------------------------------------- figure -----
def format_joules(x: float) -> str:
    """Energy [J] as text with a readable SI prefix, e.g. ``118.4 kJ`` (4 significant digits).

    >>> format_joules(118_400.0)
    '118.4 kJ'
    """
    for scale, unit in ((1e9, "GJ"), (1e6, "MJ"), (1e3, "kJ")):
        if abs(x) >= scale:
            return f"{x / scale:.4g} {unit}"
    return f"{x:.4g} J"


def plot_savings(savings: PolicySavings, *, title: str | None = None) -> Figure:
    """Energy per request before and after a policy: histogram and ECDF, log energy axis.

    Returns a :class:`matplotlib.figure.Figure` built without pyplot (no global state; save it
    with ``fig.savefig("out.png")``).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is a core dependency
        raise DependencyError("plot_savings needs matplotlib: pip install matplotlib") from exc
    before = savings.before.energy_j
    after = savings.after.energy_j
    pos = np.concatenate([before, after])
    pos = pos[pos > 0]
    if pos.size == 0:
        raise SpecError("no request has a positive predicted energy; nothing to plot.")
    # fixed margins rather than a layout engine: it keeps `sweetspot workload --plot` fast
    fig = Figure(figsize=(10.0, 4.4))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.86, wspace=0.22)
    ax_h, ax_c = fig.subplots(1, 2)
    bins = np.geomspace(pos.min(), pos.max() * 1.0001, 60)
    labels = (
        f"before (mean {format_joules(savings.before.mean_j)})",
        f"after {savings.policy} (mean {format_joules(savings.after.mean_j)})",
    )
    fills = (False, True)
    for data, label, colour, filled in zip(
        (before, after), labels, ("tab:gray", "tab:green"), fills, strict=True
    ):
        d = data[data > 0]
        if filled:
            ax_h.hist(d, bins=bins, color=colour, label=label, histtype="stepfilled", alpha=0.45)
        else:
            ax_h.hist(d, bins=bins, color=colour, label=label, histtype="step", lw=1.4)
        xs = np.sort(d)
        ys = np.arange(1, xs.size + 1) / xs.size
        if xs.size > 4000:  # thin the ECDF to ~4000 steps (invisible at figure resolution)
            keep = np.unique(np.linspace(0, xs.size - 1, 4000).astype(int))
            xs, ys = xs[keep], ys[keep]
        ax_c.step(xs, ys, where="post", color=colour, label=label)
    for ax in (ax_h, ax_c):
        ax.set_xscale("log")
        ax.set_xlabel("energy per request [J]")
        ax.grid(True, which="major", alpha=0.3)
    ax_h.set_ylabel("requests [count]")
    ax_h.legend(loc="upper left", fontsize="small")
    ax_c.set_ylabel("fraction of requests with energy <= x")
    ax_c.set_ylim(0.0, 1.0)
    for q, dash, name in ((0.5, ":", "p50"), (0.99, "--", "p99")):
        ax_c.axhline(q, color="k", lw=0.6, ls=dash)
        ax_c.annotate(
            name,
            (0.0, q),
            xycoords=("axes fraction", "data"),
            xytext=(3, -10),
            textcoords="offset points",
            fontsize="small",
        )
    ax_c.legend(loc="lower right", fontsize="small")
    head = (
        f"{savings.before.n_requests} requests; saving {100 * savings.saving_fraction:.1f} % "
        f"of energy, {100 * savings.fraction_changed:.1f} % of requests changed, "
        f"{100 * savings.output_tokens_removed_fraction:.1f} % of output tokens removed"
    )
    fig.suptitle(f"{title}\n{head}" if title else head, fontsize="medium")
    return fig
